//! A scenario step's action: its name as files and traces spell it ([`ActionName`], spelled
//! once), what it carries ([`Action`]), who carries it out ([`Target`]) and what its `step`
//! event records ([`Action::step_fields`]). The driver asks an action where it goes and
//! hands it there; what the action means lives with its carrier.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::certs::{CertificateName, Identity, Service};
pub use crate::node::publisher::active_logs::LogName;
use crate::node_id::NodeId;
use crate::phone_security::ProfileChange;
use crate::tokens::{ExpiryTimer, KeyKind};

/// Which parser reads a step: one per kind of step, each in its own file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StepKind {
    /// `admin_steps.rs`: the AuthZ keys, revocation, enterprise parameters.
    Admin,
    /// `service_steps.rs`: services and certificates.
    Service,
    /// `sip_steps.rs`: SIP OAuth and the edge.
    Sip,
    /// `faults.rs`: the network, crashes, clocks.
    Fault,
}

/// Defines [`ActionName`] from one table: each action's variant, its spelling in scenario
/// files and traces, and the kind of step that reads it.
macro_rules! action_names {
    ($( $variant:ident = $name:literal, $kind:ident; )*) => {
        /// Every action a step may name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
        pub enum ActionName {
            $( #[serde(rename = $name)] $variant, )*
        }

        impl ActionName {
            /// Every action, in the order the scenario reference lists them.
            pub const ALL: &[ActionName] = &[ $( ActionName::$variant ),* ];
            /// Their names, as the `step` event's `action` field may hold them.
            pub const NAMES: &[&str] = &[ $( $name ),* ];

            /// The action's name in scenario files and traces.
            pub fn name(self) -> &'static str {
                match self {
                    $( ActionName::$variant => $name, )*
                }
            }

            pub(super) fn kind(self) -> StepKind {
                match self {
                    $( ActionName::$variant => StepKind::$kind, )*
                }
            }
        }
    };
}

action_names! {
    RegenerateKey = "regenerate-key", Admin;
    Revoke = "revoke", Admin;
    SetParam = "set-param", Admin;
    ShowKeys = "show-keys", Admin;
    ReconfigureSso = "reconfigure-sso", Admin;
    ConfigureUnity = "configure-unity", Admin;
    RunSql = "run-sql", Admin;
    ReadLog = "read-log", Admin;
    Partition = "partition", Fault;
    Repair = "repair", Fault;
    Link = "link", Fault;
    RestartService = "restart-service", Service;
    StopService = "stop-service", Service;
    StartService = "start-service", Service;
    RegenerateCertificate = "regenerate-certificate", Service;
    DeleteCertificate = "delete-certificate", Service;
    UploadCertificate = "upload-certificate", Service;
    SetHighAvailability = "set-high-availability", Service;
    PushClientTrust = "push-client-trust", Service;
    ShowIpsecTrust = "show-ipsec-trust", Service;
    InstallCaSignedTomcat = "install-ca-signed-tomcat", Service;
    SipOauthMode = "sip-oauth-mode", Sip;
    SetSipPorts = "set-sip-ports", Sip;
    RefreshExpressway = "refresh-expressway", Sip;
    ReissueExpresswayCertificate = "reissue-expressway-certificate", Sip;
    ConfigureExpressway = "configure-expressway", Sip;
    ShowOpenPorts = "show-open-ports", Sip;
    SetSecurityProfile = "set-security-profile", Sip;
    ResetPhone = "reset-phone", Sip;
    SaveExpresswayCEntry = "save-expressway-c-entry", Sip;
    Crash = "crash", Fault;
    Restart = "restart", Fault;
    Skew = "skew", Fault;
    Isolate = "isolate", Fault;
    Rejoin = "rejoin", Fault;
}

/// A query of the publisher's database as the documents print it (`run sql ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlQuery {
    /// The refresh-token table with readable validity (the Korean and German documents).
    RefreshTokenDetails,
    /// The cluster's SIP OAuth mode, 0 or 1 (the French SIP OAuth guide).
    ClusterSipOauthMode,
}

impl SqlQuery {
    pub const ALL: [SqlQuery; 2] = [SqlQuery::RefreshTokenDetails, SqlQuery::ClusterSipOauthMode];

    /// Its name in scenario files and traces.
    pub fn name(self) -> &'static str {
        match self {
            SqlQuery::RefreshTokenDetails => "refreshtokendetails",
            SqlQuery::ClusterSipOauthMode => "cluster-sip-oauth-mode",
        }
    }

    pub fn named(name: &str) -> Option<SqlQuery> {
        SqlQuery::ALL.into_iter().find(|query| query.name() == name)
    }

    /// The statement, word for word as the documents give it.
    pub fn sql(self) -> &'static str {
        match self {
            SqlQuery::RefreshTokenDetails => {
                "run sql select pkid,refreshtokenindex,userid,clientid,dbinfo('utc_to_datetime',validity) as validity,state from refreshtokendetails"
            }
            SqlQuery::ClusterSipOauthMode => {
                "run sql select paramvalue FROM processconfig WHERE paramname = 'ClusterSIPOAuthMode'"
            }
        }
    }
}

/// Who carries out an action. Each carrier has its own queue or handle in the running
/// cluster; the driver looks the target up and hands the action over, nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// The publisher's administration: its CLI, its pages, its enterprise parameters.
    Publisher,
    /// The administrator's console on the campus site: calls to the publisher's APIs.
    Console,
    /// One subscriber's or IM and Presence node's own CLI and Control Center.
    Node(&'a NodeId),
    /// Expressway-C's administration.
    Expressway,
    /// Every node that holds the AuthZ keys, each answering from its own state.
    KeyHolders,
    /// Every node whose IPSec-trust must hold the CallManager publisher's `ipsec.pem`, read
    /// by the administrator against the publisher's.
    IpsecTrust,
    /// The Presence Redundancy Group, which the IM and Presence nodes share.
    PresenceGroup,
    /// The Jabber devices' trust stores, filled by group policy or MDM.
    DeviceTrust,
    /// Unity Connection's administration pages.
    Unity,
    /// The network between hosts, and the hosts' power: partitions, links, crashes.
    Network,
    /// One node's clock.
    Clock(&'a NodeId),
    /// The enterprise CA and Certificate Management's upload on the publisher, which the
    /// platform installs on every node (the multi-SAN Tomcat certificate).
    MultiSanTomcat,
}

/// Something an administrator (or fate) does, with what it needs to do it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `set key regen authz signing|encryption` on the publisher.
    RegenerateKey(KeyKind),
    /// An administrator revokes the refresh tokens of `user`, or only those of one of the
    /// user's devices: `https://<publisher>:8443/ssosp/token/revoke?user_id=…[&client_id=…]`.
    Revoke { user: String, device: Option<String> },
    /// An administrator changes an expiry timer on the publisher: tokens issued from then on
    /// get the new lifetime, tokens already issued keep theirs.
    SetExpiry { timer: ExpiryTimer, value_s: u64 },
    /// An administrator sets "OAuth with Refresh Login Flow" to Enabled (`true`) or
    /// Disabled: logins from then on get the flows it allows; tokens already issued stay.
    SetRefreshLoginFlow(bool),
    /// `show key authz signing` and `show key authz encryption` on every CallManager and IM
    /// and Presence node:
    /// each records the two lines it prints.
    ShowKeys,
    /// SAML SSO configured again with the publisher's current Tomcat certificate: the
    /// identity provider imports the new SP metadata.
    ReconfigureSso,
    /// `run sql ...` on the publisher's CLI: one of the queries the documents quote.
    RunSql(SqlQuery),
    /// `file view` / `file list` on the publisher's CLI: ssoApp.log, the ssosp logs or the
    /// certMgmt logs.
    ReadLog(LogName),
    /// `show open ports regexp <port>` on a CallManager subscriber's CLI.
    ShowOpenPorts { node: NodeId, port: u16 },
    /// Unity Connection's administrator adds (or removes) the Authz Servers entry, or turns
    /// OAuth services on (or off); a setting left out stays as it is.
    ConfigureUnity { authz_server: Option<bool>, oauth: Option<bool> },
    /// The network between two nodes or sites breaks: both ways, or `oneway` from `a` to `b`.
    Partition { a: NodeId, b: NodeId, oneway: bool },
    /// The network between two nodes or sites is whole again (both ways, or `a` to `b`).
    Repair { a: NodeId, b: NodeId, oneway: bool },
    /// Latency and loss on the link between two nodes or sites.
    Link { a: NodeId, b: NodeId, latency: Option<Duration>, loss_ppm: Option<u32> },
    /// `set key regen authz …` run on a subscriber or IM and Presence node: it fetches the
    /// cluster's keys from the publisher onto its disk (keys are generated on the publisher
    /// only); its running Tomcat uses them once restarted.
    PullKeys { node: NodeId, kind: KeyKind },
    /// `utils service restart <service>` on a node: the service loads what is on disk.
    RestartService { node: NodeId, service: Service },
    /// Stop a service on an IM and Presence node (Control Center).
    StopService { node: NodeId, service: Service },
    /// Start a stopped service on an IM and Presence node.
    StartService { node: NodeId, service: Service },
    /// Regenerate an identity certificate on an IM and Presence node (Certificate Management).
    RegenerateCertificate { node: NodeId, identity: Identity },
    /// Delete a certificate on a CallManager or IM and Presence node (refused for identity
    /// certificates).
    DeleteCertificate { node: NodeId, certificate: CertificateName },
    /// Upload a certificate to a trust store of a CallManager subscriber with SIP: the CA
    /// that signs Expressway-C's certificate, or a subscriber's current certificate.
    UploadCertificate { node: NodeId, certificate: CertificateName },
    /// Turn "Enable High Availability" of the Presence Redundancy Group on or off.
    SetHighAvailability(bool),
    /// The administrator pushes the IM and Presence nodes' current `cup-xmpp.pem` and
    /// `tomcat.pem`, and the subscribers' `tomcat.pem`, into the Jabber devices' trust stores
    /// (group policy, MDM, e-mail).
    PushClientTrust,
    /// The documented IPSec check: the CallManager publisher's `ipsec.pem` serial compared
    /// with the one in each other node's IPSec-trust (Certificate Management on each node).
    ShowIpsecTrust,
    /// The multi-SAN Tomcat CSR generated on the CallManager publisher, signed by the
    /// enterprise CA and uploaded there: every CallManager and IM and Presence node's
    /// `tomcat.pem`, the CA in every Tomcat-trust.
    InstallCaSignedTomcat,
    /// Expressway-C's "Authorize by OAuth token with refresh" (Configuration > Unified
    /// Communications > Configuration) turned on or off.
    ConfigureExpressway { oauth_with_refresh: Option<bool>, trusts_callmanager: Option<bool> },
    /// `utils sipOAuth-mode enable` (or `disable`) on the publisher: `ClusterSIPOAuthMode` in
    /// `processconfig`; each subscriber's CallManager reads it when it (re)starts.
    SetSipOAuthMode(bool),
    /// The administrator sets a subscriber's SIP OAuth ports (the CallManager page, which
    /// refuses a port outside 1024-49151); taken up when CallManager restarts there.
    SetSipPorts { node: NodeId, phone_port: Option<i64>, mra_port: Option<i64> },
    /// "Refresh" of the CallManager nodes on Expressway-C (discovery again): one
    /// `CEOAuth <node>` zone per subscriber, and Expressway-C's CN/SAN pushed over AXL into
    /// `expresswaycconfiguration`.
    RefreshExpressway,
    /// Expressway-C gets a new certificate from its CA, with these further DNS names.
    ReissueExpresswayCertificate { san: Vec<String> },
    /// The phone security profile page: "Enable Digest Authentication" and "TFTP Encrypted
    /// Config" (refused while SIP OAuth is on), device security mode, transport and "Enable
    /// OAuth Authentication" (which phones take only when reset).
    SetSecurityProfile(ProfileChange),
    /// "Reset" on a phone's page (`device`), or on every phone: it takes the saved profile
    /// and registers again at once.
    ResetPhone { device: Option<String> },
    /// Device > Expressway-C (from 12.5(1)SU1): the administrator adds the entry of `host`
    /// or edits it, typing the X.509 subject and subject alternative names of Expressway-C's
    /// certificate; CallManager matches the MRA port's peers against them.
    /// With `domain`, the entry holds Expressway-C's domain when it is not the cluster's
    /// (see [`crate::dns_domain`]).
    SaveExpresswayEntry { host: String, names: Vec<String>, domain: Option<String> },
    /// A node stops: what it held in memory is gone; its disk is kept.
    Crash(NodeId),
    /// A crashed (or running) node starts again from its disk.
    Restart(NodeId),
    /// A node's clock is off by `offset_ms` from now on, drifting `drift_ppm`.
    Skew { node: NodeId, offset_ms: i64, drift_ppm: i64 },
    /// A node (or site) is cut off from every other host, both ways: its cable, switch port
    /// or firewall. Unlike a crash it keeps running, with its memory and timers.
    Isolate(NodeId),
    /// An isolated node is connected again: every one of its links is whole (a partition of
    /// one of them made before is repaired with it).
    Rejoin(NodeId),
}

impl Action {
    /// The action's name, as the step that asked for it spells it.
    pub fn name(&self) -> &'static str {
        self.action_name().name()
    }

    /// The name of the step that asks for this action (`regenerate-key` on a subscriber is
    /// a key pull; `set-param` sets an expiry or the login flow).
    pub fn action_name(&self) -> ActionName {
        match self {
            Action::RegenerateKey(_) | Action::PullKeys { .. } => ActionName::RegenerateKey,
            Action::Revoke { .. } => ActionName::Revoke,
            Action::SetExpiry { .. } | Action::SetRefreshLoginFlow(_) => ActionName::SetParam,
            Action::ShowKeys => ActionName::ShowKeys,
            Action::ReconfigureSso => ActionName::ReconfigureSso,
            Action::ConfigureUnity { .. } => ActionName::ConfigureUnity,
            Action::RunSql(_) => ActionName::RunSql,
            Action::ReadLog(_) => ActionName::ReadLog,
            Action::ShowOpenPorts { .. } => ActionName::ShowOpenPorts,
            Action::Partition { .. } => ActionName::Partition,
            Action::Repair { .. } => ActionName::Repair,
            Action::Link { .. } => ActionName::Link,
            Action::RestartService { .. } => ActionName::RestartService,
            Action::StopService { .. } => ActionName::StopService,
            Action::StartService { .. } => ActionName::StartService,
            Action::RegenerateCertificate { .. } => ActionName::RegenerateCertificate,
            Action::DeleteCertificate { .. } => ActionName::DeleteCertificate,
            Action::UploadCertificate { .. } => ActionName::UploadCertificate,
            Action::SetHighAvailability(_) => ActionName::SetHighAvailability,
            Action::PushClientTrust => ActionName::PushClientTrust,
            Action::ShowIpsecTrust => ActionName::ShowIpsecTrust,
            Action::InstallCaSignedTomcat => ActionName::InstallCaSignedTomcat,
            Action::ConfigureExpressway { .. } => ActionName::ConfigureExpressway,
            Action::SetSipOAuthMode(_) => ActionName::SipOauthMode,
            Action::SetSipPorts { .. } => ActionName::SetSipPorts,
            Action::RefreshExpressway => ActionName::RefreshExpressway,
            Action::ReissueExpresswayCertificate { .. } => ActionName::ReissueExpresswayCertificate,
            Action::SetSecurityProfile(_) => ActionName::SetSecurityProfile,
            Action::ResetPhone { .. } => ActionName::ResetPhone,
            Action::SaveExpresswayEntry { .. } => ActionName::SaveExpresswayCEntry,
            Action::Crash(_) => ActionName::Crash,
            Action::Restart(_) => ActionName::Restart,
            Action::Skew { .. } => ActionName::Skew,
            Action::Isolate(_) => ActionName::Isolate,
            Action::Rejoin(_) => ActionName::Rejoin,
        }
    }

    /// Who carries the action out. The parser admits a node's own command only for a node
    /// that takes it, so a [`Target::Node`] always has a queue.
    pub fn target(&self) -> Target<'_> {
        match self {
            Action::RegenerateKey(_)
            | Action::RunSql(_)
            | Action::ReadLog(_)
            | Action::SetExpiry { .. }
            | Action::SetRefreshLoginFlow(_)
            | Action::SetSipOAuthMode(_)
            | Action::SetSipPorts { .. }
            | Action::SetSecurityProfile(_)
            | Action::ResetPhone { .. }
            | Action::SaveExpresswayEntry { .. }
            | Action::ReconfigureSso => Target::Publisher,
            Action::RestartService { node, service: Service::Tomcat | Service::DrfPrimary }
            | Action::RegenerateCertificate { node, .. }
            | Action::StopService { node, .. }
            | Action::StartService { node, .. }
            | Action::DeleteCertificate { node, .. }
                if *node == NodeId::PUBLISHER =>
            {
                Target::Publisher
            }
            Action::Revoke { .. } => Target::Console,
            Action::PullKeys { node, .. }
            | Action::RestartService { node, .. }
            | Action::StopService { node, .. }
            | Action::StartService { node, .. }
            | Action::RegenerateCertificate { node, .. }
            | Action::DeleteCertificate { node, .. }
            | Action::UploadCertificate { node, .. }
            | Action::ShowOpenPorts { node, .. } => Target::Node(node),
            Action::RefreshExpressway
            | Action::ReissueExpresswayCertificate { .. }
            | Action::ConfigureExpressway { .. } => Target::Expressway,
            Action::ShowKeys => Target::KeyHolders,
            Action::ConfigureUnity { .. } => Target::Unity,
            Action::SetHighAvailability(_) => Target::PresenceGroup,
            Action::PushClientTrust => Target::DeviceTrust,
            Action::ShowIpsecTrust => Target::IpsecTrust,
            Action::InstallCaSignedTomcat => Target::MultiSanTomcat,
            Action::Partition { .. }
            | Action::Repair { .. }
            | Action::Link { .. }
            | Action::Crash(_)
            | Action::Restart(_)
            | Action::Isolate(_)
            | Action::Rejoin(_) => Target::Network,
            Action::Skew { node, .. } => Target::Clock(node),
        }
    }

    /// The fields of the action's `step` event: its name and what it was asked to do.
    pub fn step_fields(&self) -> BTreeMap<String, Value> {
        let mut fields: Vec<(&str, Value)> = vec![("action", self.name().into())];
        let mut put = |name: &'static str, value: Value| fields.push((name, value));
        match self {
            Action::RegenerateKey(kind) => put("key", kind.to_string().into()),
            Action::Revoke { user, device } => {
                put("user", user.as_str().into());
                if let Some(device) = device {
                    put("client", device.as_str().into());
                }
            }
            Action::SetExpiry { timer, value_s } => {
                put("param", timer.to_string().into());
                put("value_s", (*value_s).into());
            }
            Action::SetRefreshLoginFlow(enabled) => {
                put("param", "refresh_login_flow".into());
                put("enabled", (*enabled).into());
            }
            Action::ShowKeys
            | Action::ReconfigureSso
            | Action::PushClientTrust
            | Action::ShowIpsecTrust
            | Action::InstallCaSignedTomcat
            | Action::RefreshExpressway => {}
            Action::Partition { a, b, oneway } | Action::Repair { a, b, oneway } => {
                put("between", format!("{a} {b}").into());
                if *oneway {
                    put("oneway", true.into());
                }
            }
            Action::Link { a, b, latency, loss_ppm } => {
                put("between", format!("{a} {b}").into());
                if let Some(latency) = latency {
                    put("latency_ms", (latency.as_millis() as u64).into());
                }
                if let Some(loss_ppm) = loss_ppm {
                    put("loss_ppm", (*loss_ppm).into());
                }
            }
            Action::Crash(node) | Action::Restart(node) | Action::Isolate(node) | Action::Rejoin(node) => {
                put("target", node.as_str().into())
            }
            Action::PullKeys { node, kind } => {
                put("target", node.as_str().into());
                put("key", kind.to_string().into());
            }
            Action::RestartService { node, service }
            | Action::StopService { node, service }
            | Action::StartService { node, service } => {
                put("target", node.as_str().into());
                put("service", service.name().into());
            }
            Action::RegenerateCertificate { node, identity } => {
                put("target", node.as_str().into());
                put("certificate", identity.name().into());
            }
            Action::DeleteCertificate { node, certificate }
            | Action::UploadCertificate { node, certificate } => {
                put("target", node.as_str().into());
                put("certificate", certificate.to_string().into());
            }
            Action::SetHighAvailability(enabled) | Action::SetSipOAuthMode(enabled) => {
                put("enabled", (*enabled).into())
            }
            Action::SetSipPorts { node, phone_port, mra_port } => {
                put("target", node.as_str().into());
                put("ports", ports_text(*phone_port, *mra_port).into());
            }
            Action::ReissueExpresswayCertificate { san } => put("san", san.join(" ").into()),
            Action::RunSql(query) => put("query", query.name().into()),
            Action::ReadLog(log) => put("log", log.name().into()),
            Action::ShowOpenPorts { node, port } => {
                put("target", node.as_str().into());
                put("port", (*port).into());
            }
            Action::ConfigureExpressway { oauth_with_refresh, trusts_callmanager } => put(
                "settings",
                flags_text(&[
                    ("oauth_with_refresh", *oauth_with_refresh),
                    ("trusts_callmanager", *trusts_callmanager),
                ])
                .into(),
            ),
            Action::ConfigureUnity { authz_server, oauth } => {
                put("settings", flags_text(&[("authz_server", *authz_server), ("oauth", *oauth)]).into())
            }
            Action::SetSecurityProfile(change) => put("settings", change.text().into()),
            Action::ResetPhone { device } => {
                if let Some(device) = device {
                    put("target", device.as_str().into());
                }
            }
            Action::SaveExpresswayEntry { host, names, domain } => {
                put("host", host.as_str().into());
                put("names", names.join(" ").into());
                if let Some(domain) = domain {
                    put("domain", domain.as_str().into());
                }
            }
            Action::Skew { node, offset_ms, drift_ppm } => {
                put("target", node.as_str().into());
                put("offset_ms", (*offset_ms).into());
                put("drift_ppm", (*drift_ppm).into());
            }
        }
        fields.into_iter().map(|(name, value)| (name.to_string(), value)).collect()
    }

    /// The action a `step` event records, read back from its fields (a trace read from a
    /// file has only those); `None` when they name no action this build knows.
    pub fn from_step(fields: &BTreeMap<String, Value>) -> Option<Action> {
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
        let flag = |name: &str| fields.get(name).and_then(Value::as_bool);
        let number = |name: &str| fields.get(name).and_then(Value::as_i64);
        let named = |name: &str| -> Option<Value> { fields.get(name).cloned() };
        let node = || text("target").map(NodeId::new);
        let pair = || -> Option<(NodeId, NodeId)> {
            let between = text("between")?;
            let (a, b) = between.split_once(' ')?;
            Some((NodeId::new(a), NodeId::new(b)))
        };
        let service = || text("service").as_deref().and_then(Service::from_name);
        let name = *ActionName::ALL.iter().find(|name| Some(name.name()) == text("action").as_deref())?;
        Some(match name {
            ActionName::RegenerateKey => {
                let kind: KeyKind = serde_json::from_value(named("key")?).ok()?;
                match node() {
                    Some(node) => Action::PullKeys { node, kind },
                    None => Action::RegenerateKey(kind),
                }
            }
            ActionName::Revoke => Action::Revoke { user: text("user")?, device: text("client") },
            ActionName::SetParam => match flag("enabled") {
                Some(enabled) => Action::SetRefreshLoginFlow(enabled),
                None => Action::SetExpiry {
                    timer: serde_json::from_value(named("param")?).ok()?,
                    value_s: fields.get("value_s")?.as_u64()?,
                },
            },
            ActionName::ShowKeys => Action::ShowKeys,
            ActionName::ReconfigureSso => Action::ReconfigureSso,
            ActionName::RunSql => Action::RunSql(SqlQuery::named(&text("query")?)?),
            ActionName::ReadLog => Action::ReadLog(LogName::named(&text("log")?)?),
            ActionName::ShowOpenPorts => Action::ShowOpenPorts {
                node: node()?,
                port: fields.get("port").and_then(Value::as_u64).and_then(|port| u16::try_from(port).ok())?,
            },
            ActionName::ConfigureExpressway => {
                let settings = text("settings").unwrap_or_default();
                Action::ConfigureExpressway {
                    oauth_with_refresh: setting_in(&settings, "oauth_with_refresh"),
                    trusts_callmanager: setting_in(&settings, "trusts_callmanager"),
                }
            }
            ActionName::ConfigureUnity => {
                let settings = text("settings").unwrap_or_default();
                Action::ConfigureUnity {
                    authz_server: setting_in(&settings, "authz_server"),
                    oauth: setting_in(&settings, "oauth"),
                }
            }
            ActionName::Partition | ActionName::Repair => {
                let (a, b) = pair()?;
                let oneway = flag("oneway").unwrap_or(false);
                match name {
                    ActionName::Partition => Action::Partition { a, b, oneway },
                    _ => Action::Repair { a, b, oneway },
                }
            }
            ActionName::Link => {
                let (a, b) = pair()?;
                let latency = fields.get("latency_ms").and_then(Value::as_u64).map(Duration::from_millis);
                let loss_ppm =
                    fields.get("loss_ppm").and_then(Value::as_u64).and_then(|ppm| u32::try_from(ppm).ok());
                Action::Link { a, b, latency, loss_ppm }
            }
            ActionName::RestartService => Action::RestartService { node: node()?, service: service()? },
            ActionName::StopService => Action::StopService { node: node()?, service: service()? },
            ActionName::StartService => Action::StartService { node: node()?, service: service()? },
            ActionName::RegenerateCertificate => Action::RegenerateCertificate {
                node: node()?,
                identity: Identity::from_name(&text("certificate")?)?,
            },
            ActionName::DeleteCertificate => Action::DeleteCertificate {
                node: node()?,
                certificate: CertificateName::parse(&text("certificate")?).ok()?,
            },
            ActionName::UploadCertificate => Action::UploadCertificate {
                node: node()?,
                certificate: CertificateName::parse(&text("certificate")?).ok()?,
            },
            ActionName::SetHighAvailability => Action::SetHighAvailability(flag("enabled")?),
            ActionName::PushClientTrust => Action::PushClientTrust,
            ActionName::ShowIpsecTrust => Action::ShowIpsecTrust,
            ActionName::InstallCaSignedTomcat => Action::InstallCaSignedTomcat,
            ActionName::SipOauthMode => Action::SetSipOAuthMode(flag("enabled")?),
            ActionName::SetSipPorts => {
                let ports = text("ports").unwrap_or_default();
                let port = |name: &str| {
                    ports.split(' ').find_map(|part| part.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
                };
                Action::SetSipPorts { node: node()?, phone_port: port("phone"), mra_port: port("mra") }
            }
            ActionName::RefreshExpressway => Action::RefreshExpressway,
            ActionName::ReissueExpresswayCertificate => Action::ReissueExpresswayCertificate {
                san: text("san")?.split(' ').filter(|name| !name.is_empty()).map(str::to_string).collect(),
            },
            ActionName::SetSecurityProfile => {
                Action::SetSecurityProfile(ProfileChange::from_text(&text("settings").unwrap_or_default()))
            }
            ActionName::ResetPhone => Action::ResetPhone { device: text("target") },
            ActionName::SaveExpresswayCEntry => Action::SaveExpresswayEntry {
                host: text("host")?,
                names: text("names")?
                    .split(' ')
                    .filter(|name| !name.is_empty())
                    .map(str::to_string)
                    .collect(),
                domain: text("domain"),
            },
            ActionName::Crash => Action::Crash(node()?),
            ActionName::Restart => Action::Restart(node()?),
            ActionName::Isolate => Action::Isolate(node()?),
            ActionName::Rejoin => Action::Rejoin(node()?),
            ActionName::Skew => Action::Skew {
                node: node()?,
                offset_ms: number("offset_ms")?,
                drift_ppm: number("drift_ppm")?,
            },
        })
    }

    /// The step in words, as the story tells it.
    pub fn in_words(&self) -> String {
        match self {
            Action::RegenerateKey(kind) => format!("administrator runs `set key regen authz {kind}` on the publisher"),
            Action::PullKeys { node, kind } => format!("administrator runs `set key regen authz {kind}` on {node}"),
            Action::RestartService { node, service } => {
                format!("administrator restarts {} on {node}", service.display_name())
            }
            Action::StopService { node, service } => format!("administrator stops {} on {node}", service.display_name()),
            Action::StartService { node, service } => {
                format!("administrator starts {} on {node}", service.display_name())
            }
            Action::RegenerateCertificate { node, identity } => {
                format!("administrator regenerates {}.pem on {node}", identity.name())
            }
            Action::DeleteCertificate { node, certificate } => format!("administrator deletes {certificate} on {node}"),
            Action::UploadCertificate { node, certificate } => {
                format!("administrator uploads {certificate} on {node}")
            }
            Action::SetHighAvailability(enabled) => format!(
                "administrator turns High Availability {} in the Presence Redundancy Group",
                if *enabled { "on" } else { "off" }
            ),
            Action::PushClientTrust => "administrator pushes the nodes' current cup-xmpp.pem and tomcat.pem (the CA's certificate for a CA-signed one) to the Jabber devices (group policy, MDM)".to_string(),
            Action::InstallCaSignedTomcat => "administrator generates the multi-SAN Tomcat CSR on cucm-pub, has the enterprise CA sign it and uploads the certificate there, for every node".to_string(),
            Action::ShowIpsecTrust => "administrator compares the serial of cucm-pub's ipsec.pem with the one in every other node's IPSec-trust".to_string(),
            Action::RunSql(query) => format!("administrator runs `{}` on the publisher", query.sql()),
            Action::ReadLog(log) => format!("administrator runs `{}` on the publisher", log.command()),
            Action::ShowOpenPorts { node, port } => {
                format!("administrator runs `show open ports regexp {port}` on {node}")
            }
            Action::ConfigureExpressway { oauth_with_refresh, trusts_callmanager } => {
                expressway_settings_in_words(*oauth_with_refresh, *trusts_callmanager)
            }
            Action::ConfigureUnity { authz_server, oauth } => {
                let mut said = Vec::new();
                if let Some(present) = authz_server {
                    said.push(if *present { "adds the Authz Servers entry (the CallManager publisher, port 8443, an AXL user)" } else { "removes the Authz Servers entry" });
                }
                if let Some(enabled) = oauth {
                    said.push(if *enabled { "enables OAuth services" } else { "disables OAuth services" });
                }
                format!("Unity Connection's administrator {}", said.join(" and "))
            }
            Action::ReconfigureSso => {
                "administrator configures SAML SSO again with the publisher's current Tomcat certificate (new SP metadata to the identity provider)".to_string()
            }
            Action::ShowKeys => "administrator runs `show key authz signing` and `show key authz encryption` on every CallManager and IM and Presence node".to_string(),
            Action::SetRefreshLoginFlow(enabled) => format!(
                "administrator sets \"OAuth with Refresh Login Flow\" to {}",
                if *enabled { "Enabled" } else { "Disabled" }
            ),
            Action::SetExpiry { timer, value_s } => {
                format!("administrator sets {timer} to {}", super::format_duration(Duration::from_secs(*value_s)))
            }
            Action::Revoke { user, device: Some(device) } => {
                format!("administrator revokes the refresh tokens of {user} on {device}")
            }
            Action::Revoke { user, device: None } => format!("administrator revokes every refresh token of {user}"),
            Action::Partition { a, b, oneway } | Action::Repair { a, b, oneway } => {
                let verb = if matches!(self, Action::Partition { .. }) { "breaks" } else { "is whole again" };
                match oneway {
                    true => format!("the network from {a} to {b} {verb} (one way)"),
                    false => format!("the network between {a} and {b} {verb}"),
                }
            }
            Action::Link { a, b, latency, loss_ppm } => {
                let mut parts = Vec::new();
                if let Some(latency) = latency {
                    parts.push(format!("{} ms latency", latency.as_millis()));
                }
                if let Some(ppm) = loss_ppm {
                    parts.push(format!("{}% of messages break the link", f64::from(*ppm) / 10_000.0));
                }
                format!("the link {a} – {b} now has {}", parts.join(" and "))
            }
            Action::Crash(node) => format!("{node} crashes: what it held in memory is gone, its disk is kept"),
            Action::Restart(node) => format!("{node} is started again"),
            Action::Isolate(node) => format!("{node} is cut off from every other host; it keeps running"),
            Action::Rejoin(node) => format!("{node} is connected again"),
            Action::Skew { node, offset_ms, drift_ppm } => {
                let offset = super::format_duration(Duration::from_millis(offset_ms.unsigned_abs()));
                let mut said = match offset_ms {
                    0 => format!("{node}'s clock is right"),
                    ms if *ms < 0 => format!("{node}'s clock is set {offset} behind"),
                    _ => format!("{node}'s clock is set {offset} ahead"),
                };
                if *drift_ppm != 0 {
                    said.push_str(&format!(", drifting {drift_ppm} ppm"));
                }
                said
            }
            Action::SetSipOAuthMode(true) => {
                "administrator runs `utils sipOAuth-mode enable` on the publisher".to_string()
            }
            Action::SetSipOAuthMode(false) => {
                "administrator runs `utils sipOAuth-mode disable` on the publisher".to_string()
            }
            Action::SetSipPorts { node, phone_port, mra_port } => format!(
                "administrator sets the SIP OAuth ports of {node} ({})",
                ports_text(*phone_port, *mra_port)
            ),
            Action::SetSecurityProfile(change) => {
                format!("administrator edits the phone security profile ({})", change.text())
            }
            Action::ResetPhone { device: Some(device) } => {
                format!("administrator resets phone {device}, which takes the saved security profile")
            }
            Action::ResetPhone { device: None } => {
                "administrator resets every phone, which takes the saved security profile".to_string()
            }
            Action::RefreshExpressway => "administrator refreshes the CallManager nodes on Expressway-C".to_string(),
            Action::SaveExpresswayEntry { host, names, domain } => format!(
                "administrator saves the Expressway-C entry {host} on Device > Expressway-C, with X.509 names {}{}",
                names.join(" "),
                domain.as_ref().map_or_else(String::new, |domain| format!(" and domain {domain}"))
            ),
            Action::ReissueExpresswayCertificate { san } => {
                format!("Expressway-C gets a new certificate from its CA, named {}", san.join(" "))
            }
        }
    }
}

/// `phone=5090 mra=5091`: the SIP OAuth ports a step asks for.
fn ports_text(phone_port: Option<i64>, mra_port: Option<i64>) -> String {
    let phone = phone_port.map(|port| format!("phone={port}"));
    let mra = mra_port.map(|port| format!("mra={port}"));
    [phone, mra].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// `name=value` of each setting given, space-separated (`authz_server=true oauth=false`).
fn flags_text(flags: &[(&str, Option<bool>)]) -> String {
    let given: Vec<String> =
        flags.iter().filter_map(|(name, flag)| flag.map(|flag| format!("{name}={flag}"))).collect();
    given.join(" ")
}

/// A `configure-expressway` step in words.
fn expressway_settings_in_words(
    oauth_with_refresh: Option<bool>,
    trusts_callmanager: Option<bool>,
) -> String {
    let mut said = Vec::new();
    if let Some(on) = oauth_with_refresh {
        said.push(format!(
            "turns \"Authorize by OAuth token with refresh\" {}",
            if on { "on" } else { "off" }
        ));
    }
    if let Some(trusts) = trusts_callmanager {
        said.push(
            if trusts {
                "uploads the CallManager subscribers' Tomcat certificates to its trusted CA list"
            } else {
                "removes the CallManager subscribers' Tomcat certificates from its trusted CA list"
            }
            .to_string(),
        );
    }
    format!("Expressway-C's administrator {}", said.join(" and "))
}

/// The setting `name` in a `settings` text (`digest_authentication=true oauth=false`).
fn setting_in(settings: &str, name: &str) -> Option<bool> {
    settings.split(' ').find_map(|part| part.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// One action of every shape, on hosts `a` and `b`, for tests of whatever takes actions.
#[cfg(test)]
pub(crate) fn every_action() -> Vec<Action> {
    tests::every_action()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logs_the_trace_admits_are_the_steps_own() {
        let names: Vec<&str> = LogName::ALL.iter().map(|log| log.name()).collect();
        assert_eq!(names, crate::trace::domain::LOG_NAMES);
        for log in LogName::ALL {
            assert!(log.command().starts_with("file "), "{}", log.command());
        }
    }

    #[test]
    fn the_sql_queries_the_trace_admits_are_the_steps_own() {
        let names: Vec<&str> = SqlQuery::ALL.iter().map(|query| query.name()).collect();
        assert_eq!(names, crate::trace::domain::SQL_QUERIES);
        for query in SqlQuery::ALL {
            assert_eq!(SqlQuery::named(query.name()), Some(query));
            assert!(query.sql().starts_with("run sql select "), "{}", query.sql());
        }
        assert_eq!(SqlQuery::named("select * from refreshtokendetails"), None);
    }

    /// One action of every shape, on hosts `a` and `b`.
    pub(super) fn every_action() -> Vec<Action> {
        let (a, b) = (NodeId::new("a"), NodeId::new("b"));
        vec![
            Action::RegenerateKey(KeyKind::Signing),
            Action::Revoke { user: "alice".into(), device: Some("jabber-1".into()) },
            Action::Revoke { user: "alice".into(), device: None },
            Action::SetExpiry { timer: ExpiryTimer::AccessTokenExpiry, value_s: 600 },
            Action::SetRefreshLoginFlow(false),
            Action::ShowKeys,
            Action::ReconfigureSso,
            Action::ConfigureUnity { authz_server: Some(true), oauth: None },
            Action::ConfigureExpressway { oauth_with_refresh: Some(true), trusts_callmanager: None },
            Action::ConfigureExpressway { oauth_with_refresh: None, trusts_callmanager: Some(false) },
            Action::RunSql(SqlQuery::RefreshTokenDetails),
            Action::RunSql(SqlQuery::ClusterSipOauthMode),
            Action::ShowOpenPorts { node: a.clone(), port: 5090 },
            Action::ConfigureUnity { authz_server: None, oauth: Some(false) },
            Action::Partition { a: a.clone(), b: b.clone(), oneway: false },
            Action::Partition { a: a.clone(), b: b.clone(), oneway: true },
            Action::Repair { a: a.clone(), b: b.clone(), oneway: false },
            Action::Repair { a: a.clone(), b: b.clone(), oneway: true },
            Action::Link {
                a: a.clone(),
                b: b.clone(),
                latency: Some(Duration::from_millis(40)),
                loss_ppm: Some(5),
            },
            Action::PullKeys { node: a.clone(), kind: KeyKind::Encryption },
            Action::RestartService { node: NodeId::PUBLISHER, service: Service::Tomcat },
            Action::RestartService { node: a.clone(), service: Service::XcpRouter },
            Action::StopService { node: a.clone(), service: Service::SipProxy },
            Action::StartService { node: a.clone(), service: Service::SipProxy },
            Action::RegenerateCertificate { node: a.clone(), identity: Identity::CupXmpp },
            Action::DeleteCertificate {
                node: a.clone(),
                certificate: CertificateName::Identity(Identity::Cup),
            },
            Action::SetHighAvailability(true),
            Action::PushClientTrust,
            Action::ShowIpsecTrust,
            Action::InstallCaSignedTomcat,
            Action::RestartService { node: NodeId::PUBLISHER, service: Service::DrfPrimary },
            Action::RegenerateCertificate { node: NodeId::PUBLISHER, identity: Identity::Ipsec },
            Action::StopService { node: NodeId::PUBLISHER, service: Service::CertificateChangeNotification },
            Action::StartService { node: NodeId::PUBLISHER, service: Service::CertificateChangeNotification },
            Action::UploadCertificate {
                node: a.clone(),
                certificate: CertificateName::Trust { store: Identity::Tomcat, host: "b".into() },
            },
            Action::DeleteCertificate {
                node: NodeId::PUBLISHER,
                certificate: CertificateName::Trust { store: Identity::Tomcat, host: "imp-retired".into() },
            },
            Action::SetSipOAuthMode(true),
            Action::ReadLog(LogName::Ssosp),
            Action::ReadLog(LogName::CertMgmt),
            Action::SetSipPorts { node: a.clone(), phone_port: Some(5090), mra_port: None },
            Action::RefreshExpressway,
            Action::ReissueExpresswayCertificate { san: vec!["edge.example".into()] },
            Action::SetSecurityProfile(ProfileChange {
                digest_authentication: Some(true),
                device_security_mode: Some(crate::phone_security::DeviceSecurityMode::Authenticated),
                oauth_authentication: Some(false),
                ..ProfileChange::default()
            }),
            Action::ResetPhone { device: None },
            Action::ResetPhone { device: Some("phone-1".to_string()) },
            Action::SaveExpresswayEntry {
                host: "expc2.example.com".to_string(),
                names: vec!["expc2.example.com".to_string(), "edge.example.com".to_string()],
                domain: None,
            },
            Action::SaveExpresswayEntry {
                host: "expc.edge.example.net".to_string(),
                names: vec!["expc.edge.example.net".to_string()],
                domain: Some("edge.example.net".to_string()),
            },
            Action::Crash(a.clone()),
            Action::Restart(a.clone()),
            Action::Isolate(a.clone()),
            Action::Rejoin(a.clone()),
            Action::Skew { node: a, offset_ms: -1500, drift_ppm: 20 },
        ]
    }

    #[test]
    fn the_sample_covers_every_action_name() {
        let names: Vec<ActionName> = every_action().iter().map(Action::action_name).collect();
        for name in ActionName::ALL {
            assert!(names.contains(name), "no sample of {}", name.name());
        }
    }

    /// Every action name reads back as itself from a scenario file: the one spelling is the
    /// one the parser takes.
    #[test]
    fn each_action_is_spelled_once() {
        assert_eq!(ActionName::ALL.len(), ActionName::NAMES.len());
        for (name, spelled) in ActionName::ALL.iter().zip(ActionName::NAMES) {
            assert_eq!(name.name(), *spelled);
            let read: ActionName = serde_json::from_value(serde_json::Value::from(*spelled)).unwrap();
            assert_eq!(read, *name);
        }
    }

    /// A trace read from a file knows a step only by its fields: they give back the action,
    /// so the story tells it as the run did.
    #[test]
    fn every_step_event_reads_back_as_its_action() {
        for action in every_action() {
            assert_eq!(Action::from_step(&action.step_fields()), Some(action.clone()), "{action:?}");
        }
        let unknown: BTreeMap<String, Value> = [("action".to_string(), Value::from("flood"))].into();
        assert_eq!(Action::from_step(&unknown), None);
    }
}
