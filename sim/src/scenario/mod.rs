//! Scenario files: a cluster, what happens to it and when, and what must hold.
//!
//! TOML, parsed with serde; every error names the file, line, column and field:
//! `scenarios/x.toml:14:6: step[0].at: "2h5" is not a duration (try "2h5m")`.
//!
//! * [`action`]: what a step does, its one spelling, who carries it out, its `step` event.
//! * [`file`](mod@file): the file as written (serde structs), every list bounded while parsing.
//! * [`parse`]: from the file as written to a checked [`Scenario`]: ranges, limits, order.
//! * [`admin_steps`]: the AuthZ steps (regenerate-key, revoke, set-param, show-keys), checked.
//! * [`faults`]: the fault steps (partition, repair, link, crash, restart, skew), checked.
//! * [`service_steps`], [`sip_steps`]: the service and certificate steps, the SIP and edge steps.
//! * [`phone_steps`]: the phone security profile and phone resets.
//! * [`duration`]: durations (`2h5m`) and windows (`"2h..2h5m"`).
//! * [`table`]: a table where the format wants one, never an array in its place.
//! * [`error`]: [`ScenarioError`] and positions.

pub mod action;
mod admin_steps;
mod duration;
mod error;
mod expect;
pub use expect::EXPECTED_COUNT_MAX;
mod faults;
mod file;
mod parse;
mod phone_steps;
mod service_steps;
mod sip_steps;

pub use crate::release::Release;
pub use sip_steps::{EDGE_EXCHANGES_PER_REQUEST_MAX, EDGE_TICK_MAX};
mod table;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use authzlab_host::input::{read_bounded, InputKind};
use serde::Deserialize;

pub use action::{Action, ActionName, SqlQuery, Target};
pub use duration::{format_duration, parse_duration, parse_window, SimDuration};
pub use error::{line_column, ScenarioError};

use crate::node_id::NodeId;
use crate::proto::http::{EXCHANGE_TICKS_MAX, REQUEST_TIMEOUT};
use crate::tokens::Lifetimes;
use crate::trace::domain::Names;

/// Clients one scenario may run: a bound on the site hosts' task count, and so on the
/// connections one server may have to accept in one tick (see `cluster::TCP_BACKLOG`).
pub const CLIENTS_MAX: u32 = 500;
/// CallManager subscribers one scenario may run (turmoil polls every host every tick).
pub const CUCM_SUBSCRIBERS_MAX: u32 = 8;
/// Steps and expectations one file may hold.
pub const STEPS_MAX: usize = 10_000;
/// The longest run: 90 days covers the longest refresh-token lifetime.
pub const DURATION_MAX: Duration = Duration::from_secs(90 * 86_400 + 86_400);
/// The tick when a scenario names none.
pub const TICK_DEFAULT: Duration = Duration::from_millis(100);
/// Tick bounds: below 1 ms turmoil's per-step cost dominates. Above `TICK_MAX` a request
/// that a node forwards (a refresh at the client's home node, a token asked of its issuer in
/// proxy mode: [`EXCHANGES_PER_REQUEST_MAX`] HTTP exchanges of up to [`EXCHANGE_TICKS_MAX`]
/// ticks each) could not finish within [`REQUEST_TIMEOUT`], so it would always time out.
pub const TICK_MIN: Duration = Duration::from_millis(1);
pub const TICK_MAX: Duration = Duration::from_millis(
    REQUEST_TIMEOUT.as_millis() as u64 / (EXCHANGE_TICKS_MAX * EXCHANGES_PER_REQUEST_MAX) as u64 / 100 * 100,
);
/// Exchanges one client request may set off in turn: its own, and the one the node it asked
/// makes on its behalf (no node forwards further).
pub const EXCHANGES_PER_REQUEST_MAX: u32 = 2;
/// Latest scenario epoch, UNIX seconds (9999-12-31 23:59:59 UTC): leaves room for 90-day
/// runs and 90-day tokens without overflowing a `u64` of seconds anywhere.
pub const EPOCH_S_MAX: u64 = 253_402_300_799;

const _: () = assert!(TICK_MIN.as_millis() < TICK_DEFAULT.as_millis());
const _: () = assert!(TICK_DEFAULT.as_millis() <= TICK_MAX.as_millis());
const _: () = assert!(
    TICK_MAX.as_millis() * ((EXCHANGE_TICKS_MAX * EXCHANGES_PER_REQUEST_MAX) as u128)
        <= REQUEST_TIMEOUT.as_millis()
);

/// A parsed, checked scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it was read from (for errors and the replay command).
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// `seeds = "pinned"`: the verdict is claimed for `seed` alone (the file must say why in
    /// a comment above the line); otherwise it must hold for every seed, and the seed sweep
    /// test holds every shipped scenario to that.
    pub seeds_pinned: bool,
    pub tick: Duration,
    pub duration: Duration,
    /// UNIX seconds at the start of the run.
    pub epoch_s: u64,
    /// Skip quiet simulated time (`clock`'s warp); on unless the file says
    /// `skip_idle = false` or the run is given `--no-skip`. It changes nothing but speed.
    pub skip_idle: bool,
    pub cluster: Cluster,
    pub lifetimes: Lifetimes,
    /// The "OAuth with Refresh Login Flow" enterprise parameter at the start
    /// (`params.refresh_login_flow`): **Disabled by default**, as the documents say. While
    /// it is disabled AuthZ offers only the implicit grant.
    pub refresh_login_flow: bool,
    /// The publisher's daily purge of expired refresh tokens.
    pub purge: Purge,
    pub clients: Vec<ClientGroup>,
    pub steps: Vec<Step>,
    pub expectations: Vec<Expectation>,
    /// A negative scenario's invariants, which the run must violate (`violates`): the run
    /// then shows a violation being detected and reported with its first offending event.
    pub violates: Vec<String>,
    /// The token-consistency anomalies the run shows by design (`anomalies`); any other
    /// fails it, and one named that does not occur fails it too.
    pub anomalies: Vec<String>,
}

/// What the documents say Unity Connection needs before voicemail accepts OAuth logins: an
/// Authz Servers entry (the CallManager host, port 8443 and a user with AXL access), so that
/// it can fetch the keys, and OAuth services enabled on Unity itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitySetup {
    pub authz_server: bool,
    pub oauth: bool,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub cucm_subscribers: u32,
    /// The validator Unity Connection loads, if the cluster has Unity Connection: the name of
    /// a built-in plugin or a path to a `.wasm` component (relative to the scenario file).
    pub unity_validator: Option<String>,
    /// Unity Connection's two OAuth settings at the start (`[cluster.unity]`), both done
    /// unless a scenario says otherwise.
    pub unity_setup: UnitySetup,
    /// Single sign-on through an identity provider (`cluster.sso`): adds the `idp` node,
    /// where every interactive login authenticates. The implicit grant issues tokens only
    /// with SSO (docs/domain.md). Off unless the scenario turns it on (an assumption: the
    /// documents describe deployments of both kinds).
    pub sso: bool,
    /// Which CallManager release runs AuthZ (`cluster.release`).
    pub release: Release,
    /// IM and Presence nodes, if the cluster has them (`cluster.imp`).
    pub imp: Option<ImpCluster>,
    /// SIP registration on the subscribers (`cluster.sip`).
    pub sip: Option<SipCluster>,
    /// The Mobile and Remote Access edge (`cluster.expressway`).
    pub expressway: Option<ExpresswayCluster>,
    /// Every validator given as a `.wasm` file must come with its pinned manifest
    /// (`x.manifest.toml` beside `x.wasm`; `cluster.require_manifests`). A manifest beside a
    /// component is enforced whether or not the scenario requires one.
    pub require_manifests: bool,
}

/// SIP registration: the Cisco CallManager service on every subscriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipCluster {
    /// `ClusterSIPOAuthMode` at the start (0: disabled, the documents' default).
    pub oauth: bool,
    /// SIP Phone OAuth Port and SIP Mobile and Remote Access Port of every subscriber at the
    /// start (defaults 5090 and 5091).
    pub phone_oauth_port: u16,
    pub mra_oauth_port: u16,
    /// The validator CallManager's SIP check loads: a built-in plugin or a `.wasm` path.
    pub validator: String,
    /// "OAuth Access Token for Devices".
    pub device_tokens: DeviceTokens,
    /// Whether phone-edge-trust holds every CallManager node's `tomcat.pem` at the start
    /// (assumption: the SIP OAuth procedure's first step done, unless the scenario says not).
    pub phone_edge_trust: bool,
    /// Whether the phones on premises take their files from a proxy TFTP, another cluster's
    /// (`proxy-tftp`), and whether its phone-edge-trust holds this cluster's Tomcat roots at
    /// the start (assumption, as for `phone_edge_trust`: copied unless the scenario says not).
    pub proxy_tftp: Option<ProxyTftp>,
}

/// A proxy TFTP for the phones on premises (`[cluster.sip] proxy_tftp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyTftp {
    /// Its phone-edge-trust holds every CallManager node's Tomcat root at the start.
    pub roots_copied: bool,
}

/// The validator CallManager's SIP check loads when the scenario names none.
pub const SIP_VALIDATOR_DEFAULT: &str = "callmanager-sip";
/// The validator Expressway-C loads when the scenario names none.
pub const EXPRESSWAY_VALIDATOR_DEFAULT: &str = "expressway";

/// "OAuth Access Token for Devices" (docs/domain.md "SIP OAuth mode").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceTokens {
    /// "Implicit: already registered devices" (the default from release 14): a phone that
    /// is registered gets its token without onboarding.
    Implicit,
    /// "Explicit: activation-code onboarding required".
    Explicit,
}

/// The edge: `expressway-c` inside, `expressway-e` in the DMZ (Expressway-E is our
/// assumption: the documents name only Expressway-C).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpresswayCluster {
    pub validator: String,
    /// Expressway-C's certificate's further DNS names (its host name is always the first).
    pub san: Vec<String>,
    /// Every subscriber's Tomcat-trust holds the CA that signed Expressway-C's certificate.
    pub ca_in_tomcat_trust: bool,
    /// Expressway-C trusts the subscribers' Tomcat certificates.
    pub trusts_callmanager: bool,
    /// "Authorize by OAuth token with refresh" on Expressway-C, which the documents require
    /// for Jabber over MRA with self-describing tokens.
    pub oauth_with_refresh: bool,
}

/// SAN entries Expressway-C's certificate may carry, and their length.
pub const SAN_ENTRIES_MAX: usize = 16;
pub const SAN_CHARS_MAX: usize = 253;

/// Where a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Site {
    /// On premises: `site-campus`, straight to the cluster.
    Campus,
    /// Outside: `site-remote`, through Expressway-E and Expressway-C (MRA).
    Remote,
}

impl Site {
    pub fn host(self) -> NodeId {
        match self {
            Site::Campus => NodeId::CAMPUS_SITE,
            Site::Remote => NodeId::REMOTE_SITE,
        }
    }
}

/// The IM and Presence nodes: `imp-pub` and `imp-sub-1` to `imp-sub-N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpCluster {
    pub subscribers: u32,
    /// The validator each node loads: a built-in plugin's name or a `.wasm` path.
    pub validator: String,
    /// "Enable High Availability" in the Presence Redundancy Group at the start.
    pub high_availability: bool,
    /// Every node's trust stores hold `imp-retired.pem`, expired before the run.
    pub expired_trust: bool,
}

impl Cluster {
    /// Whether every node's trust stores hold `imp-retired.pem` (`[cluster.imp] expired_trust`).
    pub fn expired_trust(&self) -> bool {
        self.imp.as_ref().is_some_and(|imp| imp.expired_trust)
    }

    /// The CallManager subscribers' host names, `cucm-sub-1` on.
    pub fn cucm_subscriber_nodes(&self) -> Vec<NodeId> {
        (1..=self.cucm_subscribers).map(NodeId::cucm_subscriber).collect()
    }

    /// The IM and Presence nodes' host names, publisher first (none without IM and Presence).
    pub fn imp_nodes(&self) -> Vec<NodeId> {
        self.imp.as_ref().map(ImpCluster::nodes).unwrap_or_default()
    }
}

impl ImpCluster {
    /// The nodes' host names, publisher first.
    pub fn nodes(&self) -> Vec<NodeId> {
        std::iter::once(NodeId::IMP_PUBLISHER)
            .chain((1..=self.subscribers).map(NodeId::imp_subscriber))
            .collect()
    }
}

/// IM and Presence subscribers one scenario may run (turmoil polls every host every tick).
pub const IMP_SUBSCRIBERS_MAX: u32 = 4;
/// The validator IM and Presence nodes load when the scenario names none.
pub const IMP_VALIDATOR_DEFAULT: &str = "imp";

/// When and how the publisher purges expired refresh tokens (docs/domain.md: a timer thread,
/// daily at 02:00, changeable only by a remote-support account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purge {
    /// Local time of day, seconds after midnight (`params.purge_at`, default 02:00).
    pub at_s_of_day: u64,
    /// The cluster's offset from UTC, seconds (`cluster.time_zone`, default `+00:00`: an
    /// assumption, the documents name no zone).
    pub utc_offset_s: i64,
    /// Rows deleted per batch, with the publisher free between batches
    /// (`params.purge_batch_rows`); `None`: one DELETE, as the documents describe.
    pub batch_rows: Option<u64>,
    /// Expired rows the table holds at the start (`params.expired_refresh_tokens`), as on a
    /// cluster that has run for years: what makes the purge spike the CPU.
    pub preloaded_expired_rows: u64,
    /// Rows in the table at the start, valid until the given time after the start
    /// (`[[table]]` entries): to put a row's validity exactly at a purge.
    pub preloaded: Vec<(Duration, u64)>,
}

impl Purge {
    /// Every preloaded row, expired or not.
    pub fn preloaded_rows(&self) -> u64 {
        self.preloaded.iter().fold(self.preloaded_expired_rows, |sum, (_, rows)| sum.saturating_add(*rows))
    }
}

impl Default for Purge {
    fn default() -> Purge {
        Purge {
            at_s_of_day: PURGE_AT_DEFAULT_S,
            utc_offset_s: 0,
            batch_rows: None,
            preloaded_expired_rows: 0,
            preloaded: Vec::new(),
        }
    }
}

/// The purge's time of day when a scenario names none: 02:00 (docs/domain.md).
pub const PURGE_AT_DEFAULT_S: u64 = 2 * 3600;
/// Expired rows a scenario may preload: a bound on the table's size and the run's memory.
pub const PRELOADED_ROWS_MAX: u64 = 2_000_000;
/// Time-zone offsets as real zones have them, seconds.
pub const UTC_OFFSET_MIN_S: i64 = -12 * 3600;
pub const UTC_OFFSET_MAX_S: i64 = 14 * 3600;

/// What a client is, and so which grant flows it knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// A Jabber release that knows the refresh login flow: it asks for it and falls back to
    /// the implicit grant when the cluster does not offer it.
    Jabber,
    /// A Jabber release from before the refresh login flow: the implicit grant only.
    JabberLegacy,
    /// The Real-Time Monitoring Tool: the implicit grant only (the documents name it as the
    /// client the implicit flow is kept for); it polls a subscriber's counters.
    Rtmt,
    /// A 78xx/88xx IP phone with SIP OAuth: it gets its tokens without a user at the keys
    /// (implicitly, or by activation code) and registers over SIP.
    Phone,
}

impl ClientKind {
    /// Whether the client asks for the authorization-code grant with refresh tokens.
    pub fn knows_refresh_flow(self) -> bool {
        self == ClientKind::Jabber
    }

    /// The first part of its device names: `jabber-3`, `rtmt-4`.
    pub fn device_prefix(self) -> &'static str {
        match self {
            ClientKind::Jabber | ClientKind::JabberLegacy => "jabber",
            ClientKind::Rtmt => "rtmt",
            ClientKind::Phone => "phone",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClientGroup {
    pub kind: ClientKind,
    pub count: u32,
    /// The user every device of the group signs in as; unnamed groups take the next names
    /// of [`USERS`], one user per device.
    pub user: Option<String>,
    /// When every device of the group signs in, after the start of the run (`start`); absent:
    /// sign-ins are spread over the first half hour, as people arrive at work.
    pub start: Option<Duration>,
    /// Where the group's devices are.
    pub site: Site,
    /// The phones' model (`None`: [`crate::phone_security::PHONE_MODEL_DEFAULT`]).
    pub model: Option<String>,
}

/// One client device and the user signed in on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// `jabber-N` or `rtmt-N`, numbered across all groups from 1.
    pub name: String,
    pub user: String,
    pub kind: ClientKind,
    /// Its group's `start`, if the group sets one.
    pub start: Option<Duration>,
    pub site: Site,
    /// A phone's model; empty for other devices.
    pub model: String,
}

/// Users devices of unnamed groups sign in as, in order; later ones are `user-N`.
pub const USERS: &[&str] = &["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
/// Whether `user` is a user id as scenarios and the revoke API accept it: 1 to
/// [`USER_CHARS_MAX`] letters, digits, `.`, `_` or `-`.
pub fn is_user_id(user: &str) -> bool {
    (1..=USER_CHARS_MAX).contains(&user.len()) && user.chars().all(is_user_id_char)
}

fn is_user_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Longest user id a scenario may name. User ids go into URL queries (the revoke API), so
/// they are also limited to letters, digits, `.`, `_` and `-`.
pub const USER_CHARS_MAX: usize = 64;

/// Something an administrator (or fate) does at a simulated time.
#[derive(Clone, Debug)]
pub struct Step {
    pub at: Duration,
    pub action: Action,
}

fn devices(groups: &[ClientGroup]) -> Vec<Device> {
    let named: Vec<&str> = groups.iter().filter_map(|group| group.user.as_deref()).collect();
    let mut devices = Vec::new();
    for group in groups {
        for _ in 0..group.count {
            let number = devices.len() + 1;
            // Device N of an unnamed group signs in as the N-th name, unless a group names
            // that user itself: then it is `user-N`, never someone else's second device.
            let user = match &group.user {
                Some(user) => user.clone(),
                None => match USERS.get(number - 1) {
                    Some(user) if !named.contains(user) => user.to_string(),
                    _ => format!("user-{number}"),
                },
            };
            let name = format!("{}-{number}", group.kind.device_prefix());
            let model = match group.kind {
                ClientKind::Phone => group
                    .model
                    .clone()
                    .unwrap_or_else(|| crate::phone_security::PHONE_MODEL_DEFAULT.to_string()),
                _ => String::new(),
            };
            devices.push(Device {
                name,
                user,
                kind: group.kind,
                start: group.start,
                site: group.site,
                model,
            });
        }
    }
    devices
}

/// Something the trace must show (or must not).
#[derive(Clone, Debug)]
pub struct Expectation {
    /// 1-based line in the scenario file, to point at it in reports.
    pub line: usize,
    pub within: Range<Duration>,
    pub event: String,
    pub node: Option<String>,
    /// Fields the event must carry, compared as text.
    pub fields: BTreeMap<String, String>,
    /// `true`: no such event may occur in the window.
    pub absent: bool,
    /// How many matches the window must hold (`count`); `None`: at least one.
    pub count: Option<RangeInclusive<u64>>,
    /// The name `after` refers to (`label`).
    pub label: Option<String>,
    /// The expectation (an index into [`Scenario::expectations`], always an earlier one)
    /// whose first match this one's matches must not precede (`after`).
    pub after: Option<After>,
}

/// `after = "label"`: matches count only from the first match of an earlier expectation on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct After {
    /// Its index in [`Scenario::expectations`], always below this one's.
    pub index: usize,
    pub label: String,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.absent { "no " } else { "" }, self.event)?;
        if let Some(node) = &self.node {
            write!(f, " at {node}")?;
        }
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        if let Some(count) = &self.count {
            match count.start() == count.end() {
                true => write!(f, " count={}", count.start())?,
                false => write!(f, " count={}..{}", count.start(), count.end())?,
            }
        }
        if let Some(label) = &self.label {
            write!(f, " [{label}]")?;
        }
        if let Some(after) = &self.after {
            write!(f, " after [{}]", after.label)?;
        }
        write!(f, " within {}..{}", format_duration(self.within.start), format_duration(self.within.end))
    }
}

/// Where a validator a scenario names comes from ([`Scenario::validator_source`]).
#[derive(Clone, Debug)]
pub enum ValidatorSource {
    BuiltIn(authzlab_plugins::Artifact),
    File(std::path::PathBuf),
}

impl Scenario {
    /// Reads (at most [`SCENARIO_BYTES_MAX`](authzlab_host::input::SCENARIO_BYTES_MAX)) and
    /// checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&Scenario::read_text(path)?, path)
    }

    /// A scenario file's text, read as [`load`](Scenario::load) reads it (bounded; a byte
    /// that is not UTF-8 named by line and column), for a caller that edits the text.
    pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
        error::utf8_text(read_bounded(path, InputKind::Scenario)?, &path.display().to_string())
    }

    /// Every validator the scenario names (CallManager's SIP, IM and Presence, Unity,
    /// Expressway-C), in that order, once each.
    pub fn validator_names(&self) -> Vec<&str> {
        let cluster = &self.cluster;
        let mut names: Vec<&str> = Vec::new();
        for name in [
            cluster.sip.as_ref().map(|sip| sip.validator.as_str()),
            cluster.imp.as_ref().map(|imp| imp.validator.as_str()),
            cluster.unity_validator.as_deref(),
            cluster.expressway.as_ref().map(|expressway| expressway.validator.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Where validator `name` comes from: a built-in plugin of that name, or a component
    /// file (`.wasm`) relative to the scenario file; `None` for neither.
    pub fn validator_source(&self, name: &str) -> Option<ValidatorSource> {
        if let Some(artifact) = authzlab_plugins::by_name(name) {
            return Some(ValidatorSource::BuiltIn(artifact));
        }
        let base = self.path.parent().unwrap_or(Path::new("."));
        name.ends_with(".wasm").then(|| ValidatorSource::File(base.join(name)))
    }

    /// Clients of every group together.
    pub fn client_count(&self) -> u32 {
        self.clients.iter().map(|group| group.count).sum()
    }

    /// Every client device, numbered across groups, with its user.
    pub fn devices(&self) -> Vec<Device> {
        devices(&self.clients)
    }

    /// The hosts of this scenario's simulation, as fault steps name them.
    pub fn hosts(&self) -> Vec<NodeId> {
        hosts(&self.cluster, !self.clients.is_empty())
    }

    /// The nodes, devices and users a trace of this scenario can name.
    pub fn names(&self) -> Names {
        names(&self.cluster, &self.clients, &self.steps)
    }
}

/// What a run's trace can name: every host, every device (clients record events as
/// themselves), the driver's `scenario`, and every user with a device or named by a step.
fn names(cluster: &Cluster, clients: &[ClientGroup], steps: &[Step]) -> Names {
    let devices = devices(clients);
    let mut names = Names::default();
    names.nodes.extend(hosts(cluster, !clients.is_empty()).into_iter().map(String::from));
    names.nodes.insert(NodeId::SCENARIO.to_string());
    for device in devices {
        names.nodes.insert(device.name.clone());
        names.devices.insert(device.name);
        names.users.insert(device.user);
    }
    for step in steps {
        if let Action::Revoke { user, .. } = &step.action {
            names.users.insert(user.clone());
        }
    }
    names
}

/// The publisher, its subscribers, Unity, the identity provider and the campus site (where
/// the clients and the administrator's console run).
fn hosts(cluster: &Cluster, clients: bool) -> Vec<NodeId> {
    let mut hosts = vec![NodeId::PUBLISHER];
    hosts.extend(cluster.cucm_subscriber_nodes());
    hosts.extend(cluster.imp_nodes());
    if cluster.unity_validator.is_some() {
        hosts.push(NodeId::UNITY);
    }
    if cluster.sso {
        hosts.push(NodeId::IDP);
    }
    if clients {
        hosts.push(NodeId::CAMPUS_SITE);
    }
    if cluster.expressway.is_some() {
        hosts.extend([NodeId::EXPRESSWAY_C, NodeId::EXPRESSWAY_E, NodeId::REMOTE_SITE]);
    }
    if cluster.sip.as_ref().is_some_and(|sip| sip.proxy_tftp.is_some()) {
        hosts.push(NodeId::PROXY_TFTP);
    }
    hosts
}
