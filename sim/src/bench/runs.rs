//! Whole runs, timed: a sparse long run with and without idle skipping, a busy day with its
//! crypto time, peak memory of short against long runs, and seeds per second.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authzlab_host::crypto_time::{self, CryptoOp, Tally};
use authzlab_host::PluginHost;

use crate::bench::BenchError;
use crate::cluster::{self, Run, RunOptions};
use crate::report::TimelineMode;
use crate::scenario::Scenario;

/// The cluster of both benched runs: a publisher, two subscribers and Unity Connection (the
/// full current cluster), with `{clients}` Jabber clients for `{duration}`. The sparse run
/// has 2 clients, the busy run 100.
pub const CLUSTER: &str = r#"
name = "bench: {clients} clients for {duration}"
seed = 7
tick = "100ms"
duration = "{duration}"
[cluster]
cucm_subscribers = 2
unity = { validator = "unity-connection" }
[params]
refresh_login_flow = true
[[clients]]
kind = "jabber"
count = {clients}
"#;

/// Clients of the sparse run.
pub const SPARSE_CLIENTS: u32 = 2;

/// The scenario text of the benched cluster.
pub fn text(duration: &str, clients: u32) -> String {
    CLUSTER.replace("{duration}", duration).replace("{clients}", &clients.to_string())
}

/// The benched cluster as a scenario.
pub fn scenario(duration: &str, clients: u32) -> Result<Scenario, BenchError> {
    Scenario::parse(&text(duration, clients), Path::new("bench.toml"))
        .map_err(|e| BenchError::Input(e.to_string()))
}

/// One run, timed, with the time spent in each kind of crypto on the way.
pub struct Timed {
    pub wall: Duration,
    pub events: u64,
    pub steps: u64,
    pub crypto: Vec<(CryptoOp, Tally)>,
}

impl Timed {
    pub fn crypto_total(&self) -> Duration {
        Duration::from_nanos(self.crypto.iter().map(|(_, tally)| tally.nanos).sum())
    }
}

/// Runs `scenario` once on this thread, timing it and its crypto.
pub fn timed(scenario: &Scenario, plugins: &PluginHost) -> Result<Timed, BenchError> {
    crypto_time::start();
    let started = Instant::now();
    let run = run_quietly(scenario, scenario.seed, plugins);
    let wall = started.elapsed();
    let crypto = crypto_time::stop();
    let run = run?;
    Ok(Timed { wall, events: run.trace.events, steps: run.steps, crypto })
}

fn run_quietly(scenario: &Scenario, seed: u64, plugins: &PluginHost) -> Result<Run, BenchError> {
    let options = RunOptions { timeline: TimelineMode::None, ..RunOptions::default() };
    let run =
        cluster::run_with(scenario, seed, plugins, options).map_err(|e| BenchError::Input(e.to_string()))?;
    if let Some(failure) = run.report.failures().next() {
        return Err(BenchError::CheckFailed(format!(
            "{} seed {seed}: a check failed, so its timing means nothing: {}: {}",
            scenario.name, failure.name, failure.detail
        )));
    }
    Ok(run)
}

/// Seeds run per second over `threads` threads, each taking the next seed until `seeds`
/// have run; and how many of them held every check.
pub struct SeedSweep {
    pub seeds: u64,
    pub held: u64,
    pub threads: usize,
    pub wall: Duration,
}

impl SeedSweep {
    pub fn per_second(&self) -> f64 {
        self.seeds as f64 / self.wall.as_secs_f64()
    }
}

pub fn seed_sweep(scenario: &Scenario, plugins: &PluginHost, threads: usize, seeds: u64) -> SeedSweep {
    // One run per thread first: loading the plugin and the pool keys is paid once per
    // process, not per seed, and is not what this figure measures.
    std::thread::scope(|scope| {
        for thread in 0..threads {
            scope.spawn(move || {
                let _ = cluster::run_with(scenario, 1_000_000 + thread as u64, plugins, quiet());
            });
        }
    });
    let next = AtomicU64::new(1);
    let held = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed > seeds {
                    break;
                }
                if cluster::run_with(scenario, seed, plugins, quiet()).is_ok_and(|run| run.report.passed()) {
                    held.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    SeedSweep { seeds, held: held.into_inner(), threads, wall: started.elapsed() }
}

fn quiet() -> RunOptions<'static> {
    RunOptions { timeline: TimelineMode::None, ..RunOptions::default() }
}

/// Peak resident memory of a run of `scenario_text`, in KiB, measured in a child process
/// (`authzlab bench --peak-rss-of FILE`) so that no other run's peak hides it.
pub fn peak_rss_kib(scenario_text: &str, label: &str) -> Result<u64, BenchError> {
    let dir = std::env::temp_dir().join(format!("authzlab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Input(format!("{}: {e}", dir.display())))?;
    let path = dir.join(format!("{label}.toml"));
    std::fs::write(&path, scenario_text)
        .map_err(|e| BenchError::Input(format!("{}: {e}", path.display())))?;
    let exe =
        std::env::current_exe().map_err(|e| BenchError::Input(format!("cannot find this program: {e}")))?;
    let output = std::process::Command::new(exe).arg("bench").arg("--peak-rss-of").arg(&path).output();
    let _ = std::fs::remove_dir_all(&dir);
    let output = output.map_err(|e| BenchError::Input(format!("cannot start the child run: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout.lines().find_map(|line| line.strip_prefix("peak-rss-kib ")?.trim().parse().ok()).ok_or_else(|| {
        BenchError::Input(format!(
            "the child run of {label} reported no peak ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })
}

/// This process's peak resident memory (Linux's `VmHWM`), in KiB.
pub fn own_peak_rss_kib() -> Option<u64> {
    // The status file is a few KiB; the bound keeps a strange /proc from being read whole.
    let status = crate::bench::read_small("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Runs one scenario file for `--peak-rss-of` and reports its peak.
pub fn run_for_peak(path: &Path, plugins: &PluginHost) -> Result<u64, BenchError> {
    let scenario = Scenario::load(path).map_err(|e| BenchError::Input(e.to_string()))?;
    run_quietly(&scenario, scenario.seed, plugins)?;
    own_peak_rss_kib()
        .ok_or_else(|| BenchError::Input("no /proc/self/status here: peak memory needs Linux".into()))
}
