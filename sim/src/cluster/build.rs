//! The cluster a scenario describes, built as turmoil hosts: the publisher with its database
//! on a temporary disk, the CallManager subscribers, IM and Presence, Unity Connection, the
//! identity provider, the edge and the client sites. [`Built`] keeps what the driver later
//! routes steps to; the order of construction is the order of the trace's set-up events.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::PluginHost;
use rand_core::RngCore;
use tokio::sync::mpsc::{self, Receiver, Sender};

use super::sip_setup::{CallManagerCerts, SipSetUp};
use super::{
    load_validator, record_plugin, Registered, RunError, CLIENT_START_JITTER_MS, CLIENT_START_MIN,
    CLIENT_START_WINDOW, TCP_BACKLOG,
};
use crate::certs::authority::{Authority, EDGE_CA_NAME};
use crate::certs::certificate::Draw;
use crate::certs::{self, DeviceTrust};
use crate::conformance::shadow::{Role, Shadow};
use crate::node::client::console::{AdminCall, ADMIN_CALLS_MAX};
use crate::node::client::login::ClientConfig;
use crate::node::client::site;
use crate::node::client::trust_push::TrustPush;
use crate::node::edge::expressway_c::{self, EdgeCommand, ExpresswayC};
use crate::node::edge::expressway_e;
use crate::node::idp::{self, Idp};
use crate::node::imp::{self, ImpNode, PresenceGroup};
use crate::node::multi_san_tomcat::MultiSanTomcat;
use crate::node::platform_commands::NodeCommand;
use crate::node::proxy_tftp;
use crate::node::publisher::{self, AdminCommand, Grants, Publisher, ADMIN_QUEUE_MAX};
use crate::node::subscriber::{self, Subscriber};
use crate::node::unity::{self, Unity, UnityCommand};
use crate::node_id::NodeId;
use crate::proto::sso::{AssertionKey, SpMetadata};
use crate::scenario::{ClientKind, Scenario, Site};
use crate::seeds::Seeds;
use crate::store::RefreshTokenStore;
use crate::trace::Trace;

/// The running cluster, as the driver reaches it.
pub(super) struct Built<'a> {
    pub sim: turmoil::Sim<'a>,
    /// Every host of the simulation by name: turmoil does not list them, and a fault may
    /// name all of a node's links.
    pub hosts: Vec<NodeId>,
    pub publisher: Rc<RefCell<Publisher>>,
    /// Each CallManager subscriber and IM and Presence node by name, in the cluster's order.
    pub subscribers: Vec<(NodeId, Rc<RefCell<Subscriber>>)>,
    pub imp: Vec<(NodeId, Rc<RefCell<ImpNode>>)>,
    /// The CLI queue of each subscriber and IM and Presence node.
    pub node_commands: BTreeMap<NodeId, Sender<NodeCommand>>,
    /// The publisher's own queue, the administrator's console calls, Expressway-C's queue.
    pub admin: Sender<AdminCommand>,
    pub admin_calls: Sender<AdminCall>,
    pub edge: Sender<EdgeCommand>,
    /// Unity Connection's administration queue, when the cluster has Unity.
    pub unity: Option<Sender<UnityCommand>>,
    /// The Presence Redundancy Group of the IM and Presence nodes.
    pub presence_group: PresenceGroup,
    /// The servers' certificates into the devices' trust.
    pub trust_push: TrustPush,
    /// The enterprise CA and every node's certificates, for the CA-signed multi-SAN Tomcat.
    pub multi_san_tomcat: MultiSanTomcat,
    /// The publisher's disk: its refresh-token table is a database file here, which a crash
    /// of the node does not touch. Removed when the run ends, by the signal handler if it is
    /// interrupted (`Registered`).
    pub disk: tempfile::TempDir,
    pub registered: Registered,
}

/// A node's certificate store, shared by the services that read it.
type SharedCerts = Rc<RefCell<certs::CertStore>>;

/// How long before the run the enterprise CA's certificate was made: a day.
const CA_AGE_S: u64 = 86_400;

/// The enterprise CA outside the cluster: it signs Expressway-C's certificate and, when the
/// administrator asks, the multi-SAN Tomcat certificate.
fn enterprise_ca(seeds: &Seeds, epoch_s: u64) -> Result<Rc<Authority>, RunError> {
    let draw = Draw::from_stream(&mut seeds.rng("certs:edge-ca"));
    Authority::new(EDGE_CA_NAME, &draw, epoch_s.saturating_sub(CA_AGE_S))
        .map(Rc::new)
        .map_err(RunError::Simulation)
}

/// The multi-SAN Tomcat certificate's CA and the nodes it goes to: the CallManager
/// publisher, its subscribers, then the IM and Presence nodes.
fn multi_san_tomcat(
    certs: CallManagerCerts<'_>,
    subscribers: &[NodeId],
    (imp_nodes, imp): (&[NodeId], &[Rc<RefCell<ImpNode>>]),
    seeds: &Seeds,
    epoch_s: u64,
) -> MultiSanTomcat {
    let every_other_node = subscribers
        .iter()
        .cloned()
        .zip(certs.subscribers.iter().cloned())
        .chain(imp_nodes.iter().cloned().zip(imp.iter().map(|node| node.borrow().certs())))
        .collect();
    let draws = seeds.rng("certs:multi-san-tomcat");
    MultiSanTomcat::new(certs.authority.clone(), certs.publisher.clone(), every_other_node, draws, epoch_s)
}

/// The CallManager publisher's certificate store and each subscriber's.
fn callmanager_certs(
    scenario: &Scenario,
    subscribers: &[NodeId],
    seeds: &Seeds,
) -> Result<(certs::CertStore, Vec<SharedCerts>), RunError> {
    let expired_trust = scenario.cluster.expired_trust();
    let (publisher, subscribers) =
        certs::install::install_callmanager(subscribers, seeds, scenario.epoch_s, expired_trust)
            .map_err(RunError::Simulation)?;
    Ok((publisher, subscribers.into_iter().map(|store| Rc::new(RefCell::new(store))).collect()))
}

/// What the SSO set-up leaves, when the cluster uses SSO: the key the IdP and AuthZ share
/// (drawn from the seed), and the SP metadata the IdP imported, naming the publisher's
/// Tomcat certificate of then.
fn sso_set_up(
    scenario: &Scenario,
    seeds: &Seeds,
    publisher_certs: &certs::CertStore,
) -> Option<(AssertionKey, SpMetadata)> {
    scenario.cluster.sso.then(|| {
        let mut bytes = [0u8; 32];
        seeds.rng("sso-assertion-key").fill_bytes(&mut bytes);
        let serial = publisher_certs.identity(certs::Identity::Tomcat).serial.clone();
        (AssertionKey::new(bytes), Rc::new(RefCell::new(serial)))
    })
}

/// Builds every host of `scenario`'s cluster in `sim`, drawing from `seeds`.
pub(super) fn build<'a>(
    scenario: &Scenario,
    seeds: &Seeds,
    plugins: &PluginHost,
    shadow: Option<&Shadow>,
    trace: &Trace,
) -> Result<Built<'a>, RunError> {
    let epoch_s = scenario.epoch_s;
    let subscribers = scenario.cluster.cucm_subscriber_nodes();
    let imp_nodes = scenario.cluster.imp_nodes();
    let devices = scenario.devices();
    // Every CallManager node's tomcat.pem and ipsec.pem, issued before the run.
    let (publisher_certs, subscriber_certs) = callmanager_certs(scenario, &subscribers, seeds)?;
    let (assertion_key, sso_metadata) = sso_set_up(scenario, seeds, &publisher_certs).unzip();
    let publisher_certs = Rc::new(RefCell::new(publisher_certs));
    let grants = Grants {
        release: scenario.cluster.release,
        refresh_login_flow: scenario.refresh_login_flow,
        sso: assertion_key.clone(),
        sso_metadata: sso_metadata.clone(),
    };
    let disk = tempfile::Builder::new()
        .prefix(&crate::cleanup::run_dir_prefix())
        .tempdir()
        .map_err(|e| RunError::Simulation(format!("cannot make the run's temporary directory: {e}")))?;
    let registered = Registered::new(disk.path());
    let store = RefreshTokenStore::open(&disk.path().join("refreshtokendetails.sqlite"))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    let publisher_ipsec = publisher_certs.borrow().identity(certs::Identity::Ipsec).clone();
    let authority = enterprise_ca(seeds, epoch_s)?;
    let certs = CallManagerCerts {
        publisher: &publisher_certs,
        subscribers: &subscriber_certs,
        authority: &authority,
    };
    let sip = match &scenario.cluster.sip {
        Some(sip) => Some(SipSetUp::new(scenario, sip, seeds, &devices, certs, disk.path(), trace)?),
        None => None,
    };
    let publisher = Publisher::new(
        seeds,
        scenario.lifetimes,
        grants,
        store,
        // Every CallManager and IM and Presence node receives the keys (docs/domain.md).
        subscribers.iter().cloned().chain(imp_nodes.iter().cloned()).collect(),
        epoch_s,
        trace.node(&NodeId::PUBLISHER),
    )
    .with_certs(publisher_certs.clone());
    let publisher = match &sip {
        Some(sip) => publisher.with_sip(sip.admin(&subscribers)),
        None => publisher,
    };
    let publisher = Rc::new(RefCell::new(publisher));
    let (admin, admin_receiver) = mpsc::channel(ADMIN_QUEUE_MAX);
    let admin_receiver = Rc::new(RefCell::new(admin_receiver));

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
        sim.host(NodeId::PUBLISHER.as_str(), move || {
            publisher::run(publisher.clone(), admin_receiver.clone(), purge.clone(), tick)
        });
    }
    // One CLI queue per subscriber and IM and Presence node (the publisher has its own).
    let mut node_commands = BTreeMap::new();
    let subscriber_states = {
        let at = Hosts { sim: &mut sim, scenario, seeds, plugins, trace, shadow };
        callmanager_subscribers(at, sip.as_ref(), &subscriber_certs, &mut node_commands)?
    };
    let presence_group =
        PresenceGroup::new(scenario.cluster.imp.as_ref().is_some_and(|imp| imp.high_availability));
    let imp_states = imp_hosts(
        Hosts { sim: &mut sim, scenario, seeds, plugins, trace, shadow },
        &presence_group,
        &publisher_ipsec,
        &mut node_commands,
    )?;
    let trust_push = TrustPush::at_set_up(imp_states.clone(), Rc::new(subscriber_certs.clone()));
    let multi_san_tomcat = multi_san_tomcat(certs, &subscribers, (&imp_nodes, &imp_states), seeds, epoch_s);
    let (unity_host, unity) =
        match unity_host(Hosts { sim: &mut sim, scenario, seeds, plugins, trace, shadow })? {
            Some((host, queue)) => (Some(host), Some(queue)),
            None => (None, None),
        };
    let idp_host = assertion_key.zip(sso_metadata).map(|(key, metadata)| {
        let idp = Rc::new(RefCell::new(Idp::new(
            key,
            metadata,
            seeds.rng("sso-assertion-ids"),
            epoch_s,
            trace.node(&NodeId::IDP),
        )));
        sim.host(NodeId::IDP.as_str(), move || idp::run(idp.clone()));
        NodeId::IDP
    });
    let edge = edge_hosts(Hosts { sim: &mut sim, scenario, seeds, plugins, trace, shadow }, sip.as_ref())?;
    proxy_tftp_host(&mut sim, sip.as_ref(), &mut node_commands, trace);
    let homes = Homes { subscribers: &subscribers, imp_nodes: &imp_nodes, unity: unity_host, idp: idp_host };
    let at = Hosts { sim: &mut sim, scenario, seeds, plugins, trace, shadow };
    let admin_calls = client_sites(at, sip.as_ref(), homes, &trust_push.device_trust);
    Ok(Built {
        sim,
        hosts: scenario.hosts(),
        publisher,
        subscribers: subscribers.into_iter().zip(subscriber_states).collect(),
        imp: imp_nodes.into_iter().zip(imp_states).collect(),
        node_commands,
        admin,
        admin_calls,
        edge,
        unity,
        presence_group,
        trust_push,
        multi_san_tomcat,
        disk,
        registered,
    })
}

/// The validator `name` loaded for `node`, its randomness drawn from `seed`, its loading
/// recorded in the trace (`plugin-loaded`).
fn validator_for(
    scenario: &Scenario,
    name: &str,
    plugins: &PluginHost,
    seed: u64,
    trace: &Trace,
    node: &NodeId,
) -> Result<authzlab_host::Plugin, RunError> {
    let mut plugin = load_validator(scenario, name, plugins)?;
    plugin.reseed(seed);
    record_plugin(trace, node, &plugin);
    Ok(plugin)
}

/// Where a part of the cluster is built: the simulation it joins and what it is made from.
struct Hosts<'s, 'a> {
    sim: &'s mut turmoil::Sim<'a>,
    scenario: &'s Scenario,
    seeds: &'s Seeds,
    plugins: &'s PluginHost,
    trace: &'s Trace,
    /// The validator `plugin check --scenarios` watches, if any.
    shadow: Option<&'s Shadow>,
}

/// A CLI queue for the node `name`: its sender kept for the driver, its receiver returned for
/// the node's host.
fn command_queue(
    commands: &mut BTreeMap<NodeId, Sender<NodeCommand>>,
    name: &NodeId,
) -> Rc<RefCell<Receiver<NodeCommand>>> {
    let (sender, receiver) = mpsc::channel(crate::scenario::STEPS_MAX);
    commands.insert(name.clone(), sender);
    Rc::new(RefCell::new(receiver))
}

/// The phones' proxy TFTP, another cluster's, when the scenario has one; with its CLI queue.
fn proxy_tftp_host(
    sim: &mut turmoil::Sim<'_>,
    sip: Option<&SipSetUp>,
    commands: &mut BTreeMap<NodeId, Sender<NodeCommand>>,
    trace: &Trace,
) {
    if let Some(proxy) = sip.and_then(|sip| sip.proxy_tftp(trace.node(&NodeId::PROXY_TFTP))) {
        let (proxy, commands) = (Rc::new(proxy), command_queue(commands, &NodeId::PROXY_TFTP));
        sim.host(NodeId::PROXY_TFTP.as_str(), move || proxy_tftp::run(proxy.clone(), commands.clone()));
    }
}

/// The CallManager subscribers, each with Cisco CallManager's SIP check when SIP is on.
fn callmanager_subscribers(
    at: Hosts<'_, '_>,
    sip: Option<&SipSetUp>,
    certs: &[Rc<RefCell<certs::CertStore>>],
    node_commands: &mut BTreeMap<NodeId, Sender<NodeCommand>>,
) -> Result<Vec<Rc<RefCell<Subscriber>>>, RunError> {
    let Hosts { sim, scenario, seeds, plugins, trace, shadow } = at;
    let mut states = Vec::new();
    for ((index, name), certs) in scenario.cluster.cucm_subscriber_nodes().iter().enumerate().zip(certs) {
        let subscriber =
            Subscriber::new(&NodeId::PUBLISHER, certs.clone(), scenario.epoch_s, trace.node(name));
        let subscriber = match sip {
            Some(sip) => {
                let label = format!("plugin:callmanager:{name}");
                let plugin =
                    validator_for(scenario, &sip.validator, plugins, seeds.derive_u64(&label), trace, name)?;
                let keys = subscriber.keys();
                let shadow = Shadow::for_role(shadow, Role::CallManagerSip);
                subscriber.with_sip(sip.subscriber(
                    index,
                    keys,
                    plugin,
                    shadow,
                    scenario.epoch_s,
                    trace.node(name),
                ))
            }
            None => subscriber,
        };
        let subscriber = Rc::new(RefCell::new(subscriber));
        states.push(subscriber.clone());
        let commands = command_queue(node_commands, name);
        sim.host(name.as_str(), move || subscriber::run(subscriber.clone(), commands.clone()));
    }
    Ok(states)
}

/// The IM and Presence nodes with their identity certificates, issued before the run as when
/// the nodes were installed.
fn imp_hosts(
    at: Hosts<'_, '_>,
    presence_group: &PresenceGroup,
    callmanager_ipsec: &certs::Certificate,
    node_commands: &mut BTreeMap<NodeId, Sender<NodeCommand>>,
) -> Result<Vec<Rc<RefCell<ImpNode>>>, RunError> {
    let Hosts { sim, scenario, seeds, plugins, trace, shadow } = at;
    let mut states = Vec::new();
    let Some(imp) = &scenario.cluster.imp else { return Ok(states) };
    let imp_nodes = scenario.cluster.imp_nodes();
    let stores =
        certs::install::install(&imp_nodes, callmanager_ipsec, seeds, scenario.epoch_s, imp.expired_trust)
            .map_err(RunError::Simulation)?;
    for (name, certs) in imp_nodes.iter().zip(stores) {
        let seed = seeds.derive_u64(&format!("plugin:{name}"));
        let plugin = validator_for(scenario, &imp.validator, plugins, seed, trace, name)?;
        let node = Rc::new(RefCell::new(
            ImpNode::new(
                plugin,
                &NodeId::PUBLISHER,
                &imp_nodes[0],
                certs,
                presence_group.clone(),
                scenario.epoch_s,
                trace.node(name),
            )
            .with_shadow(Shadow::for_role(shadow, Role::ImAndPresence)),
        ));
        states.push(node.clone());
        let commands = command_queue(node_commands, name);
        sim.host(name.as_str(), move || imp::run(node.clone(), commands.clone()));
    }
    Ok(states)
}

/// Unity Connection, when the scenario has one: its host's name.
fn unity_host(at: Hosts<'_, '_>) -> Result<Option<(NodeId, Sender<UnityCommand>)>, RunError> {
    let Hosts { sim, scenario, seeds, plugins, trace, shadow } = at;
    let Some(validator) = &scenario.cluster.unity_validator else { return Ok(None) };
    let plugin =
        validator_for(scenario, validator, plugins, seeds.derive_u64("plugin:unity"), trace, &NodeId::UNITY)?;
    let setup = scenario.cluster.unity_setup;
    let unity = Unity::new(plugin, &NodeId::PUBLISHER, setup, scenario.epoch_s, trace.node(&NodeId::UNITY))
        .with_shadow(Shadow::for_role(shadow, Role::UnityConnection));
    let unity = Rc::new(RefCell::new(unity));
    let (sender, receiver) = mpsc::channel(crate::scenario::STEPS_MAX);
    let commands = Rc::new(RefCell::new(receiver));
    sim.host(NodeId::UNITY.as_str(), move || unity::run(unity.clone(), commands.clone()));
    Ok(Some((NodeId::UNITY, sender)))
}

/// Expressway-C and -E, when the scenario has the edge (and SIP); the sender of
/// Expressway-C's command queue either way.
fn edge_hosts(at: Hosts<'_, '_>, sip: Option<&SipSetUp>) -> Result<Sender<EdgeCommand>, RunError> {
    let Hosts { sim, scenario, seeds, plugins, trace, shadow } = at;
    let (edge_sender, edge_receiver) = mpsc::channel(crate::scenario::STEPS_MAX);
    let edge_receiver = Rc::new(RefCell::new(edge_receiver));
    let (Some(expressway), Some(sip)) = (&scenario.cluster.expressway, sip) else { return Ok(edge_sender) };
    let seed = seeds.derive_u64("plugin:expressway");
    let plugin = validator_for(scenario, &expressway.validator, plugins, seed, trace, &NodeId::EXPRESSWAY_C)?;
    let cluster = sip.cluster_certs.clone();
    let trust: Rc<dyn Fn() -> Vec<certs::Certificate>> =
        Rc::new(move || certs::store::tomcat_anchors(&cluster));
    let edge = ExpresswayC::new(
        plugin,
        &NodeId::PUBLISHER,
        sip.authority.clone(),
        &expressway.san,
        trust,
        seeds.rng("certs:expressway-c"),
        scenario.epoch_s,
        trace.node(&NodeId::EXPRESSWAY_C),
    )
    .map_err(RunError::Simulation)?
    .with_settings(expressway.oauth_with_refresh, expressway.trusts_callmanager)
    .with_shadow(Shadow::for_role(shadow, Role::Expressway));
    let edge = Rc::new(RefCell::new(edge));
    sim.host(NodeId::EXPRESSWAY_C.as_str(), move || expressway_c::run(edge.clone(), edge_receiver.clone()));
    sim.host(NodeId::EXPRESSWAY_E.as_str(), || expressway_e::run(NodeId::EXPRESSWAY_C));
    Ok(edge_sender)
}

/// Where the clients are homed: the nodes they sign in at, check tokens with, read voicemail
/// from.
struct Homes<'a> {
    subscribers: &'a [NodeId],
    imp_nodes: &'a [NodeId],
    unity: Option<NodeId>,
    idp: Option<NodeId>,
}

/// The clients on their sites (campus, and remote through the edge), with the
/// administrator's console on the campus site; the sender of the console's calls.
fn client_sites(
    at: Hosts<'_, '_>,
    sip: Option<&SipSetUp>,
    homes: Homes<'_>,
    device_trust: &DeviceTrust,
) -> Sender<AdminCall> {
    let Hosts { sim, scenario, seeds, trace, .. } = at;
    let devices = scenario.devices();
    let mut starts = seeds.rng("client-start");
    let start_step = CLIENT_START_WINDOW / (devices.len() as u32).max(1);
    let Homes { subscribers, imp_nodes, unity, idp } = homes;
    let proxy_tftp = scenario.cluster.sip.as_ref().is_some_and(|sip| sip.proxy_tftp.is_some());
    let clients: Vec<ClientConfig> = devices
        .into_iter()
        .enumerate()
        .map(|(index, device)| (subscribers[index % subscribers.len()].clone(), index, device))
        .map(|(home, index, device)| ClientConfig {
            activation_code: sip.and_then(|sip| sip.activation_code(&device.name)),
            reset: sip.and_then(|sip| sip.reset_signal(&device.name)),
            model: device.model,
            phone_oauth: scenario.cluster.release.has_phone_oauth(),
            name: NodeId::new(device.name),
            user: device.user,
            kind: device.kind,
            idp: idp.clone(),
            publisher: NodeId::PUBLISHER,
            subscriber: home.clone(),
            // A phone on premises behind a proxy TFTP reads its files there.
            tftp: if proxy_tftp && device.kind == ClientKind::Phone && device.site != Site::Remote {
                NodeId::PROXY_TFTP
            } else {
                home
            },
            unity: unity.clone(),
            // Homed on the IM and Presence nodes in turn, as on the subscribers.
            imp: (!imp_nodes.is_empty()).then(|| imp_nodes[index % imp_nodes.len()].clone()),
            device_trust: device_trust.clone(),
            edge: (device.site == Site::Remote).then_some(NodeId::EXPRESSWAY_E),
            sip: sip.is_some(),
            epoch_s: scenario.epoch_s,
            start_delay: {
                // Drawn for every device, so that a group with its own start leaves the
                // others' jitter as it was.
                let jitter = Duration::from_millis(starts.next_u64() % CLIENT_START_JITTER_MS);
                device.start.unwrap_or(CLIENT_START_MIN + start_step * index as u32 + jitter)
            },
        })
        .collect();
    let (admin_calls, admin_call_receiver) = mpsc::channel(ADMIN_CALLS_MAX);
    let admin_call_receiver = Rc::new(RefCell::new(admin_call_receiver));
    let (remote, campus): (Vec<ClientConfig>, Vec<ClientConfig>) =
        clients.into_iter().partition(|client| client.edge.is_some());
    if !campus.is_empty() || !remote.is_empty() {
        let trace = trace.clone();
        sim.host(NodeId::CAMPUS_SITE.as_str(), move || {
            site::run(campus.clone(), Some(admin_call_receiver.clone()), trace.clone())
        });
    }
    if !remote.is_empty() {
        let trace = trace.clone();
        sim.host(NodeId::REMOTE_SITE.as_str(), move || site::run(remote.clone(), None, trace.clone()));
    }
    admin_calls
}
