//! Wall time of whole scenario runs: turmoil steps, HTTP over simulated TCP, RSA signing and
//! the Unity validator component, for the shipped scenarios (6 h and 5 h simulated at 100 ms
//! ticks, 4 to 5 hosts).
//!
//! `cargo bench -p authzlab --bench scenario`

use std::path::PathBuf;

use authzlab::cluster;
use authzlab::scenario::Scenario;
use authzlab_host::{Limits, PluginHost};
use criterion::{criterion_group, criterion_main, Criterion};

fn scenarios(c: &mut Criterion) {
    let plugins = PluginHost::new(Limits::default(), 0).unwrap();
    let mut group = c.benchmark_group("scenario");
    group.sample_size(10);
    for name in ["signing-key-regenerated.toml", "encryption-key-regenerated.toml"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
        let scenario = Scenario::load(&path).unwrap();
        group.bench_function(name.trim_end_matches(".toml"), |b| {
            b.iter(|| cluster::run(&scenario, scenario.seed, &plugins).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, scenarios);
criterion_main!(benches);
