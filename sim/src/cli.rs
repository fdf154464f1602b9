//! The `authzlab` command line. Exit codes are a contract: 0 everything held, 1 an
//! expectation, invariant or vector failed, 2 bad input (the message says which file and why).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use authzlab_host::vectors::Vectors;
use authzlab_host::{Limits, PluginHost};
use clap::{Parser, Subcommand};

use crate::cluster;
use crate::report::{self, TimelineMode};
use crate::scenario::Scenario;

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
    },
    /// Work with validator plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run conformance vectors through a component and the native reference validator.
    Check {
        /// The validator component (.wasm), built for wasm32-wasip2 against wit/.
        component: PathBuf,
        /// A vectors file (format authzlab-vectors/1).
        #[arg(long)]
        vectors: PathBuf,
    },
}

/// Bad input: the message names the file and the fix; exit code 2.
#[derive(Debug)]
pub struct InputError(pub String);

/// Parses the arguments and runs; prints errors once.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(InputError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, InputError> {
    match cli.command {
        Command::Run { scenario, seed, trace, timeline } => {
            run_scenario(&scenario, seed, trace.as_deref(), timeline)
        }
        Command::Plugin { command: PluginCommand::Check { component, vectors } } => {
            check_plugin(&component, &vectors)
        }
    }
}

/// The plugin host; a run reseeds its plugins from the scenario seed, so `seed` only
/// matters to `plugin check`.
fn plugin_host(seed: u64) -> Result<PluginHost, InputError> {
    let host = PluginHost::new(Limits::default(), seed).map_err(|e| InputError(e.to_string()))?;
    Ok(match cache_dir() {
        Some(dir) => host.with_cache_dir(dir),
        None => host,
    })
}

/// `$AUTHZLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/authzlab`, else `~/.cache/authzlab`.
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AUTHZLAB_CACHE_DIR") {
        return Some(dir.into());
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("authzlab"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("authzlab"))
}

fn run_scenario(
    path: &Path,
    seed: Option<u64>,
    trace_path: Option<&Path>,
    timeline: TimelineMode,
) -> Result<ExitCode, InputError> {
    let scenario = Scenario::load(path).map_err(|e| InputError(e.to_string()))?;
    let seed = seed.unwrap_or(scenario.seed);
    let plugins = plugin_host(seed)?;
    let run = cluster::run(&scenario, seed, &plugins).map_err(|e| InputError(e.to_string()))?;
    if let Some(trace_path) = trace_path {
        write_atomically(trace_path, run.jsonl.as_bytes())
            .map_err(|e| InputError(format!("{}: cannot write the trace: {e}", trace_path.display())))?;
    }
    let text = report::render(&scenario, &run, timeline);
    let _ = std::io::stdout().write_all(text.as_bytes());
    if run.report.passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{} check(s) failed; reproduce with: authzlab run {} --seed {}",
            run.report.failures().count(),
            path.display(),
            seed
        );
        Ok(ExitCode::from(1))
    }
}

fn check_plugin(component: &Path, vectors_path: &Path) -> Result<ExitCode, InputError> {
    let vectors = Vectors::load(vectors_path).map_err(|e| InputError(e.to_string()))?;
    let plugins = plugin_host(0)?;
    let mut plugin = plugins.load_file(component).map_err(|e| InputError(e.to_string()))?;
    let info = plugin.info().clone();
    println!(
        "plugin {} {} (serves {}) · {} · {} cases",
        info.name,
        info.version,
        info.consumer,
        vectors_path.display(),
        vectors.cases.len()
    );
    let outcomes = vectors.run(&mut plugin);
    let width = outcomes.iter().map(|o| o.case.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:<30}  {:<30}  {:<30}", "case", "expected", "component", "native");
    for outcome in &outcomes {
        let mark = |ok: bool, name: String| if ok { name } else { format!("{name} ✗") };
        println!(
            "{:<width$}  {:<30}  {:<30}  {:<30}{}",
            outcome.case,
            outcome.expected,
            mark(outcome.component_ok(), outcome.component.name()),
            mark(outcome.native_ok(), outcome.native.name()),
            if outcome.passed() { "" } else { "  MISMATCH" }
        );
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    println!("{} passed, {} failed", outcomes.len() - failed, failed);
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it: a reader never sees
/// half a trace, and an existing file is replaced whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
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
