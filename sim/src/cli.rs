//! The `authzlab` command line. Exit codes are a contract: 0 everything held, 1 an
//! expectation, invariant or vector failed, 2 bad input (the message says which file and why).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::trace::header::TraceHeader;

use authzlab_host::plugin::PluginError;
use authzlab_host::vectors::Vectors;
use authzlab_host::{Limits, PluginHost, Verdict};
use clap::{Parser, Subcommand};

use crate::bench::{self, BenchError, Scale};
use crate::cluster::{self, RunOptions};
use crate::cost::Estimate;
use crate::report::page::PageTitle;
use crate::report::page_files::PageFiles;
use crate::report::{self, TimelineMode};
use crate::scenario::{format_duration, parse_duration, Scenario};
use crate::trace::catalogue::CATALOGUE;
use crate::trace::file::TraceFile;

/// How much wall time a run may be estimated to take before it is refused (`--budget`).
pub const WALL_BUDGET_DEFAULT: Duration = Duration::from_secs(10 * 60);
/// Runs estimated to take longer than this show a progress bar (on a terminal only).
pub const PROGRESS_AFTER: Duration = Duration::from_secs(3);

#[derive(Debug, Parser)]
#[command(
    name = "authzlab",
    version,
    about = "Deterministic simulation of OAuth token handling in an on-premises UC cluster"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and check what it expects.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Seed for all randomness; defaults to the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the trace as JSON Lines to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// How much of the timeline to print.
        #[arg(long, value_enum, default_value = "story")]
        timeline: TimelineMode,
        /// Step through quiet simulated time instead of skipping it (the trace is the same).
        #[arg(long)]
        no_skip: bool,
        /// Refuse the run if it is estimated to take longer than this (e.g. "30m", "2h").
        /// Default: 10m (`WALL_BUDGET_DEFAULT`).
        #[arg(long, value_parser = parse_duration)]
        budget: Option<Duration>,
        /// Write the timeline as one self-contained HTML page (lanes per node, messages,
        /// key epochs, failures; filter and zoom in the browser).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the trace in the Chrome trace-event format, which Perfetto opens.
        #[arg(long)]
        perfetto: Option<PathBuf>,
    },
    /// Read a `--trace` file back without running anything: print its story and the checks
    /// (those the trace alone can judge), and write the page or Perfetto file if asked.
    /// Exit 0 when the checks held, 1 when one failed, 2 on bad input.
    Report {
        trace: PathBuf,
        /// Write the timeline page here (see `run --html`).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the Perfetto file here (see `run --perfetto`).
        #[arg(long)]
        perfetto: Option<PathBuf>,
    },
    /// List every event a trace records, with its fields: what `[[expect]]` may name.
    Events,
    /// Run again what a `--trace` file's header says it was made of and compare: "identical"
    /// with the certificate, or the first event that differs (exit 1). A scenario or plugin
    /// that changed since is refused (exit 2).
    Replay { trace: PathBuf },
    /// Run many seeds of a scenario (or of every scenario in a directory) in parallel and
    /// group the failures by cause, each with its smallest failing seed; or, as `sweep merge
    /// A.json B.json ...`, merge shards' summaries. Exit 0 when every run held, 1 otherwise.
    Sweep {
        /// A scenario file or a directory of them; or `merge` followed by summary files.
        #[arg(required = true)]
        targets: Vec<PathBuf>,
        /// Seeds: `A..B` (both included) or `N` (1 to N).
        #[arg(long, default_value = "1..100")]
        seeds: String,
        /// Threads; default: one per core.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run one slice: `i/N`, `auto` (a Slurm array job) or `auto/N` (a Kubernetes
        /// Indexed Job's JOB_COMPLETION_INDEX, N given).
        #[arg(long)]
        shard: Option<String>,
        /// Write the summary as JSON here (what `sweep merge` reads).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare two traces (`--trace` files) by structure: each node's events aligned, ids
    /// and checksums numbered by first appearance, the first divergence per node shown.
    /// Exit 0 when the structure is the same, 1 when it differs, 2 on bad input.
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// Compare order and content only; say nothing of timing.
        #[arg(long)]
        ignore_time: bool,
        /// How far an event both traces have may move in time before it counts as moved.
        #[arg(long, value_parser = parse_duration, default_value = "1s")]
        tolerance: Duration,
    },
    /// Make a failing scenario as small as it goes while the same check keeps failing with
    /// the same seed: remove steps, expectations, clients, nodes, parameters and simulated
    /// time, then write the smallest scenario found and say what went.
    /// Exit 0 when it wrote one, 2 when the scenario does not fail with that seed.
    Shrink {
        scenario: PathBuf,
        /// The seed it fails with; defaults to the scenario's `seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// The check to keep failing (its name as the report prints it); default: the first
        /// that fails.
        #[arg(long)]
        check: Option<String>,
        /// Where to write the smallest scenario; default: beside it, as NAME.shrunk.toml.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure speed and memory against the project's targets (build with --release).
    Bench {
        /// Small runs that finish in seconds: proves the command works, not figures to quote.
        #[arg(long)]
        quick: bool,
        /// The scenario of the seeds-per-second figure.
        #[arg(long, default_value = "scenarios/signing-key-regenerated.toml")]
        seeds_of: PathBuf,
        /// Internal: run this scenario and print this process's peak memory.
        #[arg(long, hide = true)]
        peak_rss_of: Option<PathBuf>,
    },
    /// Work with validator plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Make test keys and tokens for a plugin's own vectors (README "Testing your own
    /// policy").
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Write a keys file (authzlab-keys/1: the issuer, the signing and the encryption key;
    /// secrets, for tests only) and print its JWK Set, which a vectors file's `keys` takes.
    Keys {
        /// The keys file to write; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// The keys a run with this seed starts with.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print a token in AuthZ's format with the claims you choose: AuthZ's claims for a token
    /// issued now to alice on jabber-1, each replaced by the claims file's value of the same
    /// name, then the file's other claims.
    Mint {
        #[arg(long, value_enum)]
        kind: crate::mint::MintKind,
        /// A JSON object of claims, e.g. {"sub": "mallory", "exp": 1767229200}.
        #[arg(long)]
        claims: Option<PathBuf>,
        /// The keys file (`token keys`); default: the keys of `--seed`.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Draws the token id and the IV (and the keys, without `--keys`).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The issue time, UNIX seconds (default 2026-01-01T00:00:00Z: `NOW_DEFAULT_S`).
        #[arg(long)]
        now: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Check a component: its contract version, then the built-in suite of hostile and
    /// boundary tokens (or a vectors file) through it and the native reference validator.
    Check {
        /// The validator component (.wasm), built for wasm32-wasip2 against wit/.
        component: PathBuf,
        /// A vectors file (format authzlab-vectors/1) instead of the built-in suite.
        #[arg(long)]
        vectors: Option<PathBuf>,
        /// Then run the component as the consumer it serves (Unity Connection, IM and
        /// Presence, CallManager's SIP registration or Expressway-C) through built-in
        /// scenarios (key regenerations, a revocation, clock skew, the edge), scored against
        /// the native reference.
        #[arg(long)]
        scenarios: bool,
    },
    /// Make a new validator plugin crate from the template (plugins/template): it builds with
    /// one command and passes `plugin check` as it is.
    New {
        /// The plugin's name: lower-case letters, digits and '-'.
        name: String,
        /// Where to make it: in the guest workspace (`plugins/`, whose members are every
        /// directory in it) it joins that workspace; anywhere else it is a standalone crate
        /// with the SDK and the contract beside it. Default: `plugins/` in the repository,
        /// else the current directory.
        #[arg(long)]
        into: Option<PathBuf>,
    },
    /// Measure a component on one core: validations per second against the native reference
    /// on the same tokens, instantiation time, memory per instance, fuel per call.
    Bench {
        /// The validator component (.wasm).
        component: PathBuf,
        /// Seconds each throughput figure is measured for.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
        /// Write wasmtime's perf map (`/tmp/perf-<pid>.map`), so that `perf record -g` of this
        /// command names your component's functions (build it with symbols: see the README).
        #[arg(long)]
        perf_map: bool,
    },
}

/// Bad input: the message names the file and the fix; exit code 2.
#[derive(Debug)]
pub struct InputError(pub String);

/// Parses the arguments and runs; prints errors once.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::cleanup::on_signals();
    crate::cleanup::sweep_run_dirs(&std::env::temp_dir());
    match run(cli) {
        Ok(code) => code,
        Err(InputError(message)) => {
            say(&format!("error: {message}"));
            ExitCode::from(2)
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, InputError> {
    match cli.command {
        Command::Run { scenario, seed, trace, timeline, no_skip, budget, html, perfetto } => run_scenario(
            &scenario,
            seed,
            Outputs { trace: trace.as_deref(), html: html.as_deref(), perfetto: perfetto.as_deref() },
            timeline,
            !no_skip,
            budget.unwrap_or(WALL_BUDGET_DEFAULT),
        ),
        Command::Report { trace, html, perfetto } => {
            let read = crate::report::read_back::read_back(&trace, html.as_deref(), perfetto.as_deref())
                .map_err(InputError)?;
            print(&read.text);
            Ok(if read.failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Events => {
            print(&events_catalogue());
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep { targets, seeds, jobs, shard, out } => {
            sweep_command(&targets, &seeds, jobs, shard.as_deref(), out.as_deref())
        }
        Command::Replay { trace } => {
            let plugins = plugin_host(0)?;
            let (header, replayed) = crate::replay::replay(&trace, &plugins).map_err(InputError)?;
            print(&crate::replay::render(&trace, &header, &replayed));
            Ok(match replayed {
                crate::replay::Replayed::Identical { .. } => ExitCode::SUCCESS,
                crate::replay::Replayed::Differs { .. } => ExitCode::from(1),
            })
        }
        Command::Diff { a, b, ignore_time, tolerance } => {
            use crate::trace::diff;
            let (a, b) = (diff::read(&a).map_err(InputError)?, diff::read(&b).map_err(InputError)?);
            let comparison = diff::compare(&a, &b, tolerance);
            print(&diff::render(&a, &b, &comparison, tolerance, ignore_time));
            Ok(if comparison.same_structure() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Shrink { scenario, seed, check, out } => shrink(&scenario, seed, check.as_deref(), out),
        Command::Bench { quick, seeds_of, peak_rss_of } => bench(quick, &seeds_of, peak_rss_of.as_deref()),
        Command::Plugin { command: PluginCommand::Check { component, vectors, scenarios } } => {
            let (suite, consumer) = check_plugin(&component, vectors.as_deref())?;
            if !scenarios {
                return Ok(suite);
            }
            let over_time = check_plugin_over_time(&component, &consumer)?;
            Ok(if suite == ExitCode::SUCCESS { over_time } else { suite })
        }
        Command::Token { command } => token(command),
        Command::Plugin { command: PluginCommand::Bench { component, seconds, perf_map } } => {
            bench_plugin(&component, seconds, perf_map)
        }
        Command::Plugin { command: PluginCommand::New { name, into } } => {
            let made = crate::plugin_new::make_in(&name, into.as_deref()).map_err(InputError)?;
            print(&format!(
                "made {}\nbuild it:  {}\ncheck it:  authzlab plugin check {}\n",
                made.dir.display(),
                made.build,
                made.component.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `authzlab shrink`.
fn shrink(
    path: &Path,
    seed: Option<u64>,
    check: Option<&str>,
    out: Option<PathBuf>,
) -> Result<ExitCode, InputError> {
    let seed = match seed {
        Some(seed) => seed,
        None => Scenario::load(path).map_err(|e| InputError(e.to_string()))?.seed,
    };
    let out = out.unwrap_or_else(|| {
        let stem =
            path.file_stem().map_or_else(|| "scenario".into(), |stem| stem.to_string_lossy().into_owned());
        path.with_file_name(format!("{stem}.shrunk.toml"))
    });
    // Opened first: a destination that cannot be written is refused before the runs.
    let file =
        TraceFile::create_as(&out, &[path], "the shrunk scenario").map_err(|e| InputError(e.to_string()))?;
    let plugins = plugin_host(seed)?;
    let shrunk = crate::shrink::shrink(path, seed, check, &plugins).map_err(InputError)?;
    let mut sink = file.sink().map_err(|e| InputError(e.to_string()))?;
    sink.write_all(shrunk.text.as_bytes()).map_err(|e| InputError(format!("{}: {e}", out.display())))?;
    drop(sink);
    file.commit().map_err(|e| InputError(e.to_string()))?;
    let mut text = format!(
        "{} still fails with seed {seed} after removing {} thing(s) in {} run(s) ({} events, was {}):
",
        shrunk.check,
        shrunk.removed.len(),
        shrunk.runs,
        shrunk.events.1,
        shrunk.events.0
    );
    for what in &shrunk.removed {
        text.push_str(&format!("  - {what}\n"));
    }
    text.push_str(&format!(
        "its failure now: {}\nwrote {}\nrun it: authzlab run {}\n",
        shrunk.detail,
        out.display(),
        report::shell_word(&out)
    ));
    print(&text);
    Ok(ExitCode::SUCCESS)
}

/// `authzlab sweep` and `authzlab sweep merge`.
fn sweep_command(
    targets: &[PathBuf],
    seeds: &str,
    jobs: Option<usize>,
    shard: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode, InputError> {
    use crate::sweep::{self, Summary};
    let summary = if targets.first().is_some_and(|first| first.as_os_str() == "merge") {
        let files = &targets[1..];
        if files.is_empty() || files.len() > sweep::MERGE_FILES_MAX {
            return Err(InputError(format!(
                "sweep merge: name 1 to {} summary files",
                sweep::MERGE_FILES_MAX
            )));
        }
        let mut merged: Option<Summary> = None;
        for file in files {
            let bytes = authzlab_host::input::read_bounded(file, authzlab_host::input::InputKind::Summary)
                .map_err(|e| InputError(e.to_string()))?;
            let summary: Summary = serde_json::from_slice(&bytes)
                .map_err(|e| InputError(format!("{}: not a sweep summary: {e}", file.display())))?;
            match merged.as_mut() {
                None => merged = Some(summary),
                Some(merged) => {
                    merged.merge(&summary).map_err(|e| InputError(format!("{}: {e}", file.display())))?
                }
            }
        }
        merged.expect("at least one file")
    } else {
        let [target] = targets else {
            return Err(InputError(
                "sweep: name one scenario file or directory (or `merge` and summaries)".into(),
            ));
        };
        let seeds = sweep::parse_seeds(seeds).map_err(InputError)?;
        let shard = match shard {
            Some(text) => sweep::Shard::parse(text, |name| std::env::var(name).ok()).map_err(InputError)?,
            None => sweep::Shard::WHOLE,
        };
        let files = sweep::scenario_files(target).map_err(InputError)?;
        let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let total = (seeds.1 - seeds.0 + 1) * files.len() as u64 / shard.count;
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} runs, ~{eta} left",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            Some(bar)
        } else {
            None
        };
        let tick = || {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        };
        // Runs reseed their plugins from their own seed: one host serves every seed.
        let plugins = plugin_host(0)?;
        let summary = sweep::sweep(&files, seeds, shard, jobs, &plugins, &tick).map_err(InputError)?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        summary
    };
    print(&crate::sweep::render(&summary));
    if let Some(out) = out {
        // Whole or not at all: beside it, then renamed.
        let json = serde_json::to_string_pretty(&summary).expect("a summary serializes");
        let temporary = out.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::write(&temporary, json + "\n").and_then(|()| std::fs::rename(&temporary, out));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(InputError(format!("{}: {error}", out.display())));
        }
    }
    Ok(if summary.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The plugin host; a run reseeds its plugins from the scenario seed, so `seed` only
/// matters to `plugin check`.
fn plugin_host(seed: u64) -> Result<PluginHost, InputError> {
    with_cache(PluginHost::new(Limits::default(), seed))
}

/// `host`, keeping precompiled components in [`cache_dir`].
fn with_cache(host: Result<PluginHost, PluginError>) -> Result<PluginHost, InputError> {
    let host = host.map_err(|e| InputError(e.to_string()))?;
    Ok(match cache_dir()? {
        Some(dir) => host.with_cache_dir(dir),
        None => host,
    })
}

/// `$AUTHZLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/authzlab`, else `~/.cache/authzlab`. A set
/// but empty `AUTHZLAB_CACHE_DIR` is an error: taken as a path it would be the current
/// directory, and precompiled code would be written wherever the command was run.
fn cache_dir() -> Result<Option<PathBuf>, InputError> {
    if let Some(dir) = std::env::var_os("AUTHZLAB_CACHE_DIR") {
        if dir.is_empty() {
            return Err(InputError(
                "AUTHZLAB_CACHE_DIR is set but empty; name a directory, or unset it to use \
                 $XDG_CACHE_HOME/authzlab or ~/.cache/authzlab"
                    .to_string(),
            ));
        }
        return Ok(Some(dir.into()));
    }
    let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty());
    if let Some(dir) = xdg {
        return Ok(Some(PathBuf::from(dir).join("authzlab")));
    }
    Ok(std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(".cache").join("authzlab")))
}

/// Prints to stdout; a reader that has gone (`authzlab run x | head`) is not an error, so a
/// closed pipe never turns a verdict into a panic.
fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// One line on stderr. `eprintln!` panics when stderr cannot be written (`2>/dev/full`), which
/// would break the exit-code contract (101); a message nobody can read is dropped instead, and
/// the exit code still says what happened.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Where a run's outputs go besides the report on stdout.
struct Outputs<'a> {
    trace: Option<&'a Path>,
    html: Option<&'a Path>,
    perfetto: Option<&'a Path>,
}

fn run_scenario(
    path: &Path,
    seed: Option<u64>,
    outputs: Outputs<'_>,
    timeline: TimelineMode,
    skip_idle: bool,
    budget: Duration,
) -> Result<ExitCode, InputError> {
    let mut scenario = Scenario::load(path).map_err(|e| InputError(e.to_string()))?;
    scenario.skip_idle &= skip_idle;
    let seed = seed.unwrap_or(scenario.seed);
    let estimate = Estimate::of(&scenario);
    estimate.check(budget).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    // Opened before the run: a destination that cannot take the trace is refused now, not
    // after the run, when the report would be lost.
    let trace_file = outputs
        .trace
        .map(|destination| TraceFile::create(destination, &[path]))
        .transpose()
        .map_err(|e| InputError(e.to_string()))?;
    let page_files = PageFiles::open(
        outputs.html,
        outputs.perfetto,
        &[path],
        outputs.html.is_some().then(|| crate::check::Checks::new(&scenario)),
        &format!("{} · seed {seed}", scenario.name),
    )
    .map_err(InputError)?;
    let mut sink =
        trace_file.as_ref().map(TraceFile::sink).transpose().map_err(|e| InputError(e.to_string()))?;
    if let Some(sink) = sink.as_mut() {
        // The header: what the run is made of, for `authzlab replay` (not hashed).
        let text = authzlab_host::input::read_bounded(path, authzlab_host::input::InputKind::Scenario)
            .map_err(|e| InputError(e.to_string()))?;
        let header = TraceHeader::of(path, &text, &scenario, seed).map_err(InputError)?;
        writeln!(sink, "{}", header.to_line()).map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    }
    let plugins = plugin_host(seed)?;
    let progress = Progress::start(&scenario, &estimate);
    // The estimate is a guide; this is the promise: a run whose steps and events outrun the
    // budget stops (exit 2). Measured in the estimate's own units from the run's counts, not
    // by a clock: the same run stops at the same step on every machine.
    let mut show = |reached: cluster::Reached| {
        progress.show(reached.elapsed);
        let spent = estimate.spent(reached.steps, reached.events);
        match spent > budget {
            true => Err(format!(
                "by its {} steps and {} events so far it has cost about {}, over its budget of {} \
                 (estimated {}); allow more with --budget",
                reached.steps,
                reached.events,
                format_duration(Duration::from_secs(spent.as_secs().max(1))),
                format_duration(budget),
                format_duration(Duration::from_secs(estimate.wall.as_secs().max(1)))
            )),
            false => Ok(()),
        }
    };
    let options = RunOptions {
        sink,
        timeline,
        progress: Some(&mut show),
        shadow: None,
        observers: page_files.observers(),
    };
    let run = cluster::run_with(&scenario, seed, &plugins, options);
    progress.finish();
    // A run that fails drops `trace_file` here, which removes the partial trace.
    let run = run.map_err(|e| InputError(e.to_string()))?;
    print(&report::render(&scenario, &run));
    let verdict = if run.report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) };
    if !run.report.passed() {
        say(&format!(
            "{} check(s) failed; reproduce with: authzlab run {} --seed {}",
            run.report.failures().count(),
            report::shell_word(path),
            seed
        ));
    }
    if page_files.any() {
        let title = PageTitle {
            scenario: path.display().to_string(),
            name: scenario.name.clone(),
            seed,
            sha256: Some(run.trace.hash.clone()),
        };
        let expected: Vec<String> = scenario.violates.iter().chain(&scenario.anomalies).cloned().collect();
        match page_files.commit(&title, Some((&run.report, &expected)), None) {
            Ok(written) => written.iter().for_each(|name| say(&format!("wrote {name}"))),
            Err(error) => {
                say(&format!("error: {error}"));
                return Ok(if run.report.passed() { ExitCode::from(2) } else { verdict });
            }
        }
    }
    if let Some(trace_file) = trace_file {
        let committed = match run.sink_error {
            Some(error) => Err(format!(
                "{}: the trace could not be written: {error}",
                trace_file.destination().display()
            )),
            None => trace_file.commit().map_err(|error| error.to_string()),
        };
        if let Err(error) = committed {
            say(&format!("error: {error}"));
            // A failed check is the verdict; a lost trace on a passing run is the input's fault.
            return Ok(if run.report.passed() { ExitCode::from(2) } else { verdict });
        }
    }
    Ok(verdict)
}

/// A progress bar on stderr for runs estimated to take more than [`PROGRESS_AFTER`], only
/// when stderr is a terminal (never in a pipe, a log or CI).
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(scenario: &Scenario, estimate: &Estimate) -> Progress {
        if estimate.wall < PROGRESS_AFTER || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(scenario.duration.as_secs());
        let style = indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {msg} simulated, ~{eta} left",
        )
        .map(|style| style.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    fn show(&self, elapsed: Duration) {
        if let Some(bar) = &self.0 {
            bar.set_position(elapsed.as_secs());
            bar.set_message(format_duration(Duration::from_secs(elapsed.as_secs())));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn bench(quick: bool, seeds_of: &Path, peak_rss_of: Option<&Path>) -> Result<ExitCode, InputError> {
    let plugins = plugin_host(0)?;
    let outcome = match peak_rss_of {
        Some(scenario) => {
            bench::runs::run_for_peak(scenario, &plugins).map(|kib| format!("peak-rss-kib {kib}\n"))
        }
        None => {
            let scale = if quick { Scale::QUICK } else { Scale::FULL };
            bench::measure(scale, seeds_of, &plugins, &mut |doing| say(&format!("bench: {doing}")))
        }
    };
    match outcome {
        Ok(figures) => {
            print(&figures);
            Ok(ExitCode::SUCCESS)
        }
        Err(BenchError::CheckFailed(message)) => {
            say(&format!("error: {message}"));
            Ok(ExitCode::from(1))
        }
        Err(BenchError::Input(message)) => Err(InputError(message)),
    }
}

/// The event catalogue as scenario authors read it.
fn events_catalogue() -> String {
    let mut out = String::from(
        "Events a trace records. An expectation names one (`event = \"keys-synced\"`), may name\n\
         the node (`node = \"cucm-sub-1\"`) and any of its fields (`reason = \"expired\"`).\n\
         Fields marked ? are not on every event of their kind; [in brackets] the values a field\n\
         can take, which an expectation must keep to (checked before the run starts).\n",
    );
    for spec in CATALOGUE {
        out.push_str(&format!("\n{}\n    {}\n", spec.kind, spec.about));
        let width = spec.fields.iter().map(|field| field.name.len() + 1).max().unwrap_or(0);
        for field in spec.fields {
            let name = format!("{}{}", field.name, if field.optional { "?" } else { "" });
            let domain = field.domain.describe();
            let values = if domain.is_empty() { String::new() } else { format!(" [{domain}]") };
            out.push_str(&format!("    {name:<width$}  {:<7}  {}{values}\n", field.ty, field.about));
        }
    }
    out
}

/// The WASM/native ratio the reference plugins aim at (README "Performance").
const PLUGIN_RATIO_TARGET: f64 = 0.95;
/// Longest measurement `plugin bench` takes per figure.
const PLUGIN_BENCH_SECONDS_MAX: f64 = 60.0;
/// Shortest measurement `plugin bench` takes per figure: below it a figure may count no call
/// at all (a ratio of 0/0), and it would say nothing anyway.
const PLUGIN_BENCH_SECONDS_MIN: f64 = 0.1;
const _: () = assert!(PLUGIN_BENCH_SECONDS_MIN < PLUGIN_BENCH_SECONDS_MAX);

fn bench_plugin(component: &Path, seconds: f64, perf_map: bool) -> Result<ExitCode, InputError> {
    if !(PLUGIN_BENCH_SECONDS_MIN..=PLUGIN_BENCH_SECONDS_MAX).contains(&seconds) {
        return Err(InputError(format!(
            "--seconds {seconds}: give at least {PLUGIN_BENCH_SECONDS_MIN} and at most {PLUGIN_BENCH_SECONDS_MAX}"
        )));
    }
    let plugins =
        if perf_map { with_cache(PluginHost::with_perf_map(Limits::default(), 0))? } else { plugin_host(0)? };
    let (mut plugin, loaded_in) =
        crate::bench::validators::load_timed(&plugins, component).map_err(|e| InputError(e.to_string()))?;
    let figures =
        crate::bench::validators::bench_plugin(&mut plugin, std::time::Duration::from_secs_f64(seconds))
            .map_err(|e| InputError(format!("{}: {e}", component.display())))?;
    let speed = &figures.throughput;
    let ratio = speed.component_per_s / speed.native_per_s;
    print(&format!(
        "{}\n\
         valid access tokens, one core, {seconds} s each, in turns:\n\
         \x20 component          {:>9.0} validations/s\n\
         \x20 native reference   {:>9.0} validations/s\n\
         \x20 ratio              {ratio:>9.3}   (target at least {PLUGIN_RATIO_TARGET}{})\n\
         \x20 bare RS256 verify  {:>9.0} /s      (the crypto floor every validation pays)\n\
         load (compile and first instance)  {:.1} ms\n\
         instantiation                      {:.0} µs\n\
         memory per instance                {} KiB\n\
         fuel per call                      {}\n",
        plugin_line(&plugin),
        speed.component_per_s,
        speed.native_per_s,
        if ratio >= PLUGIN_RATIO_TARGET { ", met" } else { ", missed" },
        speed.raw_verify_per_s,
        loaded_in.as_secs_f64() * 1000.0,
        figures.instantiation.as_secs_f64() * 1e6,
        figures.memory_bytes / 1024,
        figures.fuel_per_call,
    ));
    if perf_map {
        // Where wasmtime's perf map agent writes, for `perf report` to find.
        print(&format!(
            "perf map                           /tmp/perf-{}.map (read by `perf report` of this run)\n",
            std::process::id()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// What a component is: name, version, consumer, contract, SHA-256, and its manifest.
fn plugin_line(plugin: &authzlab_host::Plugin) -> String {
    let info = plugin.info();
    format!(
        "plugin {} {} (serves {}) · contract {}@{} · sha256 {}{}",
        info.name,
        info.version,
        info.consumer,
        authzlab_host::contract::CONTRACT_PACKAGE,
        plugin.contract(),
        plugin.sha256(),
        plugin.manifest().map_or_else(String::new, |manifest| format!(" · pinned by {}", manifest.display()))
    )
}

/// `plugin check --scenarios`: `component` runs as `consumer`, the consumer it says it serves.
fn check_plugin_over_time(component: &Path, consumer: &str) -> Result<ExitCode, InputError> {
    use crate::conformance::shadow::Role;
    let plugins = plugin_host(0)?;
    let role = Role::of_consumer(consumer);
    let scores = crate::conformance::time_aware::run(component, role, &plugins)
        .map_err(|e| InputError(e.to_string()))?;
    let width = scores.iter().map(|score| score.scenario.len()).max().unwrap_or(8).max(8);
    let mut out = format!(
        "\nover time: as {} (the plugin serves {}), every token also checked by the native reference\n{:<width$}  {:>13}  {:>8}  verdicts\n",
        role.display_name(),
        shown(consumer),
        "scenario",
        "presentations",
        "accepted"
    );
    for score in &scores {
        out.push_str(&format!(
            "{:<width$}  {:>13}  {:>8}  {}\n",
            score.scenario,
            score.presentations,
            score.accepted,
            match (&score.first_difference, score.presentations) {
                (Some(difference), _) => format!("DIFFER {difference}"),
                (None, 0) => "no token was presented".to_string(),
                (None, _) => "same at every presentation".to_string(),
            }
        ));
    }
    let failed = scores.iter().filter(|score| !score.passed()).count();
    out.push_str(&format!("{} passed, {} failed\n", scores.len() - failed, failed));
    print(&out);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `plugin check`: its verdict, and the consumer the component says it serves.
fn check_plugin(component: &Path, vectors_path: Option<&Path>) -> Result<(ExitCode, String), InputError> {
    let (vectors, source) = match vectors_path {
        Some(path) => {
            (Vectors::load(path).map_err(|e| InputError(e.to_string()))?, path.display().to_string())
        }
        None => {
            let suite = Vectors::from_file(crate::conformance::suite::build_vectors(), "the built-in suite")
                .map_err(|e| InputError(e.to_string()))?;
            (suite, "the built-in suite".to_string())
        }
    };
    let plugins = plugin_host(0)?;
    let mut plugin = plugins.load_file(component).map_err(|e| InputError(e.to_string()))?;
    let mut out = format!("{}\n{} · {} cases\n", plugin_line(&plugin), source, vectors.cases.len());
    // Wall time per case, for the author's eye (timed in `bench/`, the one place that reads
    // the machine's clock); fuel is the component's deterministic CPU measure.
    let outcomes = crate::bench::validators::run_timed(&vectors, &mut plugin);
    // Names come from the vectors file: escaped and cut, so a hostile one can neither break
    // the table's width nor put control characters on the author's terminal.
    let names: Vec<String> = outcomes.iter().map(|(outcome, _)| shown(&outcome.case)).collect();
    let width = names.iter().map(|name| name.chars().count()).max().unwrap_or(4).max(4);
    out.push_str(&format!(
        "{:<width$}  {:<30}  {:<30}  {:<30}  {:>9}  {:>9}\n",
        "case", "expected", "component", "native", "time", "fuel"
    ));
    for ((outcome, elapsed), name) in outcomes.iter().zip(&names) {
        let mark = |ok: bool, name: String| if ok { name } else { format!("{name} ✗") };
        out.push_str(&format!(
            "{:<width$}  {:<30}  {:<30}  {:<30}  {:>7}µs  {:>9}{}\n",
            name,
            shown(&outcome.expected),
            mark(outcome.component_ok(), outcome.component.name()),
            mark(outcome.native_ok(), outcome.native.name()),
            elapsed.as_micros(),
            outcome.fuel,
            if outcome.passed() { "" } else { "  MISMATCH" }
        ));
        // A fault's cause (fuel, memory, trap) is what its author needs to fix it.
        for (side, verdict) in [("component", &outcome.component), ("native", &outcome.native)] {
            if let Verdict::PluginFault { reason, .. } = verdict {
                out.push_str(&format!("{:<width$}  └ {side} plugin-fault: {reason}\n", ""));
            }
        }
        // What the component logged: already bounded, escaped and without the token.
        for line in &outcome.said.lines {
            out.push_str(&format!("{:<width$}  └ said ({}): {}\n", "", line.level.name(), line.text));
        }
        if outcome.said.dropped > 0 {
            out.push_str(&format!("{:<width$}  └ ({} more lines not kept)\n", "", outcome.said.dropped));
        }
    }
    let failed = outcomes.iter().filter(|(o, _)| !o.passed()).count();
    out.push_str(&format!("{} passed, {} failed\n", outcomes.len() - failed, failed));
    // How much a pass means: the weakened copies of the reference these cases would let through.
    let uncaught = vectors.uncaught_weakenings();
    let total = authzlab_host::weakening::Weakening::ALL.len();
    out.push_str(&format!(
        "suite strength: these cases catch {} of {total} weakened copies of the reference validator{}\n",
        total - uncaught.len(),
        if uncaught.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = uncaught.iter().map(|weakening| weakening.name()).collect();
            format!("; not caught: {}", names.join(", "))
        }
    ));
    // The same cases, last first, on a fresh instance: a verdict that changes says the
    // component kept something from earlier calls, which no case alone can name.
    let mut fresh = plugins.load_file(component).map_err(|e| InputError(e.to_string()))?;
    let forward: Vec<_> = outcomes.into_iter().map(|(outcome, _)| outcome).collect();
    let changes = vectors.order_dependence(&mut fresh, &forward);
    if !changes.is_empty() {
        out.push_str(&format!(
            "your plugin's verdicts depend on earlier calls: {} case(s) changed when the cases ran again, last first, on a fresh instance (keep no state between calls, e.g. no cache of accepted tokens):\n",
            changes.len()
        ));
        for change in &changes {
            out.push_str(&format!(
                "  {}: {} in order, {} last first\n",
                shown(&change.case),
                change.in_order.name(),
                change.reversed.name()
            ));
        }
    }
    print(&out);
    let code = if failed == 0 && changes.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) };
    Ok((code, plugin.info().consumer.clone()))
}

/// `token keys` and `token mint`.
fn token(command: TokenCommand) -> Result<ExitCode, InputError> {
    use crate::mint;
    match command {
        TokenCommand::Keys { out, seed } => {
            let keys = mint::keys_for_seed(seed);
            write_new_secret(&out, &mint::keys_file_text(&keys))?;
            say(&format!("wrote {} (secret test keys; issuer {})", out.display(), keys.cluster_id()));
            print(&format!("{:#}\n", keys.jwk_set()));
        }
        TokenCommand::Mint { kind, claims, keys, seed, now } => {
            let keys = match keys {
                Some(path) => mint::load_keys(&path).map_err(InputError)?,
                None => mint::keys_for_seed(seed),
            };
            let claims = match claims {
                Some(path) => mint::load_claims(&path).map_err(InputError)?,
                None => serde_json::Map::new(),
            };
            let now_s = now.unwrap_or(mint::NOW_DEFAULT_S);
            print(&format!("{}\n", mint::mint(kind, keys, &claims, now_s, seed)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a new file that only its owner may read; refuses to replace an existing one.
fn write_new_secret(path: &Path, text: &str) -> Result<(), InputError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let fail = |e: std::io::Error| InputError(format!("{}: cannot write the keys file: {e}", path.display()));
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => InputError(format!(
            "{}: a file is already there, and `token keys` never replaces one (vectors may still use \
             the keys in it); name a new file or remove that one",
            path.display()
        )),
        _ => fail(e),
    })?;
    if let Err(e) = file.write_all(text.as_bytes()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(fail(e));
    }
    Ok(())
}

/// The most characters of an input-supplied name a report prints.
pub const SHOWN_NAME_CHARS_MAX: usize = 60;

/// An input-supplied name as a report prints it: control characters escaped, at most
/// [`SHOWN_NAME_CHARS_MAX`] characters, a cut one ending in `…`.
fn shown(name: &str) -> String {
    let mut out = String::new();
    for (count, c) in name.chars().enumerate() {
        if count == SHOWN_NAME_CHARS_MAX {
            out.push('…');
            break;
        }
        match c.is_control() {
            true => out.extend(c.escape_default()),
            false => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
