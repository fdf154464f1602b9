//! A misbehaving validator, for the host's fault-isolation and sandbox tests.
//!
//! The token text chooses the behaviour: `spin` loops forever, `grow` allocates without
//! bound, `trap` aborts, `huge` answers with a 4 MiB rejection, `keyring-loop` asks the host to
//! verify a 64 KiB input without end (spending the host's time, not its own fuel); `clock` and
//! `random` report what WASI's wall clock and random source
//! give the guest, as `denied(...)`; `panic` fails an `assert!`, `log <text>` writes a line at
//! each level and one to stderr (the presented token among them), `log-flood` writes 1,000 lines.
//! Anything else is refused as `denied("well-behaved")`, so
//! a test can tell that the host replaced the instance and serves the next call.

use authzlab_validator_sdk::{export, log, Claims, Guest, PluginInfo, Rejection, Request};

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
            "keyring-loop" => {
                use authzlab_validator_sdk::bindings::authzlab::validator::keyring;
                let input = vec![b'a'; 64 << 10];
                loop {
                    let _ = std::hint::black_box(keyring::verify_rs256("any", &input, &[0u8; 256]));
                }
            }
            // Four MiB back through the contract: the host must not take it.
            "huge" => Err(Rejection::Denied("x".repeat(4 << 20))),
            "clock" => {
                let since_epoch = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_secs())
                    .unwrap_or(0);
                Err(Rejection::Denied(format!("clock {since_epoch}")))
            }
            "random" => {
                let mut map = std::collections::HashMap::new();
                map.insert(1u8, 1u8);
                // std's HashMap seeds itself from wasi:random; its hasher state shows it.
                let state = std::hash::BuildHasher::hash_one(map.hasher(), 42u64);
                Err(Rejection::Denied(format!("random {state:016x}")))
            }
            "panic" => {
                assert!(req.consumer == "nobody", "consumer {} is not served here", req.consumer);
                Err(Rejection::Denied("unreachable".into()))
            }
            "log-flood" => {
                for n in 0..1_000 {
                    log::debug(&format!("line {n}"));
                }
                Err(Rejection::Denied("flooded".into()))
            }
            token if token.starts_with("log ") => {
                log::debug("checking");
                log::info(&format!("presented {token}"));
                log::warn("bell \u{7} and escape \u{1b}[31m");
                log::error("giving up");
                eprintln!("to stderr: {}", &token[4..]);
                Err(Rejection::Denied("logged".into()))
            }
            _ => Err(Rejection::Denied("well-behaved".into())),
        }
    }
}

export!(Faulty);
