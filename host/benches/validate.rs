//! Per-call cost of validating one token: the native reference validator, and the
//! unity-connection component through the host (instance reused, keyring import, fuel on).
//! The tokens are the committed conformance vectors, so the figures are for real AuthZ tokens.
//!
//! `cargo bench -p authzlab-host --bench validate`

use std::path::PathBuf;

use authzlab_host::vectors::Vectors;
use authzlab_host::{reference, Limits, PluginHost};
use criterion::{criterion_group, criterion_main, Criterion};

fn vectors() -> Vectors {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/unity-connection.json");
    Vectors::load(&path).expect("the committed vectors load")
}

fn validate(c: &mut Criterion) {
    let vectors = vectors();
    let host = PluginHost::new(Limits::default(), 0).unwrap();
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let mut plugin = host.load(artifact.name, artifact.bytes).unwrap();
    for name in ["valid-access-token", "tampered-signature", "unknown-signing-kid", "non-base64"] {
        let case = vectors.case(name).expect("the case exists");
        let request = case.request();
        c.bench_function(&format!("native/{name}"), |b| {
            b.iter(|| reference::validate(&vectors.keyring, &request))
        });
        c.bench_function(&format!("component/{name}"), |b| {
            b.iter(|| plugin.validate(vectors.keyring.clone(), &request))
        });
    }
    let valid = vectors.case("valid-access-token").unwrap().request();
    let _ = plugin.validate(vectors.keyring.clone(), &valid);
    println!("fuel for one valid access token: {}", plugin.last_fuel_used());
}

criterion_group!(benches, validate);
criterion_main!(benches);
