//! The scenario file as written: serde's view of the TOML, before any checking.
//!
//! Every table denies unknown keys (a typo is an error, not a silently ignored line), every
//! table is a [`Table`] (an array in its place is an error), and every list is bounded
//! while it is parsed (`bounded_vec`), so a hostile file is refused at its first entry past
//! the limit.

use std::collections::BTreeMap;

use authzlab_host::input::bounded_vec;
use serde::Deserialize;
use toml::Spanned;

use super::duration::SimDuration;
use super::table::Table;
use super::{ClientKind, DeviceTokens, Release, Site, CLIENTS_MAX, STEPS_MAX};
use crate::tokens::KeyKind;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `"all"` (the default: the verdict holds for every seed) or `"pinned"`.
    #[serde(default)]
    pub seeds: Option<Spanned<String>>,
    #[serde(default = "default_tick")]
    pub tick: Spanned<SimDuration>,
    pub duration: Spanned<SimDuration>,
    #[serde(default)]
    pub epoch: Option<Spanned<u64>>,
    #[serde(default)]
    pub skip_idle: Option<bool>,
    #[serde(default)]
    pub cluster: Table<ClusterFile>,
    #[serde(default)]
    pub params: Table<ParamsFile>,
    #[serde(default, deserialize_with = "bounded_vec::<_, _, { CLIENTS_MAX as usize }>")]
    pub clients: Vec<Table<ClientFile>>,
    #[serde(default, deserialize_with = "bounded_vec::<_, _, STEPS_MAX>")]
    pub step: Vec<Table<StepFile>>,
    #[serde(default, deserialize_with = "bounded_vec::<_, _, STEPS_MAX>")]
    pub expect: Vec<Spanned<Table<ExpectFile>>>,
    /// A negative scenario: the invariants it expects the run to violate.
    #[serde(default)]
    pub violates: Option<Spanned<Vec<String>>>,
    /// The token-consistency anomalies the run shows by design.
    #[serde(default)]
    pub anomalies: Option<Spanned<Vec<String>>>,
    /// Rows in the refresh-token table at the start.
    #[serde(default, deserialize_with = "bounded_vec::<_, _, STEPS_MAX>")]
    pub table: Vec<Table<TableRowsFile>>,
}

/// `[[table]]`: `rows` rows of former users, valid until `validity` after the start.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TableRowsFile {
    pub validity: Spanned<SimDuration>,
    pub rows: Spanned<u64>,
}

fn default_seed() -> u64 {
    1
}

fn default_tick() -> Spanned<SimDuration> {
    Spanned::new(0..0, SimDuration(super::TICK_DEFAULT))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClusterFile {
    #[serde(default = "default_subscribers")]
    pub cucm_subscribers: Spanned<u32>,
    #[serde(default)]
    pub unity: Option<Table<UnityFile>>,
    /// The cluster's offset from UTC, `+HH:MM` or `-HH:MM`.
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    /// Single sign-on through the identity provider.
    #[serde(default)]
    pub sso: bool,
    /// `new` (the default) or `old` (AuthZ before the refresh login flow).
    #[serde(default)]
    pub release: Option<Spanned<Release>>,
    /// IM and Presence: a publisher node and `subscribers` more.
    #[serde(default)]
    pub imp: Option<Table<ImpFile>>,
    /// SIP registration on the CallManager subscribers.
    #[serde(default)]
    pub sip: Option<Table<SipFile>>,
    /// The Mobile and Remote Access edge: Expressway-C and Expressway-E.
    #[serde(default)]
    pub expressway: Option<Table<ExpresswayFile>>,
    /// Every validator given as a `.wasm` file must have a pinned manifest beside it.
    #[serde(default)]
    pub require_manifests: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SipFile {
    /// `ClusterSIPOAuthMode` in `processconfig` at the start (default: 0, disabled).
    #[serde(default)]
    pub oauth: Option<Spanned<bool>>,
    /// SIP Phone OAuth Port of every subscriber at the start (default 5090).
    #[serde(default)]
    pub phone_oauth_port: Option<Spanned<i64>>,
    /// SIP Mobile and Remote Access Port of every subscriber at the start (default 5091).
    #[serde(default)]
    pub mra_oauth_port: Option<Spanned<i64>>,
    /// The validator CallManager's SIP check loads (default: the built-in `callmanager-sip`).
    #[serde(default)]
    pub validator: Option<Spanned<String>>,
    /// "OAuth Access Token for Devices": `implicit` (default) or `explicit`.
    #[serde(default)]
    pub device_tokens: Option<Spanned<DeviceTokens>>,
    /// Whether phone-edge-trust holds the CallManager nodes' Tomcat certificates at the
    /// start (default: yes, the procedure's first step done).
    #[serde(default)]
    pub phone_edge_trust: Option<bool>,
    /// Whether the phones on premises take their files from another cluster's TFTP,
    /// `proxy-tftp` (from release 14SU1; default: no).
    #[serde(default)]
    pub proxy_tftp: Option<Spanned<bool>>,
    /// Whether the proxy's phone-edge-trust holds this cluster's Tomcat roots at the start
    /// (default: yes, copied as the guide says; only with `proxy_tftp`).
    #[serde(default)]
    pub proxy_phone_edge_trust: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpresswayFile {
    /// The validator Expressway-C loads (default: the built-in `expressway`).
    #[serde(default)]
    pub validator: Option<Spanned<String>>,
    /// Further DNS names in Expressway-C's certificate, besides its host name.
    #[serde(default)]
    pub san: Option<Spanned<Vec<String>>>,
    /// Whether the administrator put Expressway-C's CA into every subscriber's Tomcat-trust
    /// (default: yes).
    #[serde(default)]
    pub ca_in_tomcat_trust: Option<bool>,
    /// Whether Expressway-C's trusted CA list holds the subscribers' Tomcat certificates
    /// (default: yes).
    #[serde(default)]
    pub trusts_callmanager: Option<bool>,
    /// "Authorize by OAuth token with refresh" on Expressway-C (default: on).
    #[serde(default)]
    pub oauth_with_refresh: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImpFile {
    #[serde(default)]
    pub subscribers: Option<Spanned<u32>>,
    /// The validator every IM and Presence node loads (default: the built-in `imp`).
    #[serde(default)]
    pub validator: Option<Spanned<String>>,
    /// "Enable High Availability" in the Presence Redundancy Group (default: off).
    #[serde(default)]
    pub high_availability: bool,
    /// Every node's trust stores also hold the expired certificates of a node removed from
    /// the cluster long ago, `imp-retired.pem` (default: no).
    #[serde(default)]
    pub expired_trust: bool,
}

impl Default for ClusterFile {
    fn default() -> Self {
        ClusterFile {
            cucm_subscribers: default_subscribers(),
            unity: None,
            time_zone: None,
            sso: false,
            release: None,
            imp: None,
            sip: None,
            expressway: None,
            require_manifests: false,
        }
    }
}

fn default_subscribers() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnityFile {
    pub validator: Spanned<String>,
    /// The Authz Servers entry (host, port 8443, an AXL user) is configured.
    #[serde(default = "configured")]
    pub authz_server: bool,
    /// OAuth services are enabled on Unity Connection.
    #[serde(default = "configured")]
    pub oauth: bool,
}

fn configured() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ParamsFile {
    /// "OAuth with Refresh Login Flow": Disabled by default (docs/domain.md).
    #[serde(default = "disabled")]
    pub refresh_login_flow: Spanned<bool>,
    #[serde(default)]
    pub access_token_expiry: Option<Spanned<SimDuration>>,
    #[serde(default)]
    pub refresh_token_expiry: Option<Spanned<SimDuration>>,
    /// The daily purge's local time of day, `HH:MM`.
    #[serde(default)]
    pub purge_at: Option<Spanned<String>>,
    /// Rows per purge batch (absent: one DELETE).
    #[serde(default)]
    pub purge_batch_rows: Option<Spanned<u64>>,
    /// Expired rows in the table at the start.
    #[serde(default)]
    pub expired_refresh_tokens: Option<Spanned<u64>>,
}

impl Default for ParamsFile {
    fn default() -> Self {
        ParamsFile {
            refresh_login_flow: disabled(),
            access_token_expiry: None,
            refresh_token_expiry: None,
            purge_at: None,
            purge_batch_rows: None,
            expired_refresh_tokens: None,
        }
    }
}

fn disabled() -> Spanned<bool> {
    Spanned::new(0..0, false)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClientFile {
    pub kind: ClientKind,
    pub count: Spanned<u32>,
    /// Every device of the group signs in as this user (one user on several devices).
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    /// When every device of the group signs in (absent: spread over the first half hour).
    #[serde(default)]
    pub start: Option<Spanned<SimDuration>>,
    /// Where the devices are: `campus` (default) or `remote` (through the edge).
    #[serde(default)]
    pub site: Option<Spanned<Site>>,
    /// A phone's model, e.g. `8845` (phones only).
    #[serde(default)]
    pub model: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepFile {
    pub at: Spanned<SimDuration>,
    pub action: Spanned<super::action::ActionName>,
    #[serde(default)]
    pub key: Option<KeyKind>,
    /// For `revoke`: whose refresh tokens.
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    /// For `revoke`: only this device's (e.g. `jabber-2`).
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    /// For `set-param`: which enterprise parameter.
    #[serde(default)]
    pub param: Option<Spanned<ParamName>>,
    /// For `set-param`: its new value (a duration for a timer, a boolean for the flow).
    #[serde(default)]
    pub value: Option<Spanned<toml::Value>>,
    /// For `partition`, `repair` and `link`: the two nodes or sites.
    #[serde(default)]
    pub between: Option<Spanned<Vec<String>>>,
    /// For `partition` and `repair`: only from the first to the second.
    #[serde(default)]
    pub oneway: Option<Spanned<bool>>,
    /// For `crash`, `restart`, `skew`, `restart-service` and `regenerate-key` (default: the
    /// publisher): which node.
    #[serde(default)]
    pub node: Option<Spanned<String>>,
    /// For `read-log`: `ssoApp`, `ssosp` or `certMgmt`.
    #[serde(default)]
    pub log: Option<Spanned<String>>,
    /// For `save-expressway-c-entry`: the entry's IP address, host name or FQDN.
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    /// For `save-expressway-c-entry`: Expressway-C's X.509 subject and subject alternative
    /// names, as typed on the page.
    #[serde(default)]
    pub names: Option<Spanned<Vec<String>>>,
    /// For `save-expressway-c-entry`: Expressway-C's domain, when it is in another one than
    /// the cluster's (`example.com`).
    #[serde(default)]
    pub domain: Option<Spanned<String>>,
    /// For `skew`: the clock's offset, e.g. `"-90s"`.
    #[serde(default)]
    pub offset: Option<Spanned<String>>,
    /// For `skew`: how fast the clock drifts, parts per million (negative: slow).
    #[serde(default)]
    pub drift_ppm: Option<Spanned<i64>>,
    /// For `link`: every message's latency.
    #[serde(default)]
    pub latency: Option<Spanned<SimDuration>>,
    /// For `link`: the chance that a message breaks the link (turmoil's fail rate), 0 to 1.
    #[serde(default)]
    pub loss: Option<Spanned<f64>>,
    /// For `restart-service`, `stop-service` and `start-service`: which service (`tomcat`,
    /// `xcp-router`, `drf-local`, ...).
    #[serde(default)]
    pub service: Option<Spanned<String>>,
    /// For `regenerate-certificate` (`cup`, `cup-xmpp`, `cup-xmpp-s2s`, `ipsec`, `tomcat`) and
    /// `delete-certificate` (`ipsec.pem`, or `<store>-trust/<host>.pem`).
    #[serde(default)]
    pub certificate: Option<Spanned<String>>,
    /// For `set-sip-ports`: the new SIP Phone OAuth Port.
    #[serde(default)]
    pub phone_port: Option<Spanned<i64>>,
    /// For `set-sip-ports`: the new SIP Mobile and Remote Access Port.
    #[serde(default)]
    pub mra_port: Option<Spanned<i64>>,
    /// For `reissue-expressway-certificate`: the new certificate's further DNS names.
    #[serde(default)]
    pub san: Option<Spanned<Vec<String>>>,
    /// For `run-sql`: which of the documents' queries (`refreshtokendetails`,
    /// `cluster-sip-oauth-mode`).
    #[serde(default)]
    pub query: Option<Spanned<String>>,
    /// For `show-open-ports`: the port (`show open ports regexp 5090`).
    #[serde(default)]
    pub port: Option<Spanned<i64>>,
    /// For `configure-expressway`: "Authorize by OAuth token with refresh" on or off.
    #[serde(default)]
    pub oauth_with_refresh: Option<Spanned<bool>>,
    /// `configure-expressway`: Expressway-C's trusted CA list holds the subscribers' Tomcat
    /// certificates (true) or not.
    #[serde(default)]
    pub trusts_callmanager: Option<Spanned<bool>>,
    /// For `configure-unity`: the Authz Servers entry is configured (`true`) or missing.
    #[serde(default)]
    pub authz_server: Option<Spanned<bool>>,
    /// For `configure-unity`: OAuth services enabled on Unity Connection.
    #[serde(default)]
    pub oauth: Option<Spanned<bool>>,
    /// For `set-security-profile`: "Enable Digest Authentication".
    #[serde(default)]
    pub digest_authentication: Option<Spanned<bool>>,
    /// For `set-security-profile`: "TFTP Encrypted Config".
    #[serde(default)]
    pub tftp_encrypted_config: Option<Spanned<bool>>,
    /// For `set-security-profile`: "Device Security Mode", `non-secure`, `authenticated` or
    /// `encrypted`.
    #[serde(default)]
    pub device_security_mode: Option<Spanned<String>>,
    /// For `set-security-profile`: "Transport Type", `tcp`, `udp` or `tls`.
    #[serde(default)]
    pub transport: Option<Spanned<String>>,
    /// For `set-security-profile`: "Enable OAuth Authentication".
    #[serde(default)]
    pub oauth_authentication: Option<Spanned<bool>>,
}

/// The enterprise parameters a `set-param` step may change.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum ParamName {
    AccessTokenExpiry,
    RefreshTokenExpiry,
    RefreshLoginFlow,
}

#[derive(Deserialize)]
pub(super) struct ExpectFile {
    #[serde(default)]
    pub within: Option<Spanned<String>>,
    pub event: Spanned<String>,
    #[serde(default)]
    pub node: Option<Spanned<String>>,
    #[serde(default)]
    pub absent: bool,
    /// How many matches the window holds: `3` or `"2..5"`.
    #[serde(default)]
    pub count: Option<Spanned<toml::Value>>,
    /// A name for `after` to refer to.
    #[serde(default)]
    pub label: Option<Spanned<String>>,
    /// Matches count only from the first match of the expectation with this label on.
    #[serde(default)]
    pub after: Option<Spanned<String>>,
    /// `"client"`: one expectation per device.
    #[serde(default)]
    pub for_each: Option<Spanned<String>>,
    /// With `for_each`: only this user's devices.
    #[serde(default)]
    pub of_user: Option<Spanned<String>>,
    /// Every other key is a field the event must carry.
    #[serde(flatten)]
    pub fields: BTreeMap<String, toml::Value>,
}
