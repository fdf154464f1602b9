//! The invariants' cost over a long trace. `no_key_material_in_trace` searches every text
//! form of every key the run held; with one search per key, a run that regenerated keys
//! 10,000 times read its trace 30,000 times. It must now cost about the same for one key as
//! for ten thousand: one pass over the trace.
//!
//! `cargo bench -p authzlab --bench checks`

use std::collections::BTreeMap;

use authzlab::check::invariants::no_key_material_in_trace;
use authzlab::trace::{to_jsonl, Event};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn key_material(c: &mut Criterion) {
    let events: Vec<Event> = (0..100_000u64)
        .map(|n| Event {
            t_ms: n * 100,
            node: "unity".to_string(),
            kind: "voicemail-login-accepted".to_string(),
            fields: BTreeMap::from([
                ("client".to_string(), format!("jabber-{}", n % 100).into()),
                ("tid".to_string(), format!("{n:032x}").into()),
                ("exp".to_string(), (1_767_571_200 + n).into()),
            ]),
        })
        .collect();
    let jsonl = to_jsonl(&events);
    let mut group = c.benchmark_group("no_key_material_in_trace");
    group.sample_size(10).throughput(Throughput::Bytes(jsonl.len() as u64));
    for keys in [1usize, 100, 10_000] {
        // Three text forms per key, as the publisher records them.
        let secrets: Vec<String> = (0..keys * 3).map(|n| format!("{n:064x}")).collect();
        group.bench_with_input(BenchmarkId::from_parameter(keys), &secrets, |b, secrets| {
            b.iter(|| assert!(no_key_material_in_trace(&jsonl, secrets).held))
        });
    }
    group.finish();
}

criterion_group!(benches, key_material);
criterion_main!(benches);
