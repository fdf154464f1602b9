//! The invariants' cost over a long trace. `no_key_material_in_trace` searches each event
//! for every text form of every key the run held; it must cost about the same per event for
//! one key as for ten thousand (the automata are merged in levels, see its doc), and its
//! memory must not grow with the trace (it keeps none of it).
//!
//! `cargo bench -p authzlab --bench checks`

use authzlab::check::invariants::NoKeyMaterialInTrace;
use authzlab::check::Check;
use authzlab::trace::{Event, Happening};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn key_material(c: &mut Criterion) {
    let events: Vec<(Event, Happening, String)> = (0..100_000u64)
        .map(|n| {
            let happening = Happening::VoicemailLoginAccepted {
                client: format!("jabber-{}", n % 100),
                user: format!("user-{}", n % 100),
                tid: format!("{n:032x}"),
                exp: 1_767_571_200 + n,
                proxy_ms: None,
                fuel: None,
            };
            let event = Event {
                t_ms: n * 100,
                node: "unity".to_string(),
                kind: happening.kind().to_string(),
                fields: happening.fields(),
            };
            let line = event.to_line();
            (event, happening, line)
        })
        .collect();
    let bytes: usize = events.iter().map(|(_, _, line)| line.len() + 1).sum();
    let mut group = c.benchmark_group("no_key_material_in_trace");
    group.sample_size(10).throughput(Throughput::Bytes(bytes as u64));
    for keys in [1usize, 100, 10_000] {
        let mut check = NoKeyMaterialInTrace::default();
        // Three text forms per key, learned one key at a time as a run regenerates them.
        for key in 0..keys {
            let forms: Vec<String> = (0..3).map(|form| format!("{:064x}", key * 3 + form)).collect();
            check.learn_secrets(&forms);
        }
        group.bench_with_input(BenchmarkId::from_parameter(keys), &events, |b, events| {
            b.iter(|| {
                for (event, happening, line) in events {
                    check.observe(event, happening, line);
                }
                assert!(check.outcome().held);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, key_material);
criterion_main!(benches);
