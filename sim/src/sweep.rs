//! `authzlab sweep`: many seeds of one scenario or a directory of them, in parallel, with
//! failures grouped by cause, and the summary as JSON that shards merge into.
//!
//! A cause is the scenario and the first check that failed (an expectation names its event
//! kind and node; an invariant is one thing forbidden), so that seeds failing the same way
//! count together whatever their ids and times; each cause keeps its count, its smallest
//! failing seed (the one to replay) and that seed's detail as the example.
//! Nothing is kept per seed: memory stays flat however many seeds are swept.
//!
//! Shards: `--shard i/N` takes every N-th (scenario, seed) pair from the i-th (1-based), so
//! N shards cover the whole sweep once; `merge` adds their summaries into the summary the
//! unsharded sweep writes. `--shard auto` takes i and N from a Slurm array job
//! (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`, and `SLURM_ARRAY_TASK_COUNT`);
//! `--shard auto/N` from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, 0-based), with N
//! given since the Job does not say it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use authzlab_host::PluginHost;
use serde::{Deserialize, Serialize};

use crate::cluster;
use crate::scenario::Scenario;

/// Seeds one sweep may take (each a whole run).
pub const SWEEP_SEEDS_MAX: u64 = 10_000_000;
/// Scenario files one sweep of a directory may take.
pub const SWEEP_SCENARIOS_MAX: usize = 1_000;
/// Summaries `merge` may take (each at most `authzlab_host::input::SUMMARY_BYTES_MAX`).
pub const MERGE_FILES_MAX: usize = 10_000;
/// Causes a summary keeps (past it, failures are counted under one "other causes" line).
pub const CAUSES_MAX: usize = 1_000;

/// Which slice of the sweep this process runs: the `index`-th (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// `i/N` (1-based i), `auto` (a Slurm array job) or `auto/N` (a Kubernetes Indexed Job),
    /// reading the engine's variables through `env`.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let number = |name: &str, value: Option<String>| -> Result<u64, String> {
            let value = value.ok_or_else(|| format!("--shard {text}: {name} is not set"))?;
            value.trim().parse().map_err(|_| format!("--shard {text}: {name} is {value:?}, not a number"))
        };
        let shard = match text.split_once('/') {
            Some(("auto", count)) => Shard {
                index: number("JOB_COMPLETION_INDEX", env("JOB_COMPLETION_INDEX"))?,
                count: number("the count after auto/", Some(count.to_string()))?,
            },
            Some((index, count)) => {
                let index = number("the shard", Some(index.to_string()))?;
                if index == 0 {
                    return Err(format!("--shard {text}: shards count from 1"));
                }
                Shard { index: index - 1, count: number("the count", Some(count.to_string()))? }
            }
            None if text == "auto" => {
                let id = number("SLURM_ARRAY_TASK_ID", env("SLURM_ARRAY_TASK_ID"))?;
                let min = env("SLURM_ARRAY_TASK_MIN")
                    .map_or(Ok(0), |min| number("SLURM_ARRAY_TASK_MIN", Some(min)))?;
                Shard {
                    index: id
                        .checked_sub(min)
                        .ok_or(format!("--shard auto: task {id} is below its array's minimum {min}"))?,
                    count: number("SLURM_ARRAY_TASK_COUNT", env("SLURM_ARRAY_TASK_COUNT"))?,
                }
            }
            None => {
                return Err(format!(
                    "--shard {text}: write i/N (e.g. 2/8), auto (Slurm) or auto/N (Kubernetes)"
                ))
            }
        };
        if shard.count == 0 || shard.index >= shard.count {
            return Err(format!(
                "--shard {text}: shard {} of {} does not exist",
                shard.index + 1,
                shard.count
            ));
        }
        Ok(shard)
    }

    fn takes(&self, job: u64) -> bool {
        job % self.count == self.index
    }
}

/// Seeds `A..B` (both included, as a person reads it) or `N` (1 to N).
pub fn parse_seeds(text: &str) -> Result<(u64, u64), String> {
    let number = |part: &str| {
        part.trim().parse::<u64>().map_err(|_| format!("--seeds {text}: {part:?} is not a seed"))
    };
    let (first, last) = match text.split_once("..") {
        Some((first, last)) => (number(first)?, number(last.trim_start_matches('='))?),
        None => (1, number(text)?),
    };
    if first > last {
        return Err(format!("--seeds {text}: the range is empty"));
    }
    if last - first >= SWEEP_SEEDS_MAX {
        return Err(format!("--seeds {text}: more than {SWEEP_SEEDS_MAX} seeds (SWEEP_SEEDS_MAX)"));
    }
    Ok((first, last))
}

/// One way of failing: where, and how many seeds failed so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub scenario: String,
    pub check: String,
    /// The smallest failing seed's detail.
    pub example: String,
    pub count: u64,
    pub smallest_seed: u64,
}

/// What a sweep (or a merge of shards) found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario files, in the order swept.
    pub scenarios: Vec<String>,
    pub first_seed: u64,
    pub last_seed: u64,
    /// The shards this summary covers (all of them once merged).
    pub shards: Vec<u64>,
    pub shard_count: u64,
    pub runs: u64,
    pub held: u64,
    /// Runs that could not run (bad input found only by running): counted as failures.
    pub errors: u64,
    /// By (scenario, check), in that order.
    pub causes: Vec<Cause>,
    /// Failures whose cause was not kept (past `CAUSES_MAX`).
    pub other_failures: u64,
}

impl Summary {
    pub fn failed(&self) -> u64 {
        self.runs - self.held
    }

    fn record(&mut self, scenario: &str, check: &str, detail: &str, seed: u64) {
        self.record_cause(&Cause {
            scenario: scenario.to_string(),
            check: check.to_string(),
            example: detail.to_string(),
            count: 1,
            smallest_seed: seed,
        });
    }

    /// Adds another shard's summary of the same sweep.
    pub fn merge(&mut self, other: &Summary) -> Result<(), String> {
        if (&self.scenarios, self.first_seed, self.last_seed, self.shard_count)
            != (&other.scenarios, other.first_seed, other.last_seed, other.shard_count)
        {
            return Err(
                "the summaries are of different sweeps (scenarios, seeds or shard count differ)".to_string()
            );
        }
        if let Some(twice) = other.shards.iter().find(|shard| self.shards.contains(shard)) {
            return Err(format!("shard {} is in two summaries", twice + 1));
        }
        self.shards.extend(&other.shards);
        self.shards.sort_unstable();
        self.runs += other.runs;
        self.held += other.held;
        self.errors += other.errors;
        self.other_failures += other.other_failures;
        for cause in &other.causes {
            self.record_cause(cause);
        }
        Ok(())
    }

    fn record_cause(&mut self, cause: &Cause) {
        match self
            .causes
            .binary_search_by(|mine| (&mine.scenario, &mine.check).cmp(&(&cause.scenario, &cause.check)))
        {
            Ok(at) => {
                let mine = &mut self.causes[at];
                mine.count += cause.count;
                if cause.smallest_seed < mine.smallest_seed {
                    mine.smallest_seed = cause.smallest_seed;
                    mine.example = cause.example.clone();
                }
            }
            Err(_) if self.causes.len() >= CAUSES_MAX => self.other_failures += cause.count,
            Err(at) => self.causes.insert(at, cause.clone()),
        }
    }
}

/// The scenario files `target` names: itself, or a directory's `.toml` files in name order.
pub fn scenario_files(target: &Path) -> Result<Vec<PathBuf>, String> {
    if !target.is_dir() {
        return Ok(vec![target.to_path_buf()]);
    }
    let entries = std::fs::read_dir(target).map_err(|e| format!("{}: {e}", target.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .take(SWEEP_SCENARIOS_MAX + 1)
        .collect();
    if files.len() > SWEEP_SCENARIOS_MAX {
        return Err(format!(
            "{}: more than {SWEEP_SCENARIOS_MAX} scenario files (SWEEP_SCENARIOS_MAX)",
            target.display()
        ));
    }
    files.sort();
    Ok(files)
}

/// Runs this shard's (scenario, seed) pairs on `jobs` threads sharing `plugins` (each run
/// reseeds its plugins from its own seed); `tick` is told after each run.
pub fn sweep(
    files: &[PathBuf],
    seeds: (u64, u64),
    shard: Shard,
    jobs: usize,
    plugins: &PluginHost,
    tick: &(dyn Fn() + Sync),
) -> Result<Summary, String> {
    let scenarios: Vec<Scenario> =
        files.iter().map(|path| Scenario::load(path).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let per_scenario = seeds.1 - seeds.0 + 1;
    let total = per_scenario.saturating_mul(scenarios.len() as u64);
    let summary = Mutex::new(Summary {
        scenarios: files.iter().map(|path| path.display().to_string()).collect(),
        first_seed: seeds.0,
        last_seed: seeds.1,
        shards: vec![shard.index],
        shard_count: shard.count,
        ..Summary::default()
    });
    // Job n is scenario n / per_scenario, seed first + n % per_scenario.
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let job = next.fetch_add(1, Ordering::Relaxed) as u64;
                if job >= total {
                    return;
                }
                if !shard.takes(job) {
                    continue;
                }
                let scenario = &scenarios[(job / per_scenario) as usize];
                let seed = seeds.0 + job % per_scenario;
                let name = scenario.path.display().to_string();
                let outcome = cluster::run(scenario, seed, plugins).map_err(|e| e.to_string());
                let mut summary = summary.lock().unwrap_or_else(|poison| poison.into_inner());
                summary.runs += 1;
                match outcome {
                    Ok(run) => match run.report.failures().next() {
                        None => summary.held += 1,
                        Some(failure) => summary.record(&name, &failure.name, &failure.detail, seed),
                    },
                    Err(error) => {
                        summary.errors += 1;
                        summary.record(&name, "the run did not complete", &error, seed);
                    }
                }
                drop(summary);
                tick();
            });
        }
    });
    Ok(summary.into_inner().unwrap_or_else(|poison| poison.into_inner()))
}

/// The report `authzlab sweep` prints: one line per cause, with its replay command.
pub fn render(summary: &Summary) -> String {
    let shards = if summary.shard_count > 1 {
        format!(
            " (shard(s) {} of {})",
            summary.shards.iter().map(|s| (s + 1).to_string()).collect::<Vec<_>>().join(","),
            summary.shard_count
        )
    } else {
        String::new()
    };
    let mut out = format!(
        "Sweep of {} scenario(s), seeds {}..{}{shards}: {} run(s), {} held, {} failed\n",
        summary.scenarios.len(),
        summary.first_seed,
        summary.last_seed,
        summary.runs,
        summary.held,
        summary.failed()
    );
    for cause in &summary.causes {
        out.push_str(&format!(
            "  {:>6} x  {}: {}\n           smallest seed {}: {}\n           replay: authzlab run {} --seed {}\n",
            cause.count,
            cause.scenario,
            cause.check,
            cause.smallest_seed,
            cause.example,
            crate::report::shell_word(Path::new(&cause.scenario)),
            cause.smallest_seed
        ));
    }
    if summary.other_failures > 0 {
        out.push_str(&format!("  {:>6} x  other causes (past CAUSES_MAX)\n", summary.other_failures));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_come_from_the_flag_or_the_batch_engine() {
        let none = |_: &str| None;
        assert_eq!(Shard::parse("2/8", none), Ok(Shard { index: 1, count: 8 }));
        assert!(Shard::parse("0/8", none).unwrap_err().contains("count from 1"));
        assert!(Shard::parse("9/8", none).unwrap_err().contains("does not exist"));
        let slurm = |name: &str| match name {
            "SLURM_ARRAY_TASK_ID" => Some("5".to_string()),
            "SLURM_ARRAY_TASK_MIN" => Some("1".to_string()),
            "SLURM_ARRAY_TASK_COUNT" => Some("10".to_string()),
            _ => None,
        };
        assert_eq!(Shard::parse("auto", slurm), Ok(Shard { index: 4, count: 10 }));
        assert!(Shard::parse("auto", none).unwrap_err().contains("SLURM_ARRAY_TASK_ID is not set"));
        let kubernetes = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "3".to_string());
        assert_eq!(Shard::parse("auto/4", kubernetes), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("auto/3", kubernetes).unwrap_err().contains("does not exist"));
    }

    #[test]
    fn seeds_are_a_range_both_ends_included() {
        assert_eq!(parse_seeds("1..10000"), Ok((1, 10_000)));
        assert_eq!(parse_seeds("5..=7"), Ok((5, 7)));
        assert_eq!(parse_seeds("20"), Ok((1, 20)));
        assert!(parse_seeds("9..3").is_err());
    }

    #[test]
    fn causes_group_seeds_that_fail_the_same_way_and_merge_adds_shards() {
        let mut whole = Summary { shards: vec![0], shard_count: 1, ..Summary::default() };
        whole.record("s.toml", "line 3", "jabber-1 at 00:01:02.000 token 0a1b2c3d4e", 9);
        whole.record("s.toml", "line 3", "jabber-2 at 00:07:00.500 token 99ffee0011", 4);
        whole.record("s.toml", "line 5", "other", 7);
        assert_eq!(whole.causes.len(), 2);
        assert_eq!((whole.causes[0].count, whole.causes[0].smallest_seed), (2, 4));
        assert_eq!(
            whole.causes[0].example, "jabber-2 at 00:07:00.500 token 99ffee0011",
            "the smallest seed's"
        );
        let half = |index, seeds: &[(u64, &str)]| {
            let mut summary = Summary { shards: vec![index], shard_count: 2, ..Summary::default() };
            for (seed, detail) in seeds {
                summary.record("s.toml", "line 3", detail, *seed);
            }
            summary
        };
        let mut merged = half(0, &[(9, "a 1")]);
        merged.merge(&half(1, &[(4, "a 2")])).unwrap();
        assert_eq!(merged.shards, [0, 1]);
        assert_eq!((merged.causes[0].count, merged.causes[0].smallest_seed), (2, 4));
        assert!(merged.clone().merge(&half(1, &[])).unwrap_err().contains("shard 2 is in two summaries"));
    }
}
