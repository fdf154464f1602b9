//! A misbehaving validator, for the host's fault-isolation tests.
//!
//! The token text chooses the fault: `spin` loops forever, `grow` allocates without bound,
//! `trap` hits `unreachable`. Anything else is refused as `denied("well-behaved")`, so a test
//! can tell that the host replaced the instance and serves the next call.

use authzlab_validator_sdk::{export, Claims, Guest, PluginInfo, Rejection, Request};

struct Faulty;

impl Guest for Faulty {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "faulty".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "test-fixture".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        match req.token.as_str() {
            "spin" => {
                let mut counter: u64 = 0;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => std::process::abort(),
            _ => Err(Rejection::Denied("well-behaved".into())),
        }
    }
}

export!(Faulty);
