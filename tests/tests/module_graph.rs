//! The code's shape: no two modules import each other; and only `sim/src/bench/` reads a
//! wall clock or draws unseeded randomness (docs/architecture.md "Determinism").
//!
//! No two modules import each other. Two files that each reach into the
//! other are one concept split in two, or two concepts tangled; either way a reader cannot
//! learn one without the other. Checked from the source: every `crate::…` path a file names
//! is an edge to the deepest module it reaches; a module and its own ancestors are one
//! family (a parent declares its children) and do not count.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file under `root` as its module path (`cluster::build`, `` for `lib.rs`).
fn modules(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(root, &path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            out.insert(parts.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The module paths a file's code names through `crate::` (comments left out).
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim_start).filter(|line| !line.starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let path: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
            if !path.is_empty() {
                out.insert(path.trim_end_matches(':').to_string());
            }
            // `crate::{a::b, c}`: each item of the group.
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(
                    group.split(',').map(|item| item.trim().split(" as ").next().unwrap().to_string()),
                );
            }
        }
    }
    out
}

/// The deepest module `path` reaches.
fn module_of(path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|candidate| known.contains_key(candidate))
}

fn family(a: &str, b: &str) -> bool {
    a.is_empty() || b.is_empty() || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

#[test]
fn no_two_modules_import_each_other() {
    let repo = common::repo();
    let mut found = Vec::new();
    for root in ["sim/src", "host/src"] {
        let root = repo.join(root);
        let mut known = BTreeMap::new();
        modules(&root, &root, &mut known);
        assert!(known.len() > 10, "{} modules under {}", known.len(), root.display());
        let mut edges = BTreeSet::new();
        for (module, text) in &known {
            for path in named(text) {
                if let Some(target) = module_of(&path, &known) {
                    if target != *module && !family(module, &target) {
                        edges.insert((module.clone(), target));
                    }
                }
            }
        }
        assert!(edges.len() > 10, "{} edges: is the search still reading the code?", edges.len());
        for (a, b) in &edges {
            if a < b && edges.contains(&(b.clone(), a.clone())) {
                found.push(format!("{}: {a} <-> {b}", root.display()));
            }
        }
    }
    assert!(found.is_empty(), "modules that import each other:\n{}", found.join("\n"));
}

/// What would make a run depend on when or where it ran: the wall clock, and randomness not
/// drawn from the scenario's seed.
const NOT_FROM_THE_SEED: &[&str] =
    &["Instant::now", "SystemTime", "thread_rng", "OsRng", "rand::random", "getrandom", "from_entropy"];

#[test]
fn only_the_bench_reads_a_wall_clock_or_unseeded_randomness_in_sim() {
    let root = common::repo().join("sim/src");
    let mut known = BTreeMap::new();
    modules(&root, &root, &mut known);
    let code = |text: &str| -> Vec<String> {
        text.lines().map(str::trim_start).filter(|line| !line.starts_with("//")).map(str::to_string).collect()
    };
    let uses = |module: &str, text: &str| -> Vec<String> {
        code(text)
            .into_iter()
            .filter(|line| NOT_FROM_THE_SEED.iter().any(|word| line.contains(word)))
            .map(|line| format!("{module}: {line}"))
            .collect()
    };
    let in_bench = |module: &str| module == "bench" || module.starts_with("bench::");
    let bench_uses: usize = known.iter().filter(|(m, _)| in_bench(m)).map(|(m, t)| uses(m, t).len()).sum();
    assert!(bench_uses > 0, "the bench times runs: is the search still reading the code?");
    let elsewhere: Vec<String> =
        known.iter().filter(|(m, _)| !in_bench(m)).flat_map(|(m, t)| uses(m, t)).collect();
    assert!(
        elsewhere.is_empty(),
        "a wall clock or unseeded randomness outside bench/:\n{}",
        elsewhere.join("\n")
    );
}
