//! Builds a turmoil simulation from a scenario, drives its steps and collects the trace.
//!
//! * [`sip_setup`]: the SIP and edge pieces as the run finds them (database, certificates,
//!   activation codes).

mod sip_setup;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::plugin::PluginError;
use authzlab_host::{Plugin, PluginHost};
use rand_core::RngCore;

use crate::certs::device_trust::CLIENT_CHECKED;
use crate::certs::{self, DeviceTrust, Service};
use crate::check::{self, Checks, Report};
use crate::clock;
use crate::node::admin::{AdminCall, ADMIN_CALLS_MAX};
use crate::node::cucm_pub::{self, AdminCommand, Grants, Publisher, ADMIN_QUEUE_MAX};
use crate::node::cucm_sub::{self, Subscriber};
use crate::node::expressway::{self, EdgeCommand, ExpresswayC};
use crate::node::idp::{self, Idp};
use crate::node::imp::{self, ImpNode};
use crate::node::login::ClientConfig;
use crate::node::node_keys::NodeCommand;
use crate::node::site;
use crate::node::unity::{self, Unity};
use crate::proto::sso::AssertionKey;
use crate::report::{Exposures, Logins, Purges, Timeline, TimelineMode};
use crate::scenario::{
    Action, Scenario, Site, ValidatorSource, CAMPUS_SITE, CLIENTS_MAX, CUCM_SUBSCRIBERS_MAX, EXPRESSWAY_C,
    EXPRESSWAY_E, REMOTE_SITE, SCENARIO_NODE,
};
use crate::seeds::Seeds;
use crate::store::RefreshTokenStore;
use crate::tokens::client_id_hash;
use crate::trace::catalogue::EventKind;
use crate::trace::{self, Happening, Trace};
use sip_setup::SipSetUp;

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

/// A finished run: what held, the trace's certificate and the timeline. The trace itself
/// went to the sink as it happened (docs/architecture.md "Trace and checks").
pub struct Run {
    pub seed: u64,
    /// The trace's hash (the replay certificate), its size and its events per kind.
    pub trace: trace::Summary,
    pub report: Report,
    pub timeline: Timeline,
    /// Each revocation's exposure window.
    pub exposures: Exposures,
    /// The daily purges and the refreshes that waited for them.
    pub purges: Purges,
    /// How each device signed in, and what proxy mode cost.
    pub logins: Logins,
    /// turmoil steps taken: with idle skipping, far fewer than duration / tick.
    pub steps: u64,
    /// Why the trace sink failed, if it did (a full disk); the checks still saw every event.
    pub sink_error: Option<std::io::Error>,
}

impl Run {
    /// Events of kind `kind` in the trace.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.trace.counts.get(kind.name()).copied().unwrap_or(0)
    }
}

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
    #[error(
        "{scenario}: unity validator {name:?} is neither a built-in plugin ({builtins}) nor a .wasm file"
    )]
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

/// [`run`] with a trace sink, a timeline mode and a progress observer.
pub fn run_with(
    scenario: &Scenario,
    seed: u64,
    plugins: &PluginHost,
    options: RunOptions<'_>,
) -> Result<Run, RunError> {
    let RunOptions { sink, timeline, mut progress, shadow, observers } = options;
    let seeds = Seeds::new(seed);
    let trace = Trace::new();
    trace.expect_names(scenario.names());
    if let Some(sink) = sink {
        trace.stream_to(sink);
    }
    let checks = Rc::new(RefCell::new(Checks::new(scenario)));
    trace.observe(Box::new(checks.clone()));
    let timeline = Rc::new(RefCell::new(Timeline::new(timeline)));
    trace.observe(Box::new(timeline.clone()));
    let exposures = Rc::new(RefCell::new(Exposures::default()));
    trace.observe(Box::new(exposures.clone()));
    let purges = Rc::new(RefCell::new(Purges::default()));
    trace.observe(Box::new(purges.clone()));
    let logins = Rc::new(RefCell::new(Logins::default()));
    trace.observe(Box::new(logins.clone()));
    for observer in observers {
        trace.observe(observer);
    }
    clock::reset();
    crate::proto::tls::reseed(seeds.derive_u64("tls"));
    let epoch_s = scenario.epoch_s;

    let subscribers = scenario.cluster.cucm_subscriber_nodes();
    let imp_nodes = scenario.cluster.imp_nodes();
    // The key the IdP and AuthZ share from the SSO set-up, drawn from the seed.
    let assertion_key = scenario.cluster.sso.then(|| {
        let mut bytes = [0u8; 32];
        seeds.rng("sso-assertion-key").fill_bytes(&mut bytes);
        AssertionKey::new(bytes)
    });
    let grants = Grants {
        release: scenario.cluster.release,
        refresh_login_flow: scenario.refresh_login_flow,
        sso: assertion_key.clone(),
    };
    // The publisher's disk: its refresh-token table is a database file here, which a crash
    // of the node does not touch. Removed when the run ends.
    let disk = tempfile::Builder::new()
        .prefix(&crate::cleanup::run_dir_prefix())
        .tempdir()
        .map_err(|e| RunError::Simulation(format!("cannot make the run's temporary directory: {e}")))?;
    // Removed by `disk`'s drop when the run ends, by the signal handler if it is interrupted.
    let _registered = Registered::new(disk.path());
    let store = RefreshTokenStore::open(&disk.path().join("refreshtokendetails.sqlite"))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    let devices = scenario.devices();
    let sip = match &scenario.cluster.sip {
        Some(sip) => Some(SipSetUp::new(scenario, sip, &seeds, &devices, &subscribers, disk.path(), &trace)?),
        None => None,
    };
    let publisher = Publisher::new(
        &seeds,
        scenario.lifetimes,
        grants,
        store,
        // Every CallManager and IM and Presence node receives the keys (docs/domain.md).
        subscribers.iter().cloned().chain(imp_nodes.iter().cloned()).collect(),
        epoch_s,
        trace.node("cucm-pub"),
    );
    let publisher = match &sip {
        Some(sip) => publisher.with_sip(sip.admin(&subscribers)),
        None => publisher,
    };
    let publisher = Rc::new(RefCell::new(publisher));
    let (admin_sender, admin_receiver) = tokio::sync::mpsc::channel(ADMIN_QUEUE_MAX);
    let admin = Rc::new(RefCell::new(admin_receiver));

    let mut sim = turmoil::Builder::new()
        .rng_seed(seeds.derive_u64("turmoil"))
        .tick_duration(scenario.tick)
        .simulation_duration(scenario.duration + scenario.tick * 10)
        .tcp_capacity(TCP_BACKLOG)
        .build();

    publisher
        .borrow_mut()
        .preload(scenario.purge.preloaded_expired_rows, &scenario.purge.preloaded)
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    {
        let publisher = publisher.clone();
        let (purge, tick) = (scenario.purge.clone(), scenario.tick);
        sim.host("cucm-pub", move || cucm_pub::run(publisher.clone(), admin.clone(), purge.clone(), tick));
    }
    // One CLI queue per subscriber and IM and Presence node (the publisher has its own).
    let mut node_commands = std::collections::BTreeMap::new();
    let mut command_queue = |name: &str| {
        let (sender, receiver) = tokio::sync::mpsc::channel(crate::scenario::STEPS_MAX);
        node_commands.insert(name.to_string(), sender);
        Rc::new(RefCell::new(receiver))
    };
    let mut subscriber_states = Vec::new();
    for (index, name) in subscribers.iter().enumerate() {
        let subscriber = Subscriber::new("cucm-pub", epoch_s, trace.node(name));
        let subscriber = match &sip {
            Some(sip) => {
                let mut plugin = load_validator(scenario, &sip.validator, plugins)?;
                plugin.reseed(seeds.derive_u64(&format!("plugin:callmanager:{name}")));
                record_plugin(&trace, name, &plugin);
                let keys = subscriber.keys();
                subscriber.with_sip(sip.subscriber(index, keys, plugin, epoch_s, trace.node(name)))
            }
            None => subscriber,
        };
        let subscriber = Rc::new(RefCell::new(subscriber));
        subscriber_states.push(subscriber.clone());
        let commands = command_queue(name);
        sim.host(name.as_str(), move || cucm_sub::run(subscriber.clone(), commands.clone()));
    }
    let mut imp_states = Vec::new();
    let device_trust = DeviceTrust::default();
    let high_availability =
        Rc::new(Cell::new(scenario.cluster.imp.as_ref().is_some_and(|imp| imp.high_availability)));
    if let Some(imp) = &scenario.cluster.imp {
        // Issued before the run, as when the nodes were installed.
        let stores = certs::install::install(&imp_nodes, &seeds, epoch_s, imp.expired_trust)
            .map_err(RunError::Simulation)?;
        for (name, certs) in imp_nodes.iter().zip(stores) {
            let mut plugin = load_validator(scenario, &imp.validator, plugins)?;
            plugin.reseed(seeds.derive_u64(&format!("plugin:{name}")));
            record_plugin(&trace, name, &plugin);
            let node = Rc::new(RefCell::new(ImpNode::new(
                plugin,
                "cucm-pub",
                &imp_nodes[0],
                certs,
                high_availability.clone(),
                epoch_s,
                trace.node(name),
            )));
            imp_states.push(node.clone());
            let commands = command_queue(name);
            sim.host(name.as_str(), move || imp::run(node.clone(), commands.clone()));
        }
    }
    // Devices trust what was pushed at set-up (assumption in certs::device_trust).
    let cucm_certs = sip.as_ref().map(|sip| sip.cluster_certs.clone()).unwrap_or_default();
    push_client_trust(&device_trust, &imp_states, &cucm_certs);
    let unity_host = match &scenario.cluster.unity_validator {
        Some(validator) => {
            let mut plugin = load_validator(scenario, validator, plugins)?;
            plugin.reseed(seeds.derive_u64("plugin:unity"));
            record_plugin(&trace, "unity", &plugin);
            let unity =
                Unity::new(plugin, "cucm-pub", epoch_s, trace.node("unity")).with_shadow(shadow.clone());
            let unity = Rc::new(RefCell::new(unity));
            sim.host("unity", move || unity::run(unity.clone()));
            Some("unity".to_string())
        }
        None => None,
    };
    let idp_host = match assertion_key {
        Some(key) => {
            let idp = Rc::new(RefCell::new(Idp::new(
                key,
                seeds.rng("sso-assertion-ids"),
                epoch_s,
                trace.node("idp"),
            )));
            sim.host("idp", move || idp::run(idp.clone()));
            Some("idp".to_string())
        }
        None => None,
    };

    let (edge_sender, edge_receiver) = tokio::sync::mpsc::channel(crate::scenario::STEPS_MAX);
    let edge_receiver = Rc::new(RefCell::new(edge_receiver));
    if let (Some(expressway), Some(sip)) = (&scenario.cluster.expressway, &sip) {
        let mut plugin = load_validator(scenario, &expressway.validator, plugins)?;
        plugin.reseed(seeds.derive_u64("plugin:expressway"));
        record_plugin(&trace, EXPRESSWAY_C, &plugin);
        let trust: Rc<dyn Fn() -> Vec<certs::Certificate>> = if expressway.trusts_callmanager {
            let cluster = sip.cluster_certs.clone();
            Rc::new(move || {
                cluster.iter().map(|certs| certs.borrow().identity(certs::Identity::Tomcat).clone()).collect()
            })
        } else {
            Rc::new(Vec::new)
        };
        let edge = ExpresswayC::new(
            plugin,
            "cucm-pub",
            sip.authority.clone(),
            &expressway.san,
            trust,
            seeds.rng("certs:expressway-c"),
            epoch_s,
            trace.node(EXPRESSWAY_C),
        )
        .map_err(RunError::Simulation)?;
        let edge = Rc::new(RefCell::new(edge));
        let commands = edge_receiver.clone();
        sim.host(EXPRESSWAY_C, move || expressway::run_c(edge.clone(), commands.clone()));
        sim.host(EXPRESSWAY_E, || expressway::run_e(EXPRESSWAY_C.to_string()));
    }

    let mut starts = seeds.rng("client-start");
    let start_step = CLIENT_START_WINDOW / (devices.len() as u32).max(1);
    let clients: Vec<ClientConfig> = devices
        .into_iter()
        .enumerate()
        .map(|(index, device)| ClientConfig {
            activation_code: sip.as_ref().and_then(|sip| sip.activation_code(&device.name)),
            name: device.name,
            user: device.user,
            kind: device.kind,
            idp: idp_host.clone(),
            publisher: "cucm-pub".to_string(),
            subscriber: subscribers[index % subscribers.len()].clone(),
            unity: unity_host.clone(),
            // Homed on the IM and Presence nodes in turn, as on the subscribers.
            imp: (!imp_nodes.is_empty()).then(|| imp_nodes[index % imp_nodes.len()].clone()),
            device_trust: device_trust.clone(),
            edge: (device.site == Site::Remote).then(|| EXPRESSWAY_E.to_string()),
            sip: sip.is_some(),
            epoch_s,
            start_delay: {
                // Drawn for every device, so that a group with its own start leaves the
                // others' jitter as it was.
                let jitter = Duration::from_millis(starts.next_u64() % CLIENT_START_JITTER_MS);
                device.start.unwrap_or(CLIENT_START_MIN + start_step * index as u32 + jitter)
            },
        })
        .collect();
    // The administrator's console sits on the campus site with the clients.
    let (admin_calls, admin_call_receiver) = tokio::sync::mpsc::channel(ADMIN_CALLS_MAX);
    let admin_call_receiver = Rc::new(RefCell::new(admin_call_receiver));
    let (remote, campus): (Vec<ClientConfig>, Vec<ClientConfig>) =
        clients.into_iter().partition(|client| client.edge.is_some());
    if !campus.is_empty() || !remote.is_empty() {
        let trace = trace.clone();
        sim.host(CAMPUS_SITE, move || {
            site::run(campus.clone(), Some(admin_call_receiver.clone()), trace.clone())
        });
    }
    if !remote.is_empty() {
        let trace = trace.clone();
        sim.host(REMOTE_SITE, move || site::run(remote.clone(), None, trace.clone()));
    }

    let mut steps = scenario.steps.iter().peekable();
    let mut steps_taken: u64 = 0;
    loop {
        // The time of the step about to run, as nodes and the trace see it.
        let elapsed = sim.elapsed() + clock::warp();
        while let Some(step) = steps.next_if(|step| step.at <= elapsed) {
            let t_ms = elapsed.as_millis() as u64;
            trace.record(t_ms, SCENARIO_NODE, step_event(&step.action));
            // The driver only routes: what an action means lives in the node that carries it
            // out. The queues hold every step of a scenario (ADMIN_QUEUE_MAX, ADMIN_CALLS_MAX)
            // and their receivers live as long as `sim`.
            match &step.action {
                Action::RegenerateKey(kind) => admin_sender
                    .try_send(AdminCommand::RegenerateKey(*kind))
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::SetExpiry { timer, value_s } => admin_sender
                    .try_send(AdminCommand::SetExpiry(*timer, *value_s))
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::SetRefreshLoginFlow(enabled) => admin_sender
                    .try_send(AdminCommand::SetRefreshLoginFlow(*enabled))
                    .map_err(|_| RunError::AdminQueueFull)?,
                // The parser admits a revoke only for a user with a device, so the campus site
                // and its console exist.
                Action::Revoke { user, device } => admin_calls
                    .try_send(AdminCall::Revoke {
                        user: user.clone(),
                        ccid: device.as_deref().map(client_id_hash),
                    })
                    .map_err(|_| RunError::AdminQueueFull)?,
                // A CLI command each node answers at once from its own state, recorded at the
                // step's time (the driver runs between turmoil steps).
                Action::ShowKeys => {
                    trace.record(t_ms, "cucm-pub", publisher.borrow().show_keys());
                    for (name, subscriber) in subscribers.iter().zip(&subscriber_states) {
                        trace.record(t_ms, name, subscriber.borrow().show_keys());
                    }
                    for (name, node) in imp_nodes.iter().zip(&imp_states) {
                        trace.record(t_ms, name, node.borrow().show_keys());
                    }
                }
                // Faults act on the network and the hosts, which only the driver holds.
                Action::Partition { a, b, oneway: false } => sim.partition(a.as_str(), b.as_str()),
                Action::Partition { a, b, oneway: true } => sim.partition_oneway(a.as_str(), b.as_str()),
                Action::Repair { a, b, oneway: false } => sim.repair(a.as_str(), b.as_str()),
                Action::Repair { a, b, oneway: true } => sim.repair_oneway(a.as_str(), b.as_str()),
                Action::Link { a, b, latency, loss_ppm } => {
                    if let Some(latency) = latency {
                        sim.set_link_latency(a.as_str(), b.as_str(), *latency);
                    }
                    if let Some(loss_ppm) = loss_ppm {
                        sim.set_link_fail_rate(a.as_str(), b.as_str(), f64::from(*loss_ppm) / 1e6);
                    }
                }
                // The parser admits these only for nodes that take them: key pulls on a
                // subscriber or IM and Presence node, a Tomcat restart on any CallManager or IM
                // and Presence node, the rest on IM and Presence nodes.
                Action::RestartService { node, service: Service::Tomcat } if node == "cucm-pub" => {
                    admin_sender
                        .try_send(AdminCommand::RestartTomcat)
                        .map_err(|_| RunError::AdminQueueFull)?
                }
                Action::PullKeys { node, .. }
                | Action::RestartService { node, .. }
                | Action::StopService { node, .. }
                | Action::StartService { node, .. }
                | Action::RegenerateCertificate { node, .. }
                | Action::DeleteCertificate { node, .. } => node_commands
                    .get(node)
                    .ok_or_else(|| RunError::Simulation(format!("{node} takes no CLI commands")))?
                    .try_send(node_command(&step.action))
                    .map_err(|_| RunError::AdminQueueFull)?,
                // Settings the administrator changes on a page, in effect at once.
                Action::SetHighAvailability(enabled) => {
                    high_availability.set(*enabled);
                    trace.record(t_ms, "cucm-pub", Happening::HighAvailabilityChanged { enabled: *enabled });
                }
                Action::PushClientTrust => {
                    let certificates = push_client_trust(&device_trust, &imp_states, &cucm_certs);
                    trace.record(t_ms, CAMPUS_SITE, Happening::ClientTrustPushed { certificates });
                }
                Action::SetSipOAuthMode(enabled) => admin_sender
                    .try_send(AdminCommand::SetSipOAuthMode(*enabled))
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::SetSipPorts { node, phone_port, mra_port } => admin_sender
                    .try_send(AdminCommand::SetSipPorts {
                        node: node.clone(),
                        phone_port: *phone_port,
                        mra_port: *mra_port,
                    })
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::SetSecurityProfile { digest_authentication, tftp_encrypted_config } => admin_sender
                    .try_send(AdminCommand::SetSecurityProfile {
                        digest_authentication: *digest_authentication,
                        tftp_encrypted_config: *tftp_encrypted_config,
                    })
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::RefreshExpressway => {
                    edge_sender.try_send(EdgeCommand::Refresh).map_err(|_| RunError::AdminQueueFull)?
                }
                Action::ReissueExpresswayCertificate { san } => edge_sender
                    .try_send(EdgeCommand::Reissue(san.clone()))
                    .map_err(|_| RunError::AdminQueueFull)?,
                Action::Crash(node) => sim.crash(node.as_str()),
                Action::Restart(node) => sim.bounce(node.as_str()),
                Action::Skew { node, offset_ms, drift_ppm } => clock::set_skew(node, *offset_ms, *drift_ppm),
            }
        }
        if elapsed >= scenario.duration {
            break;
        }
        // A full trace ends the run now rather than after hours of events it cannot keep.
        if trace.overflowed() {
            return Err(RunError::TraceFull { at_ms: elapsed.as_millis() as u64 });
        }
        clock::wake_due(elapsed);
        sim.step().map_err(|e| RunError::Simulation(e.to_string()))?;
        steps_taken += 1;
        if let Some(progress) = progress.as_mut().filter(|_| steps_taken.is_multiple_of(PROGRESS_EVERY_STEPS))
        {
            progress(Reached { elapsed, steps: steps_taken, events: trace.events() })
                .map_err(|reason| RunError::Stopped { at_ms: elapsed.as_millis() as u64, reason })?;
        }
        let touched_sockets = clock::take_network_activity();
        if scenario.skip_idle && !touched_sockets && network_quiet(&sim) {
            let next_step_at = sim.elapsed() + clock::warp();
            let wake_at = [clock::next_deadline(), steps.peek().map(|step| step.at), Some(scenario.duration)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(scenario.duration);
            clock::advance_warp(quiet_gap(next_step_at, wake_at, scenario.tick));
        }
    }
    drop(sim);

    if trace.overflowed() {
        return Err(RunError::TraceFull { at_ms: scenario.duration.as_millis() as u64 });
    }
    let (summary, written) = trace.finish();
    let mut report = checks.borrow().report();
    // One check reads the database itself rather than the trace.
    let mut audit = check::invariants::TableHoldsNoRawToken::default();
    publisher
        .borrow()
        .each_table_row(|row| audit.observe(row))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    report.invariants.push(audit.outcome());
    report.expect_violations(&scenario.violates);
    let timeline = timeline.borrow().clone();
    let exposures = exposures.borrow().clone();
    let purges = purges.borrow().clone();
    let logins = logins.borrow().clone();
    Ok(Run {
        seed,
        trace: summary,
        report,
        timeline,
        exposures,
        purges,
        logins,
        steps: steps_taken,
        sink_error: written.err(),
    })
}

/// The IM and Presence nodes' current `cup-xmpp.pem` and `tomcat.pem`, and the subscribers'
/// `tomcat.pem`, into the devices' trust (group policy, MDM); how many certificates the
/// devices trust now.
fn push_client_trust(
    device_trust: &DeviceTrust,
    imp_nodes: &[Rc<RefCell<ImpNode>>],
    cucm_certs: &[Rc<RefCell<certs::CertStore>>],
) -> u32 {
    let mut trusted = 0;
    for node in imp_nodes {
        let certs = node.borrow().certs();
        let certs = certs.borrow();
        trusted = device_trust.push(CLIENT_CHECKED.map(|identity| certs.identity(identity)));
    }
    for certs in cucm_certs {
        let certs = certs.borrow();
        trusted = device_trust.push([certs.identity(certs::Identity::Tomcat)]);
    }
    trusted
}

/// The command a node carries out for a step routed to it.
fn node_command(action: &Action) -> NodeCommand {
    match action {
        Action::PullKeys { .. } => NodeCommand::PullKeys,
        Action::RestartService { service, .. } => NodeCommand::RestartService(*service),
        Action::StopService { service, .. } => NodeCommand::StopService(*service),
        Action::StartService { service, .. } => NodeCommand::StartService(*service),
        Action::RegenerateCertificate { identity, .. } => NodeCommand::RegenerateCertificate(*identity),
        Action::DeleteCertificate { certificate, .. } => NodeCommand::DeleteCertificate(certificate.clone()),
        other => unreachable!("{} is not a node's command", other.name()),
    }
}

/// The `step` event of a scenario action, with its parameters.
fn step_event(action: &Action) -> Happening {
    let mut event = Happening::Step {
        action: action.name().to_string(),
        key: None,
        user: None,
        client: None,
        param: None,
        value_s: None,
        enabled: None,
        between: None,
        oneway: None,
        target: None,
        offset_ms: None,
        drift_ppm: None,
        latency_ms: None,
        loss_ppm: None,
        service: None,
        certificate: None,
        ports: None,
        san: None,
        settings: None,
    };
    let Happening::Step {
        key,
        user,
        client,
        param,
        value_s,
        enabled,
        between,
        oneway,
        target,
        offset_ms,
        drift_ppm,
        latency_ms,
        loss_ppm,
        service: service_name,
        certificate: certificate_name,
        ports,
        san: san_names,
        settings,
        ..
    } = &mut event
    else {
        unreachable!("built as a step just above")
    };
    match action {
        Action::RegenerateKey(kind) => *key = Some(kind.to_string()),
        Action::Revoke { user: whose, device } => (*user, *client) = (Some(whose.clone()), device.clone()),
        Action::SetExpiry { timer, value_s: value } => {
            (*param, *value_s) = (Some(timer.to_string()), Some(*value))
        }
        Action::SetRefreshLoginFlow(flag) => {
            (*param, *enabled) = (Some("refresh_login_flow".to_string()), Some(*flag))
        }
        Action::ShowKeys => {}
        Action::Partition { a, b, oneway: one } | Action::Repair { a, b, oneway: one } => {
            (*between, *oneway) = (Some(format!("{a} {b}")), one.then_some(true))
        }
        Action::Link { a, b, latency, loss_ppm: loss } => {
            *between = Some(format!("{a} {b}"));
            *latency_ms = latency.map(|latency| latency.as_millis() as u64);
            *loss_ppm = *loss;
        }
        Action::Crash(node) | Action::Restart(node) => *target = Some(node.clone()),
        Action::PullKeys { node, kind } => (*target, *key) = (Some(node.clone()), Some(kind.to_string())),
        Action::RestartService { node, service }
        | Action::StopService { node, service }
        | Action::StartService { node, service } => {
            (*target, *service_name) = (Some(node.clone()), Some(service.name().to_string()))
        }
        Action::RegenerateCertificate { node, identity } => {
            (*target, *certificate_name) = (Some(node.clone()), Some(identity.name().to_string()))
        }
        Action::DeleteCertificate { node, certificate } => {
            (*target, *certificate_name) = (Some(node.clone()), Some(certificate.to_string()))
        }
        Action::SetHighAvailability(flag) | Action::SetSipOAuthMode(flag) => *enabled = Some(*flag),
        Action::PushClientTrust | Action::RefreshExpressway => {}
        Action::SetSipPorts { node, phone_port, mra_port } => {
            *target = Some(node.clone());
            let phone = phone_port.map(|port| format!("phone={port}"));
            let mra = mra_port.map(|port| format!("mra={port}"));
            *ports = Some([phone, mra].into_iter().flatten().collect::<Vec<_>>().join(" "));
        }
        Action::ReissueExpresswayCertificate { san } => *san_names = Some(san.join(" ")),
        Action::SetSecurityProfile { digest_authentication, tftp_encrypted_config } => {
            let digest = digest_authentication.map(|flag| format!("digest_authentication={flag}"));
            let encrypted = tftp_encrypted_config.map(|flag| format!("tftp_encrypted_config={flag}"));
            *settings = Some([digest, encrypted].into_iter().flatten().collect::<Vec<_>>().join(" "));
        }
        Action::Skew { node, offset_ms: offset, drift_ppm: drift } => {
            (*target, *offset_ms, *drift_ppm) = (Some(node.clone()), Some(*offset), Some(*drift))
        }
    }
    event
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
/// the step that sent them touched a socket (`clock::take_network_activity`).
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
fn record_plugin(trace: &Trace, node: &str, plugin: &Plugin) {
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
