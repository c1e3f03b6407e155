//! A bucket's rules document (docs/spec.md §7): arbitrary bytes as the S3 or
//! OSS XML a store returns or a tenant PUTs. Beyond "no panic" (nothing a
//! hostile document nests, references or repeats may crash or hang the
//! reader): the result is deterministic; every error has a message; a
//! document refused for its shape is refused by the compile too, with those
//! errors first; and a document of the right shape is judged exactly as the
//! same rules under a bucket of the plugin configuration are: accepted by
//! both (then by the spec's reference validator too, with the same lints)
//! or refused by both with the same errors, named without the bucket.

#![no_main]

use bucket_cors_core::{ConfigErrors, Policy, RulesDocument, StoreRules};
use bucket_cors_fuzz::json::ref_config;
use libfuzzer_sys::fuzz_target;

/// The bucket the rules are put under in the plugin configuration.
const BUCKET: &str = "bucket \"b\" ";

fn lines(errors: &ConfigErrors) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

fuzz_target!(|data: &[u8]| {
    let compiled = StoreRules::from_xml(data, None);
    let again = StoreRules::from_xml(data, None);
    match (&compiled, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a.rule_count(), b.rule_count(), "not deterministic"),
        (Err(a), Err(b)) => assert_eq!(a, b, "errors not deterministic"),
        _ => panic!("accepted once, refused once"),
    }
    if let Err(e) = &compiled {
        assert!(!e.is_empty(), "refused without an error");
        for x in e.iter() {
            assert!(
                !x.kind.to_string().is_empty(),
                "error without a message: {x:?}"
            );
        }
    }
    let document = match RulesDocument::from_xml(data) {
        Ok(document) => document,
        Err(shape) => {
            let all = compiled.expect_err("a shape error, yet compiled");
            assert!(
                all.0.starts_with(&shape.0),
                "the shape errors do not come first:\n{shape}\n--- of ---\n{all}"
            );
            return;
        }
    };
    let cors = serde_json::to_value(&document).expect("a read document is JSON");
    let config = serde_json::json!({"buckets": {"b": cors}}).to_string();
    let text = String::from_utf8_lossy(data);
    match (&compiled, Policy::from_json(config.as_bytes())) {
        (Ok(rules), Ok(policy)) => {
            if let Err(why) = ref_config(config.as_bytes()) {
                panic!("accepted, but spec §1 refuses the rules ({why}):\n{text}");
            }
            let document: Vec<String> = rules.lints().iter().map(ToString::to_string).collect();
            let configuration: Vec<String> = policy
                .lints()
                .iter()
                .map(|l| l.to_string().replacen(BUCKET, "", 1))
                .collect();
            assert_eq!(document, configuration, "lints differ:\n{text}");
        }
        (Err(document), Err(configuration)) => {
            let configuration: Vec<String> = lines(&configuration)
                .iter()
                .map(|l| l.replacen(BUCKET, "", 1))
                .collect();
            assert_eq!(lines(document), configuration, "errors differ:\n{text}");
        }
        (Ok(_), Err(e)) => panic!("the document is accepted, the same rules refused:\n{e}\n{text}"),
        (Err(e), Ok(_)) => panic!("the document is refused, the same rules accepted:\n{e}\n{text}"),
    }
});
