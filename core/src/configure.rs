//! The configure flow both glues run on a plugin configuration as their host
//! delivered it: compile it, write the lines operators (and the operations
//! suite) read, and count a refusal. The glue only hands over the bytes and
//! keeps the policy.

use crate::{Counter, Policy};

/// Compiles `json` (empty when the host gave none). On success logs the
/// bucket count and the lints (warnings: lints never refuse, docs/spec.md §6);
/// on refusal logs every error and counts [`Counter::ConfigInvalid`] through
/// `count`, and the host keeps its previous configuration or refuses to start.
pub fn configure(json: &[u8], count: impl FnOnce(Counter)) -> Option<Policy> {
    let policy = compile_logged(json);
    if policy.is_none() {
        count(Counter::ConfigInvalid);
    }
    policy
}

fn compile_logged(json: &[u8]) -> Option<Policy> {
    if json.is_empty() {
        log::error!(
            "invalid plugin configuration: none given; configure at least {{\"buckets\": {{}}}}"
        );
        return None;
    }
    match Policy::from_json(json) {
        Ok(policy) => {
            log::info!("configured {} buckets", policy.bucket_count());
            for line in policy.lint_log_lines() {
                log::warn!("{line}");
            }
            Some(policy)
        }
        Err(errors) => {
            log::error!(
                "invalid plugin configuration, {} errors; refused as a whole",
                errors.len()
            );
            for e in errors.iter() {
                log::error!("invalid plugin configuration: {e}");
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(json: &[u8]) -> (bool, Vec<Counter>) {
        let mut counted = Vec::new();
        let policy = configure(json, |c| counted.push(c));
        (policy.is_some(), counted)
    }

    #[test]
    fn a_valid_configuration_is_compiled_and_counts_nothing() {
        assert_eq!(counted(br#"{"buckets": {}}"#), (true, vec![]));
    }

    #[test]
    fn a_refused_or_missing_configuration_counts_config_invalid_once() {
        let refused = br#"{"buckets": {"b": {"CORSRule": [{"AllowedOrigin": []}]}}}"#;
        assert_eq!(counted(refused), (false, vec![Counter::ConfigInvalid]));
        assert_eq!(counted(b""), (false, vec![Counter::ConfigInvalid]));
        assert_eq!(counted(b"{"), (false, vec![Counter::ConfigInvalid]));
    }
}
