//! `authzlab bench`: the figures of issue "Scale with events, not with time", measured in one
//! run and printed with their targets.
//!
//! This is the one place in `sim/` that reads the machine's clock, and it only times runs
//! from outside: nothing it measures reaches a simulation, a verdict or a trace (a benched
//! run's trace hash is the same as any other run's).
//!
//! * [`validators`]: validations per second: component, native, bare RS256 verify; `plugin
//!   bench` and the per-case times of `plugin check`.
//! * [`runs`]: whole runs timed: sparse and long, busy, peak memory, seeds per second.
//! * [`purge`]: the daily purge of a large table, unbatched and batched.

pub mod purge;
pub mod runs;
pub mod validators;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use authzlab_host::PluginHost;

use crate::scenario::Scenario;

/// Why a figure could not be measured.
#[derive(Debug)]
pub enum BenchError {
    /// Bad input (a scenario that does not load, a plugin that does not load): exit 2.
    Input(String),
    /// A benched run failed one of its checks, so its timing means nothing: exit 1.
    CheckFailed(String),
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::Input(message) | BenchError::CheckFailed(message) => f.write_str(message),
        }
    }
}

/// How big the measurements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    /// Days of the sparse run (the figure: 60).
    pub sparse_days: u32,
    /// The busy run's clients and hours (the issue's: 100 for 24 h).
    pub busy_clients: u32,
    pub busy_hours: u32,
    /// Hours of the sparse run stepped tick by tick, from which stepping the whole is
    /// extrapolated (stepping 60 days would take minutes).
    pub stepped_hours: u32,
    /// Seeds in the sweep.
    pub seeds: u64,
    /// Expired rows in the purge figure (the issue's: 1,000,000).
    pub purge_rows: u64,
    /// Wall time per validator contender.
    pub measure_for: Duration,
}

impl Scale {
    /// The figures.
    pub const FULL: Scale = Scale {
        sparse_days: 60,
        stepped_hours: 24,
        busy_clients: 100,
        busy_hours: 24,
        seeds: 60,
        purge_rows: 1_000_000,
        measure_for: Duration::from_secs(1),
    };
    /// Every figure, small: for the test that proves the command works (seconds, not a
    /// minute), never for numbers anyone quotes.
    pub const QUICK: Scale = Scale {
        sparse_days: 2,
        stepped_hours: 1,
        busy_clients: 10,
        busy_hours: 2,
        seeds: 4,
        purge_rows: 20_000,
        measure_for: Duration::from_millis(50),
    };
}

/// Every figure, measured in this order.
pub fn measure(
    scale: Scale,
    seeds_scenario: &Path,
    plugins: &PluginHost,
    say: &mut dyn FnMut(&str),
) -> Result<String, BenchError> {
    let seeds_scenario = Scenario::load(seeds_scenario).map_err(|e| BenchError::Input(e.to_string()))?;
    let mut out = Rows(String::new());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = writeln!(
        out.0,
        "authzlab bench · {threads} core(s) · {} build{}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        if scale == Scale::QUICK { " · --quick: small runs, not the issue's figures" } else { "" }
    );
    if cfg!(debug_assertions) {
        let _ = writeln!(
            out.0,
            "  (a debug build: use `cargo run --release -- bench` for figures worth quoting)"
        );
    }
    let _ = writeln!(out.0);
    let _ = writeln!(out.0, "{:<52} {:<44} {:<9}", "figure", "measured", "target");

    validator_rows(&mut out, scale, plugins, say)?;
    let bare_step = sparse_rows(&mut out, scale, plugins, say)?;
    busy_rows(&mut out, scale, plugins, bare_step, say)?;
    memory_rows(&mut out, scale, say)?;
    purge_rows(&mut out, scale, say)?;
    preload_rows(&mut out, scale, say)?;
    estimate_rows(&mut out, scale, plugins, &seeds_scenario, say)?;
    seed_rows(&mut out, scale, plugins, &seeds_scenario, say)?;
    Ok(out.0)
}

/// The bench's table, a row per figure: what, the measurement, the target and its verdict.
struct Rows(String);

impl Rows {
    fn row(&mut self, figure: &str, measured: String, target: &str, verdict: Option<bool>) {
        let mark = match verdict {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        let _ = writeln!(self.0, "{figure:<52} {measured:<44} {target:<9} {mark}");
    }
}

/// The component against native validation, and native against a bare RS256 verify.
fn validator_rows(
    out: &mut Rows,
    scale: Scale,
    plugins: &PluginHost,
    say: &mut dyn FnMut(&str),
) -> Result<(), BenchError> {
    say("validators: component, native, bare RS256 verify");
    let speed = validators::measure(plugins, scale.measure_for)?;
    let wasm_native = speed.component_per_s / speed.native_per_s;
    out.row(
        "WASM component / native, valid access tokens, 1 core",
        format!("{} / {} = {wasm_native:.3}", per_s(speed.component_per_s), per_s(speed.native_per_s)),
        "≥ 0.95",
        Some(wasm_native >= 0.95),
    );
    let native_raw = speed.native_per_s / speed.raw_verify_per_s;
    out.row(
        "native validation / bare OpenSSL RS256 verify",
        format!("{} / {} = {native_raw:.2}", per_s(speed.native_per_s), per_s(speed.raw_verify_per_s)),
        "",
        None,
    );
    Ok(())
}

/// A long quiet run with idle skipping, against the same stepped tick by tick. Gives what a
/// turmoil step of this cluster costs with nothing to do (for [`floor_rows`]).
fn sparse_rows(
    out: &mut Rows,
    scale: Scale,
    plugins: &PluginHost,
    say: &mut dyn FnMut(&str),
) -> Result<Duration, BenchError> {
    let days = scale.sparse_days;
    say(&format!("sparse run: {days} simulated days, idle skipping on"));
    let sparse = runs::scenario(&format!("{days}d"), runs::SPARSE_CLIENTS)?;
    let skipping = runs::timed(&sparse, plugins)?;
    let hours = scale.stepped_hours;
    say(&format!("sparse run: {hours} simulated hour(s) stepped tick by tick"));
    let mut stepped = runs::scenario(&format!("{hours}h"), runs::SPARSE_CLIENTS)?;
    stepped.skip_idle = false;
    let stepped = runs::timed(&stepped, plugins)?;
    let factor = days * 24 / hours;
    let stepping = stepped.wall * factor;
    out.row(
        &format!("sparse {days} d, 2 clients: wall time, skipping"),
        format!(
            "{} ({} events, {} steps, {})",
            secs(skipping.wall),
            skipping.events,
            skipping.steps,
            steps_per_event(skipping.steps, skipping.events)
        ),
        "< 5 s",
        (days == 60).then_some(skipping.wall < Duration::from_secs(5)),
    );
    out.row(
        &format!("  without skipping ({factor} x {hours} h stepped)"),
        format!("{} = {factor} x {}", secs(stepping), secs(stepped.wall)),
        "",
        None,
    );
    out.row(
        "  stepping / skipping",
        format!("{:.0}x", stepping.as_secs_f64() / skipping.wall.as_secs_f64()),
        "",
        None,
    );
    // The stepped hours are almost all idle ticks: their time, less the little crypto of the
    // events among them, over their steps is what a step costs before any work of ours.
    let steps = u32::try_from(stepped.steps.max(1)).unwrap_or(u32::MAX);
    let bare_step = stepped.wall.saturating_sub(stepped.crypto_total()) / steps;
    floor_rows(out, &skipping, bare_step);
    Ok(bare_step)
}

/// How much of `run`'s wall time nothing of ours could remove: its cryptography (RSA, AES,
/// HMAC, as the documents' token format asks) and its turmoil steps at `bare_step` each (a
/// step ticks every host's runtime, busy or not). What is left is our own work: protocols,
/// plugins' guest code, trace, store. A target below the floor needs fewer signatures or
/// fewer steps, not faster code. Gives the floor.
fn floor_rows(out: &mut Rows, run: &runs::Timed, bare_step: Duration) -> Duration {
    let crypto = run.crypto_total();
    let steps = bare_step * u32::try_from(run.steps).unwrap_or(u32::MAX);
    let floor = crypto + steps;
    out.row(
        "  floor: crypto + steps at an idle step's cost",
        format!(
            "{} + {} x {:.1} µs = {} ({:.0} % of the wall)",
            secs(crypto),
            run.steps,
            bare_step.as_secs_f64() * 1e6,
            secs(floor),
            100.0 * floor.as_secs_f64() / run.wall.as_secs_f64().max(1e-9)
        ),
        "",
        None,
    );
    out.row("  the rest: our own work", secs(run.wall.saturating_sub(floor)), "", None);
    floor
}

/// A busy run: its wall time against the time its cryptography took. `bare_step`: what a
/// step of this cluster costs idle ([`sparse_rows`]; the same hosts, more clients on one).
fn busy_rows(
    out: &mut Rows,
    scale: Scale,
    plugins: &PluginHost,
    bare_step: Duration,
    say: &mut dyn FnMut(&str),
) -> Result<(), BenchError> {
    say("busy run");
    let busy = runs::scenario(&format!("{}h", scale.busy_hours), scale.busy_clients)?;
    let busy_run = runs::timed(&busy, plugins)?;
    let crypto = busy_run.crypto_total();
    let wall_crypto = busy_run.wall.as_secs_f64() / crypto.as_secs_f64().max(1e-9);
    out.row(
        &format!("busy {} h, {} clients: wall / crypto", scale.busy_hours, scale.busy_clients),
        format!("{} / {} = {wall_crypto:.2}", secs(busy_run.wall), secs(crypto)),
        "≤ 1.5",
        (scale == Scale::FULL).then_some(wall_crypto <= 1.5),
    );
    out.row(
        "  events, turmoil steps",
        format!(
            "{}, {} ({})",
            busy_run.events,
            busy_run.steps,
            steps_per_event(busy_run.steps, busy_run.events)
        ),
        "",
        None,
    );
    let floor = floor_rows(out, &busy_run, bare_step);
    out.row(
        "  wall / crypto at the floor",
        format!("{:.2}", floor.as_secs_f64() / crypto.as_secs_f64().max(1e-9)),
        "",
        None,
    );
    for (op, tally) in &busy_run.crypto {
        if let Some(each_ns) = tally.nanos.checked_div(tally.count) {
            let each = Duration::from_nanos(each_ns);
            out.row(
                &format!("  {}", op.name()),
                format!("{} x {:?} = {}", tally.count, each, secs(Duration::from_nanos(tally.nanos))),
                "",
                None,
            );
        }
    }
    Ok(())
}

/// Peak memory of one day and of the whole sparse run, each in its own process.
fn memory_rows(out: &mut Rows, scale: Scale, say: &mut dyn FnMut(&str)) -> Result<(), BenchError> {
    let days = scale.sparse_days;
    let sparse_text = runs::text(&format!("{days}d"), runs::SPARSE_CLIENTS);
    say("peak memory: one day and the whole sparse run, each in its own process");
    let one_day_text = runs::text("1d", runs::SPARSE_CLIENTS);
    let rss_day = runs::peak_rss_kib(&one_day_text, "sparse-1d")?;
    let rss_long = runs::peak_rss_kib(&sparse_text, &format!("sparse-{days}d"))?;
    let rss_ratio = rss_long as f64 / rss_day as f64;
    out.row(
        &format!("peak RSS, sparse {days} d / 1 d"),
        format!("{:.1} MB / {:.1} MB = {rss_ratio:.2}", rss_long as f64 / 1024.0, rss_day as f64 / 1024.0),
        "≤ 1.2",
        Some(rss_ratio <= 1.2),
    );
    Ok(())
}

/// The purge of a large table, in one DELETE and in batches; and in one DELETE again with a
/// tenth as many valid rows beside the expired ones (they survive it, kept aside).
fn purge_rows(out: &mut Rows, scale: Scale, say: &mut dyn FnMut(&str)) -> Result<(), BenchError> {
    let live = scale.purge_rows / 10;
    for (batch_rows, live) in [(None, 0), (Some(purge::BENCH_BATCH_ROWS), 0), (None, live)] {
        let mut how =
            batch_rows.map_or_else(|| "one DELETE".to_string(), |rows| format!("batches of {rows}"));
        if live > 0 {
            how.push_str(&format!(", {live} valid rows kept"));
        }
        say(&format!("purge of {} expired rows, {how}", scale.purge_rows));
        let figure = purge::measure(scale.purge_rows, live, batch_rows)?;
        out.row(
            &format!("purge {} rows, {how}: wall time", figure.rows),
            format!("{} ({} DELETEs)", secs(figure.wall), figure.batches),
            "< 1 s",
            (scale == Scale::FULL).then_some(figure.wall < Duration::from_secs(1)),
        );
        let target_met = batch_rows.map(|_| figure.worst_wait <= Duration::from_millis(10));
        out.row(
            "  simulated time; worst refresh wait",
            format!("{}; {:?}", secs(figure.simulated), figure.worst_wait),
            if batch_rows.is_some() { "≤ 10 ms" } else { "" },
            target_met,
        );
    }
    say(&format!("revocation by user in a table of {} rows", scale.purge_rows));
    out.row(
        &format!("revocation by user among {} rows (no user index: a scan)", scale.purge_rows),
        secs(purge::revocation(scale.purge_rows)?),
        "",
        None,
    );
    Ok(())
}

/// Peak memory of the largest preloaded table a scenario may ask for, purged.
fn preload_rows(out: &mut Rows, scale: Scale, say: &mut dyn FnMut(&str)) -> Result<(), BenchError> {
    // The largest table a scenario may preload, purged in one DELETE, in its own process.
    let preload_rows =
        if scale == Scale::FULL { crate::scenario::PRELOADED_ROWS_MAX } else { scale.purge_rows };
    say(&format!("peak memory: {preload_rows} preloaded rows purged, in its own process"));
    let preload_text = runs::text("30m", runs::SPARSE_CLIENTS).replace(
        "[params]",
        &format!("[params]\npurge_at = \"00:20\"\nexpired_refresh_tokens = {preload_rows}"),
    );
    let rss_preload = runs::peak_rss_kib(&preload_text, "preloaded")?;
    out.row(
        &format!("peak RSS, {preload_rows} preloaded rows purged"),
        format!("{:.1} MB", rss_preload as f64 / 1024.0),
        "< 1 GB",
        (scale == Scale::FULL).then_some(rss_preload < 1 << 20),
    );
    Ok(())
}

/// The cost estimate against the measured wall time of every shipped scenario.
fn estimate_rows(
    out: &mut Rows,
    scale: Scale,
    plugins: &PluginHost,
    seeds_scenario: &Scenario,
    say: &mut dyn FnMut(&str),
) -> Result<(), BenchError> {
    let library = scenario_library(&seeds_scenario.path, scale)?;
    say(&format!("estimate against measured wall time: {} shipped scenario(s)", library.len()));
    let mut worst: Option<(f64, String, Duration, Duration)> = None;
    for scenario in &library {
        let estimated = crate::cost::Estimate::of(scenario).wall;
        // An estimate is for a fresh process, which writes its preloaded table itself.
        crate::store::preloaded_image::forget_all();
        let measured = runs::timed(scenario, plugins)?.wall;
        // Below a second both are noise for a budget given in seconds or minutes.
        let floor = ESTIMATE_COMPARED_FROM.as_secs_f64();
        let (est, meas) = (estimated.as_secs_f64().max(floor), measured.as_secs_f64().max(floor));
        let ratio = (est / meas).max(meas / est);
        say(&format!(
            "  {}: estimated {}, ran {}: {ratio:.2}x",
            scenario.path.display(),
            secs(estimated),
            secs(measured)
        ));
        if worst.as_ref().is_none_or(|(worst, ..)| ratio > *worst) {
            worst = Some((ratio, scenario.path.display().to_string(), estimated, measured));
        }
    }
    if let Some((ratio, name, estimated, measured)) = worst {
        out.row(
            &format!("estimate vs measured (from 1 s), {} scenario(s), worst", library.len()),
            format!("{ratio:.2}x ({name}: {} estimated, {} ran)", secs(estimated), secs(measured)),
            "≤ 2x",
            (scale == Scale::FULL).then_some(ratio <= 2.0),
        );
    }
    Ok(())
}

/// Seeds per second over every core; a seed that fails a check fails the bench.
fn seed_rows(
    out: &mut Rows,
    scale: Scale,
    plugins: &PluginHost,
    seeds_scenario: &Scenario,
    say: &mut dyn FnMut(&str),
) -> Result<(), BenchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    say(&format!("seeds: {} on {threads} thread(s)", scale.seeds));
    let sweep = runs::seed_sweep(seeds_scenario, plugins, threads, scale.seeds);
    out.row(
        &format!("seeds/s, {} on {threads} core(s)", seeds_scenario.path.display()),
        format!(
            "{:.1}/s ({} seeds in {}, {} held every check)",
            sweep.per_second(),
            sweep.seeds,
            secs(sweep.wall),
            sweep.held
        ),
        "≥ 20",
        (scale == Scale::FULL).then_some(sweep.per_second() >= 20.0),
    );
    if sweep.held < sweep.seeds {
        return Err(BenchError::CheckFailed(format!(
            "{} of {} seeds of {} failed a check; run them one by one to see which",
            sweep.seeds - sweep.held,
            sweep.seeds,
            seeds_scenario.path.display()
        )));
    }
    Ok(())
}

/// The estimate and the measured time are compared from one second up: a budget is given in
/// seconds or minutes, and a run of 20 ms estimated at 1 ms is not 20x wrong for it.
const ESTIMATE_COMPARED_FROM: Duration = Duration::from_secs(1);

/// The scenarios beside `beside` (the shipped library when it is `scenarios/…`), in name
/// order, as `authzlab sweep` lists a directory; `--quick` takes the first four.
fn scenario_library(beside: &Path, scale: Scale) -> Result<Vec<Scenario>, BenchError> {
    let directory = beside.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut paths = crate::sweep::scenario_files(directory).map_err(BenchError::Input)?;
    if scale == Scale::QUICK {
        paths.truncate(4);
    }
    paths.iter().map(|path| Scenario::load(path).map_err(|e| BenchError::Input(e.to_string()))).collect()
}

/// Steps a run took for each event it recorded: what keeping connections open cuts.
fn steps_per_event(steps: u64, events: u64) -> String {
    format!("{:.1} steps an event", steps as f64 / events.max(1) as f64)
}

fn per_s(rate: f64) -> String {
    if rate >= 1000.0 {
        format!("{:.1}k/s", rate / 1000.0)
    } else {
        format!("{rate:.0}/s")
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

/// Reads a small system file, at most 64 KiB.
fn read_small(path: &str) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path).ok()?.take(64 * 1024).read_to_string(&mut text).ok()?;
    Some(text)
}
