//! Builds a turmoil simulation from a scenario, drives its steps and collects the trace.
//!
//! * [`build`]: the cluster's hosts, in the order their set-up events are recorded.
//! * [`drive`]: each step delivered at its time, turmoil stepped, quiet time skipped.
//! * [`network`]: the network faults carried out on turmoil's links and hosts.
//! * [`audit`]: the end of a run: the trace finished, the database audited, the result.
//! * [`sip_setup`]: the SIP and edge pieces as the run finds them (database, certificates,
//!   activation codes).

mod audit;
mod build;
mod drive;
mod network;
mod sip_setup;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::plugin::PluginError;
use authzlab_host::{Plugin, PluginHost};

use crate::check::Checks;
use crate::clock;
use crate::node::publisher::ADMIN_QUEUE_MAX;
use crate::node_id::NodeId;
pub use crate::report::run::Run;
use crate::report::{Exposures, Logins, Purges, Timeline, TimelineMode};
use crate::scenario::{Scenario, ValidatorSource, CLIENTS_MAX, CUCM_SUBSCRIBERS_MAX};
use crate::seeds::Seeds;
use crate::trace::{self, Happening, Trace};
use audit::Readers;

/// Clients sign in spread evenly over this window after boot, as people arrive at work,
/// each with a seeded jitter of up to a minute. Evenly spread sign-ins spread the refreshes
/// too, so after a key change some clients still hold old tokens when others already
/// hold new ones.
const CLIENT_START_MIN: Duration = Duration::from_secs(10);
const CLIENT_START_WINDOW: Duration = Duration::from_secs(30 * 60);
const CLIENT_START_JITTER_MS: u64 = 60_000;
/// Connections one listener may have waiting to be accepted within one tick. turmoil panics
/// past its capacity (default 64), and every client may connect to the same server in the
/// same tick (at a 10 s tick, hundreds do), so the backlog is sized from the scenario
/// limits: one connection per client (a client has at most one request in flight, and a
/// proxy-mode question about its token is asked only while that request waits), plus the
/// cluster's own: one key push per subscriber and Unity's key fetches.
pub const TCP_BACKLOG: usize = CLIENTS_MAX as usize + SERVER_CONNECTIONS_MAX;
/// Connections between server nodes at once: a key push per subscriber, Unity's start-up
/// fetch and its refetches (at most one a minute, each bounded by the request timeout).
const SERVER_CONNECTIONS_MAX: usize = 64;
/// Steps between two calls of the progress observer.
const PROGRESS_EVERY_STEPS: u64 = 4096;

const _: () = assert!(SERVER_CONNECTIONS_MAX >= CUCM_SUBSCRIBERS_MAX as usize + 2);

/// Where a run's output goes besides its [`Run`].
pub struct RunOptions<'p> {
    /// Receives the trace as JSON Lines while the run goes (`--trace`).
    pub sink: Option<Box<dyn Write>>,
    /// What the timeline keeps.
    pub timeline: TimelineMode,
    /// Told how far the run has come every few thousand steps (for a progress bar and the
    /// command line's budget). It sees nothing of the trace and cannot change the run; it
    /// can only stop it, with its reason ([`RunError::Stopped`]).
    pub progress: Option<&'p mut dyn FnMut(Reached) -> Result<(), String>>,
    /// Unity Connection also checks every token with the native reference, keeping both
    /// verdicts here (`plugin check --scenarios`); the trace is the same either way.
    pub shadow: Option<crate::conformance::shadow::Shadow>,
    /// More readers of the trace as it streams (the timeline page, a Perfetto file).
    pub observers: Vec<Box<dyn crate::trace::Observe>>,
}

/// How far a run has come: what its progress observer is told. All of it simulated and
/// counted, none of it measured, so an observer that stops a run stops it at the same step on
/// every machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reached {
    pub elapsed: Duration,
    /// turmoil steps taken.
    pub steps: u64,
    /// Events recorded.
    pub events: u64,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            sink: None,
            timeline: TimelineMode::Story,
            progress: None,
            shadow: None,
            observers: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("{scenario}: validator {name:?} is neither a built-in plugin ({builtins}) nor a .wasm file")]
    UnknownValidator { scenario: String, name: String, builtins: String },
    #[error("the simulation stopped: {0}")]
    Simulation(String),
    #[error("the run was stopped at {} simulated: {reason}", crate::clock::format_elapsed(*at_ms))]
    Stopped { at_ms: u64, reason: String },
    #[error(
        "the trace reached {} events (TRACE_EVENTS_MAX) at {}, so the run stopped there; \
         shorten the run or lower the client count",
        trace::TRACE_EVENTS_MAX,
        crate::clock::format_elapsed(*at_ms)
    )]
    TraceFull { at_ms: u64 },
    #[error("the publisher's admin queue is full ({ADMIN_QUEUE_MAX} commands waiting)")]
    AdminQueueFull,
}

/// Runs `scenario` with `seed` (the scenario's own seed unless overridden by the caller),
/// keeping the story timeline.
pub fn run(scenario: &Scenario, seed: u64, plugins: &PluginHost) -> Result<Run, RunError> {
    run_with(scenario, seed, plugins, RunOptions::default())
}

/// [`run`] with a trace sink, a timeline mode and a progress observer: the cluster built
/// ([`build`]), driven to the scenario's end ([`drive`]) and its result read ([`audit`]).
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    plugins: &PluginHost,
    options: RunOptions<'_>,
) -> Result<Run, RunError> {
    let RunOptions { sink, timeline, progress, shadow, observers } = options;
    let seeds = Seeds::new(seed);
    let trace = Trace::new();
    trace.expect_names(scenario.names());
    if let Some(sink) = sink {
        trace.stream_to(sink);
    }
    let readers = Readers {
        checks: Rc::new(RefCell::new(Checks::new(scenario))),
        timeline: Rc::new(RefCell::new(Timeline::new(timeline))),
        exposures: Rc::new(RefCell::new(Exposures::default())),
        purges: Rc::new(RefCell::new(Purges::default())),
        logins: Rc::new(RefCell::new(Logins::default())),
    };
    trace.observe(Box::new(readers.checks.clone()));
    trace.observe(Box::new(readers.timeline.clone()));
    trace.observe(Box::new(readers.exposures.clone()));
    trace.observe(Box::new(readers.purges.clone()));
    trace.observe(Box::new(readers.logins.clone()));
    for observer in observers {
        trace.observe(observer);
    }
    clock::reset();
    crate::proto::tls::reseed(seeds.derive_u64("tls"));
    let mut built = build::build(scenario, &seeds, plugins, shadow.as_ref(), &trace)?;
    let steps = drive::drive(&mut built, scenario, &trace, progress)?;
    audit::audit(built, scenario, seed, trace, readers, steps)
}

/// A path registered with [`crate::cleanup`] for as long as this lives.
struct Registered(std::path::PathBuf);

impl Registered {
    fn new(path: &std::path::Path) -> Registered {
        crate::cleanup::register(path);
        Registered(path.to_path_buf())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        crate::cleanup::forget(&self.0);
    }
}

/// No message is on a link. Messages already handed to a host's queue are not listed here;
/// the step that sent them said so (`clock::take_network_activity`).
fn network_quiet(sim: &turmoil::Sim<'_>) -> bool {
    let mut quiet = true;
    sim.links(|mut links| quiet = links.all(|mut link| link.next().is_none()));
    quiet
}

/// The quiet time to skip when the next step would run at `next_step_at` and nothing can
/// happen before `wake_at`: whole ticks, so that the step that wakes a sleeper runs at the
/// same simulated time as it would without skipping (the first tick at or after its deadline).
pub fn quiet_gap(next_step_at: Duration, wake_at: Duration, tick: Duration) -> Duration {
    if wake_at <= next_step_at {
        return Duration::ZERO;
    }
    let tick_ns = tick.as_nanos().max(1);
    let ticks = (wake_at - next_step_at).as_nanos().div_ceil(tick_ns);
    // Runs last at most DURATION_MAX (~7.9e15 ns): the product fits a u64 of nanoseconds.
    Duration::from_nanos(u64::try_from(ticks * tick_ns).unwrap_or(u64::MAX))
}

/// Records, at the start, which plugin `node` loaded: name, SHA-256, contract, limits.
fn record_plugin(trace: &Trace, node: &NodeId, plugin: &Plugin) {
    let info = plugin.info();
    let limits = plugin.limits();
    trace.record(
        0,
        node,
        Happening::PluginLoaded {
            plugin: info.name.clone(),
            version: info.version.clone(),
            consumer: info.consumer.clone(),
            sha256: plugin.sha256().to_string(),
            contract: plugin.contract().to_string(),
            fuel_per_call: limits.fuel_per_call,
            memory_bytes_max: limits.memory_bytes_max as u64,
            manifest: plugin.manifest().map(|path| path.display().to_string()),
        },
    );
}

/// A built-in plugin by name, or a component file relative to the scenario (held to its
/// manifest when it has one, and refused without one when the scenario requires manifests).
fn load_validator(scenario: &Scenario, name: &str, plugins: &PluginHost) -> Result<Plugin, RunError> {
    match scenario.validator_source(name) {
        Some(ValidatorSource::BuiltIn(artifact)) => Ok(plugins.load(artifact.name, artifact.bytes)?),
        Some(ValidatorSource::File(path)) => {
            Ok(plugins.load_file_pinned(&path, scenario.cluster.require_manifests)?)
        }
        None => Err(RunError::UnknownValidator {
            scenario: scenario.path.display().to_string(),
            name: name.to_string(),
            builtins: authzlab_plugins::ALL.iter().map(|a| a.name).collect::<Vec<_>>().join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_is_whole_ticks_up_to_the_first_step_at_or_after_the_wake() {
        let ms = Duration::from_millis;
        assert_eq!(quiet_gap(ms(1000), ms(1000), ms(100)), Duration::ZERO);
        assert_eq!(quiet_gap(ms(1000), ms(900), ms(100)), Duration::ZERO);
        assert_eq!(
            quiet_gap(ms(1000), ms(1250), ms(100)),
            ms(300),
            "the step at 1300 is the first at or after 1250"
        );
        assert_eq!(quiet_gap(ms(1000), ms(1300), ms(100)), ms(300));
        assert_eq!(
            quiet_gap(ms(0), Duration::from_secs(91 * 86_400), ms(1)),
            Duration::from_secs(91 * 86_400)
        );
    }
}
