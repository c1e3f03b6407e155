//! Configuration parsing and validation: arbitrary bytes as the plugin
//! configuration. Beyond "no panic": the core accepts exactly what the
//! reference validator (`bucket_cors_fuzz::json`, written from spec §1)
//! accepts; a refusal names at least one error and is deterministic; no
//! accepted wildcard pattern matches every host under one label (a probe
//! independent of the label rule); and probe requests against an accepted
//! configuration, read as the reference model's configuration, get the
//! decisions the reference model (`bucket_cors_spec::reference`) gives.

#![no_main]

use bucket_cors_core::Policy;
use bucket_cors_fuzz::json::{model, origins_of, ref_config, too_broad_probe};
use bucket_cors_fuzz::{check_request, Lines};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let got = Policy::from_json(data);
    let want = ref_config(data);
    let text = String::from_utf8_lossy(data);
    match (&got, &want) {
        (Ok(_), Err(why)) => panic!("accepted, but spec §1 refuses it ({why}):\n{text}"),
        (Err(e), Ok(())) => panic!("refused, but spec §1 accepts it:\n{e}\nconfiguration:\n{text}"),
        _ => {}
    }
    let policy = match got {
        Err(e) => {
            assert!(!e.is_empty(), "refused without an error");
            for x in e.iter() {
                assert!(
                    !x.kind.to_string().is_empty(),
                    "error without a message: {x:?}"
                );
            }
            assert!(!e.to_string().is_empty());
            assert_eq!(
                Policy::from_json(data).unwrap_err(),
                e,
                "errors not deterministic"
            );
            return;
        }
        Ok(p) => p,
    };

    let origins = origins_of(data);
    for o in &origins {
        if let Some(probe) = too_broad_probe(o) {
            panic!("accepted AllowedOrigin {o:?} matches the attacker's {probe:?}\n{text}");
        }
    }

    let config = model(data).expect("an accepted configuration reads as the reference model's");
    // A few probe requests: every bucket (and one unlisted), origins derived
    // from the patterns, a preflight and an actual request each.
    let mut buckets = vec!["zz-unlisted".to_string()];
    buckets.extend(config.buckets.iter().take(3).map(|(n, _)| n.clone()));
    let upstream: Lines = vec![
        (
            "access-control-allow-origin".into(),
            b"https://upstream.example".to_vec(),
        ),
        ("access-control-allow-credentials".into(), b"true".to_vec()),
        ("vary".into(), b"Accept-Encoding".to_vec()),
    ];
    for bucket in &buckets {
        for o in origins.iter().take(3) {
            let origin = o.replacen('*', "x", 1).into_bytes();
            for (method, acrm) in [("OPTIONS", Some("GET")), ("PUT", None)] {
                let mut lines: Lines = vec![
                    (":method".into(), method.as_bytes().to_vec()),
                    (
                        ":authority".into(),
                        format!("{bucket}.s3.test").into_bytes(),
                    ),
                    (":path".into(), format!("/{bucket}/k").into_bytes()),
                    ("origin".into(), origin.clone()),
                    (
                        "access-control-request-headers".into(),
                        b"content-type".to_vec(),
                    ),
                ];
                if let Some(m) = acrm {
                    lines.push((
                        "access-control-request-method".into(),
                        m.as_bytes().to_vec(),
                    ));
                }
                check_request(&policy, &config, &lines, &upstream);
            }
        }
    }
});
