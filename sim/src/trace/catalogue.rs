//! The trace's whole vocabulary in one place: every event a node may record, with its
//! fields, their types and what each means. Nodes emit [`Happening`] values only, never free
//! strings; the scenario parser checks every expectation against [`CATALOGUE`] (an event or
//! field that cannot exist is an error, not an expectation that holds by default); and
//! `authzlab events` prints it for scenario authors.
//!
//! One macro invocation defines each event once: its kebab-case name, its doc (what it
//! means), and its typed fields with theirs. The enum, the serialized field map and the
//! printed catalogue are all generated from it, so they cannot drift apart.

use std::collections::BTreeMap;

use serde_json::Value;

use super::domain::*;
use crate::scenario::action::ActionName;

/// A field's type as the catalogue shows it, and its JSON form in the trace.
pub trait FieldValue {
    /// How `authzlab events` names the type.
    const TYPE: &'static str;
    /// Whether the field may be missing from an event of its kind.
    const OPTIONAL: bool = false;
    /// The JSON value, or `None` for an absent optional field.
    fn to_value(&self) -> Option<Value>;
    /// The field read back from a trace line (`None`: absent), or why it cannot be.
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str>
    where
        Self: Sized;
}

/// A required field read back: present, and of its type.
fn required<T>(value: Option<&Value>, read: impl FnOnce(&Value) -> Option<T>) -> Result<T, &'static str> {
    let value = value.ok_or("missing")?;
    read(value).ok_or("of the wrong type")
}

impl FieldValue for String {
    const TYPE: &'static str = "text";
    fn to_value(&self) -> Option<Value> {
        Some(Value::String(self.clone()))
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, |value| value.as_str().map(str::to_string))
    }
}

impl FieldValue for u64 {
    const TYPE: &'static str = "integer";
    fn to_value(&self) -> Option<Value> {
        Some((*self).into())
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, Value::as_u64)
    }
}

impl FieldValue for u32 {
    const TYPE: &'static str = "integer";
    fn to_value(&self) -> Option<Value> {
        Some((*self).into())
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, |value| value.as_u64().and_then(|n| u32::try_from(n).ok()))
    }
}

impl FieldValue for u16 {
    const TYPE: &'static str = "integer";
    fn to_value(&self) -> Option<Value> {
        Some((*self).into())
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, |value| value.as_u64().and_then(|n| u16::try_from(n).ok()))
    }
}

impl FieldValue for i64 {
    const TYPE: &'static str = "integer";
    fn to_value(&self) -> Option<Value> {
        Some((*self).into())
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, Value::as_i64)
    }
}

impl FieldValue for bool {
    const TYPE: &'static str = "boolean";
    fn to_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        required(value, Value::as_bool)
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    const TYPE: &'static str = T::TYPE;
    const OPTIONAL: bool = true;
    fn to_value(&self) -> Option<Value> {
        self.as_ref().and_then(FieldValue::to_value)
    }
    fn from_value(value: Option<&Value>) -> Result<Self, &'static str> {
        match value {
            None => Ok(None),
            Some(_) => T::from_value(value).map(Some),
        }
    }
}

/// One event kind as scenario authors read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventSpec {
    pub kind: &'static str,
    pub about: &'static str,
    pub fields: &'static [FieldSpec],
    /// What readers of the trace (checks, the timeline) may rely on this event for.
    pub roles: &'static [Role],
}

/// A part an event kind plays for the trace's readers, declared with the event so that no
/// check or timeline keeps its own list of event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Happens all the time when all is well; the story timeline shows it only where it
    /// shows a recovery.
    Routine,
    /// A consumer accepted an access token; the event carries the token's `exp`, which
    /// `no_access_token_accepted_after_expiry` reads.
    AcceptsAccessToken,
    /// How the run was set up (which plugin each node loaded): in the trace and the full
    /// timeline, not in the story.
    Setup,
}

/// One field of an event kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: &'static str,
    pub optional: bool,
    pub about: &'static str,
    /// The values it can take: an expectation naming another is refused when parsed.
    pub domain: Domain,
}

impl EventSpec {
    /// The event kind called `kind`, if the catalogue has one.
    pub fn find(kind: &str) -> Option<&'static EventSpec> {
        CATALOGUE.iter().find(|spec| spec.kind == kind)
    }

    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|field| field.name == name)
    }

    pub fn plays(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether events of kind `kind` play `role`.
    pub fn kind_plays(kind: &str, role: Role) -> bool {
        EventSpec::find(kind).is_some_and(|spec| spec.plays(role))
    }
}

/// A field's declared [`Domain`], [`Domain::Open`] when the catalogue names none.
macro_rules! domain {
    () => {
        Domain::Open
    };
    ($domain:expr) => {
        $domain
    };
}

macro_rules! catalogue {
    ($(
        #[doc = $about:literal]
        $variant:ident = $kind:literal $( [ $( $role:ident ),* ] )? {
            $( #[doc = $field_about:literal] $field:ident : $ty:ty $( = $domain:expr )? ),* $(,)?
        }
    )*) => {
        /// Something that happened on a node: the typed form of every trace event.
        // The `step` event is the largest (one optional field per step kind); a happening lives
        // only until it is serialized, so boxing it would buy nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug, PartialEq)]
        pub enum Happening {
            $(
                #[doc = $about]
                $variant { $( #[doc = $field_about] $field: $ty ),* },
            )*
        }

        /// Every event kind, by name: what code that counts or looks for events names, so
        /// that a misspelt kind fails to compile rather than counting nothing.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventKind {
            $( #[doc = $about] $variant, )*
        }

        impl EventKind {
            /// The kind's kebab-case name in the trace.
            pub fn name(self) -> &'static str {
                match self {
                    $( EventKind::$variant => $kind, )*
                }
            }
        }

        impl Happening {
            /// The event's kebab-case name in the trace.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Happening::$variant { .. } => $kind, )*
                }
            }

            /// The fields as the trace records them, in key order; absent optional fields
            /// are left out.
            pub fn fields(&self) -> BTreeMap<String, Value> {
                let mut fields = BTreeMap::new();
                match self {
                    $( Happening::$variant { $( $field ),* } => {
                        $( if let Some(value) = FieldValue::to_value($field) {
                            fields.insert(stringify!($field).to_string(), value);
                        } )*
                    } )*
                }
                fields
            }

            /// The happening a trace line records (its kind and fields), for readers of a
            /// trace file and for tests that write traces by hand: refused, with the field
            /// named, when a field is unknown, missing or of the wrong type.
            pub fn from_fields(kind: &str, fields: &BTreeMap<String, Value>) -> Result<Happening, String> {
                let spec = EventSpec::find(kind).ok_or_else(|| format!("no event kind `{kind}`"))?;
                if let Some(unknown) = fields.keys().find(|name| spec.field(name).is_none()) {
                    return Err(format!("`{kind}` has no field `{unknown}`"));
                }
                let read = |name: &str| fields.get(name);
                let wrong = |name: &str, why: &str| format!("`{kind}` field `{name}` is {why}");
                match kind {
                    $( $kind => Ok(Happening::$variant { $(
                        $field: FieldValue::from_value(read(stringify!($field)))
                            .map_err(|why| wrong(stringify!($field), why))?,
                    )* }), )*
                    _ => unreachable!("every catalogued kind has a variant"),
                }
            }

            /// A happening of `kind` with every field at its default (empty, zero, absent),
            /// then `fields` set: hand-made test traces name only the fields they are about.
            #[cfg(test)]
            pub fn sketch(kind: &str, fields: &[(&str, Value)]) -> Happening {
                let spec = EventSpec::find(kind).unwrap_or_else(|| panic!("no event kind `{kind}`"));
                let mut all: BTreeMap<String, Value> =
                    fields.iter().map(|(name, value)| (name.to_string(), value.clone())).collect();
                for field in spec.fields.iter().filter(|field| !field.optional) {
                    let blank = match field.ty {
                        "text" => Value::String(String::new()),
                        "boolean" => Value::Bool(false),
                        _ => Value::from(0),
                    };
                    all.entry(field.name.to_string()).or_insert(blank);
                }
                Happening::from_fields(kind, &all).unwrap_or_else(|error| panic!("{error}"))
            }
        }

        /// Every event kind, in the order a run usually meets them.
        pub const CATALOGUE: &[EventSpec] = &[
            $( EventSpec {
                kind: $kind,
                about: $about.trim_ascii(),
                fields: &[ $( FieldSpec {
                    name: stringify!($field),
                    ty: <$ty as FieldValue>::TYPE,
                    optional: <$ty as FieldValue>::OPTIONAL,
                    about: $field_about.trim_ascii(),
                    domain: domain!($( $domain )?),
                } ),* ],
                roles: &[ $( $( Role::$role ),* )? ],
            }, )*
        ];
    };
}

catalogue! {
    /// A scenario step was carried out (recorded by the driver as node `scenario`).
    Step = "step" {
        /// The step's action, e.g. `regenerate-key`.
        action: String = Domain::OneOf(ActionName::NAMES),
        /// For `regenerate-key`: `signing` or `encryption`.
        key: Option<String> = Domain::OneOf(KEYS),
        /// For `revoke`: whose refresh tokens.
        user: Option<String> = Domain::User,
        /// For `revoke` of one device: which (`jabber-N`).
        client: Option<String> = Domain::Device,
        /// For `set-param`: the expiry timer.
        param: Option<String> = Domain::OneOf(PARAMS),
        /// For `set-param` of an expiry timer: its new value, seconds.
        value_s: Option<u64>,
        /// For `set-param` of `refresh_login_flow` and for `set-high-availability`: on (`true`) or off.
        enabled: Option<bool>,
        /// For `partition`, `repair` and `link`: the two nodes or sites, space-separated.
        between: Option<String>,
        /// For `partition` and `repair`: only from the first to the second.
        oneway: Option<bool>,
        /// For a step on one node (`crash`, `restart`, `skew`, a fault added later): the node.
        target: Option<String> = Domain::Node,
        /// For `skew`: the clock's offset, milliseconds.
        offset_ms: Option<i64>,
        /// For `skew`: the clock's drift, parts per million.
        drift_ppm: Option<i64>,
        /// For `link`: every message's latency, milliseconds.
        latency_ms: Option<u64>,
        /// For `link`: the chance a message breaks the link, parts per million.
        loss_ppm: Option<u32>,
        /// For `restart-service`, `stop-service` and `start-service`: the service.
        service: Option<String> = Domain::OneOf(SERVICES),
        /// For `regenerate-certificate` and `delete-certificate`: the certificate.
        certificate: Option<String>,
        /// For `set-sip-ports`: the ports asked for, `phone=N mra=N`.
        ports: Option<String>,
        /// For `run-sql`: which of the documents' queries.
        query: Option<String> = Domain::OneOf(SQL_QUERIES),
        /// For `read-log`: `ssoApp`, `ssosp` or `certMgmt`.
        log: Option<String> = Domain::OneOf(LOG_NAMES),
        /// For `show-open-ports`: the port asked about.
        port: Option<u16>,
        /// For `reissue-expressway-certificate`: the new certificate's names, space-separated.
        san: Option<String>,
        /// For `save-expressway-c-entry`: the entry's host.
        host: Option<String>,
        /// For `save-expressway-c-entry`: the X.509 names typed, space-separated.
        names: Option<String>,
        /// For `save-expressway-c-entry`: the domain typed, when Expressway-C is in another one.
        domain: Option<String>,
        /// For `set-security-profile`, `configure-unity` and `configure-expressway`: the settings asked for, `digest_authentication=true ...`, `authz_server=true oauth=false`, `oauth_with_refresh=true`.
        settings: Option<String>,
    }
    /// "OAuth with Refresh Login Flow" was set on the publisher: logins from now on get the grants it allows.
    LoginFlowChanged = "login-flow-changed" {
        /// Enabled now.
        enabled: bool,
        /// Enabled before.
        previous: bool,
    }
    /// The publisher now issues tokens with a new lifetime (an expiry timer was changed).
    ExpiryChanged = "expiry-changed" {
        /// `access_token_expiry` or `refresh_token_expiry`.
        param: String = Domain::OneOf(EXPIRY_TIMERS),
        /// The new lifetime, seconds.
        value_s: u64,
        /// The lifetime it replaces, seconds.
        previous_s: u64,
    }
    /// A node started again after a crash: its disk is as it was, its memory is empty.
    NodeRestarted = "node-restarted" {
        /// The publisher: rows found in the refresh-token table (its database file).
        table_rows: Option<u64>,
        /// The publisher: of those, rows of revoked refresh tokens.
        revoked_rows: Option<u64>,
        /// What was lost with the node's memory, e.g. `2 opaque tokens, 1 authorization code`.
        forgot: Option<String>,
    }
    /// The publisher regenerated a key; every access token issued so far is now invalid.
    KeyRegenerated = "key-regenerated" {
        /// `signing` or `encryption`.
        key: String = Domain::OneOf(KEYS),
        /// The new key's checksum (SHA-256 hex).
        checksum: String,
        /// The replaced key's checksum.
        previous: String,
    }
    /// A subscriber installed the keys the publisher pushed.
    KeysSynced = "keys-synced" {
        /// Checksum of the signing key now held.
        signing_key: String,
        /// Checksum of the encryption key now held.
        encryption_key: String,
    }
    /// A CallManager node answered `show key authz signing` and `show key authz encryption`.
    KeysShown = "keys-shown" {
        /// The signing line: its 32-hex checksum and when it was last synced.
        signing: String,
        /// The encryption line.
        encryption: String,
    }
    /// A node's own regeneration command put the publisher's keys on its disk (used once Tomcat restarts).
    KeysPulled = "keys-pulled" {
        /// The publisher they came from.
        from: String = Domain::Node,
        /// Checksum of the signing key now on disk.
        signing_key: String,
        /// Checksum of the encryption key now on disk.
        encryption_key: String,
    }
    /// A service on a node restarted (`restart-service`) and loaded what is on disk: Tomcat the keys, every service its certificates.
    ServiceRestarted = "service-restarted" {
        /// The service, e.g. `tomcat`, `xcp-router`.
        service: String = Domain::OneOf(SERVICES),
        /// For Tomcat: checksum of the signing key it loaded.
        signing_key: Option<String>,
        /// For Tomcat: checksum of the encryption key it loaded.
        encryption_key: Option<String>,
        /// On IM and Presence: the certificates it now presents, `file=serial`, space-separated.
        certificates: Option<String>,
    }
    /// A service on an IM and Presence node was stopped (`stop-service`).
    ServiceStopped = "service-stopped" {
        /// The service.
        service: String = Domain::OneOf(SERVICES),
    }
    /// A stopped service on an IM and Presence node was started (`start-service`).
    ServiceStarted = "service-started" {
        /// The service.
        service: String = Domain::OneOf(SERVICES),
    }
    /// An identity certificate was regenerated on this node: on disk now, presented once its services restart.
    CertificateRegenerated = "certificate-regenerated" {
        /// The file, e.g. `ipsec.pem`.
        certificate: String = Domain::OneOf(CERTIFICATE_FILES),
        /// The new serial number (hex).
        serial: String,
        /// The serial it replaces.
        previous: String,
        /// The new certificate's SHA-256 fingerprint, first 16 hex digits.
        fingerprint: String,
    }
    /// The multi-SAN Tomcat certificate signing request made on the CallManager publisher came back signed by the CA.
    TomcatCsrSigned = "tomcat-csr-signed" {
        /// The names it asked for, space-separated: the CN (the publisher) first, then a SAN per other node.
        names: String,
        /// The CA that signed it.
        signer: String,
        /// The signed certificate's serial.
        serial: String,
    }
    /// A CA-signed certificate was installed as this node's identity certificate: on disk now, presented once its services restart; its CA is in the node's trust store.
    CertificateInstalled = "certificate-installed" {
        /// The file, e.g. `tomcat.pem`.
        certificate: String = Domain::OneOf(CERTIFICATE_FILES),
        /// The installed certificate's serial.
        serial: String,
        /// The serial it replaces.
        previous: String,
        /// The CA that signed it.
        signer: String,
    }
    /// A subscriber's regeneration synced its trust store: with the IM and Presence publisher (it uploaded its new certificate and took the publisher's in), or for ipsec.pem, took the CallManager publisher's in.
    TrustSynced = "trust-synced" {
        /// The trust store, e.g. `ipsec-trust`.
        store: String = Domain::OneOf(TRUST_STORES),
        /// The publisher asked.
        from: String = Domain::Node,
        /// What the store now holds, `host=serial`, space-separated.
        serials: String,
    }
    /// A subscriber could not sync its trust store with the IM and Presence publisher.
    TrustSyncFailed = "trust-sync-failed" {
        /// The trust store.
        store: String = Domain::OneOf(TRUST_STORES),
        /// The publisher asked.
        from: String = Domain::Node,
        /// Why.
        reason: String,
    }
    /// DRF Local opened its session with DRF Primary: the `ipsec.pem` presented is the one in IPSec-trust.
    DrfConnected = "drf-connected" {
        /// The node running DRF Primary.
        primary: String = Domain::Node,
        /// Serial of the `ipsec.pem` it presented.
        serial: String,
    }
    /// DRF Local refused DRF Primary: the `ipsec.pem` it presented is not the one in this node's IPSec-trust (backups and restores fail).
    DrfTrustMismatch = "drf-trust-mismatch" {
        /// The node running DRF Primary.
        primary: String = Domain::Node,
        /// Serial of the `ipsec.pem` it presented.
        presented: String,
        /// Serial this node's IPSec-trust holds for it (absent: none).
        trusted: Option<String>,
    }
    /// The documented IPSec check on one node: the CallManager publisher's `ipsec.pem` serial against the one this node's IPSec-trust holds for it.
    IpsecTrustShown = "ipsec-trust-shown" {
        /// Serial of the CallManager publisher's `ipsec.pem` now.
        publisher_serial: String,
        /// Serial this node's IPSec-trust holds for the publisher (absent: none).
        trusted_serial: Option<String>,
        /// Whether the two are the same, as they must be.
        matches: bool,
    }
    /// One row of a `run sql` answer, as the CLI prints it (the refresh-token table shows the token's hash, never the token).
    SqlRow = "sql-row" {
        /// The row's columns, tab-separated.
        row: String,
    }
    /// A `run sql` answer ended.
    SqlAnswered = "sql-answered" {
        /// Which query.
        query: String = Domain::OneOf(SQL_QUERIES),
        /// Rows the query found.
        rows: u64,
        /// Rows printed (at most the CLI pager's limit).
        shown: u64,
    }
    /// A CallManager node answered `show open ports regexp <port>`.
    OpenPortsShown = "open-ports-shown" {
        /// The port asked about.
        port: u16,
        /// Whether Cisco CallManager listens there.
        open: bool,
        /// What it listens for there (`sip-oauth-phone`, ...), when open.
        purpose: Option<String> = Domain::OneOf(PORT_PURPOSES),
    }
    /// Expressway-C's "Authorize by OAuth token with refresh" changed.
    ExpresswayConfigured = "expressway-configured" {
        /// "Authorize by OAuth token with refresh" is on now.
        oauth_with_refresh: bool,
        /// Its trusted CA list holds the CallManager subscribers' Tomcat certificates now.
        trusts_callmanager: bool,
    }
    /// The administrator changed Unity Connection's OAuth settings: its Authz Servers entry, and OAuth services on Unity.
    UnityConfigured = "unity-configured" {
        /// An Authz Servers entry (the CallManager host, an AXL user) is configured now.
        authz_server: bool,
        /// OAuth services are enabled on Unity now.
        oauth: bool,
    }
    /// DRF Local could not reach DRF Primary.
    DrfConnectFailed = "drf-connect-failed" {
        /// The node running DRF Primary.
        primary: String = Domain::Node,
        /// Why.
        reason: String,
    }
    /// Jabber showed the untrusted-certificate pop-up: the certificate a node presented is not in the device's trust store.
    UntrustedCertificate = "untrusted-certificate" {
        /// The node.
        host: String = Domain::Node,
        /// The certificate presented, e.g. `cup-xmpp.pem`.
        certificate: String = Domain::OneOf(CERTIFICATE_FILES),
        /// Its serial.
        serial: String,
    }
    /// A certificate was deleted from a trust store.
    CertificateDeleted = "certificate-deleted" {
        /// `<store>/<host>.pem`.
        certificate: String,
        /// Its serial.
        serial: String,
        /// Whether it had expired.
        expired: bool,
        /// The node's services that keep this trust store in memory (scenario names, space-separated): the deletion takes effect for each only when it restarts.
        restart: String,
    }
    /// A certificate was uploaded to a trust store.
    CertificateUploaded = "certificate-uploaded" {
        /// `<store>/<host>.pem`.
        certificate: String,
        /// Its serial.
        serial: String,
        /// The node's services that keep this trust store in memory (scenario names, space-separated): they see the certificate only when they restart.
        restart: String,
    }
    /// A certificate deletion was refused.
    CertificateDeleteRefused = "certificate-delete-refused" {
        /// What the step named.
        certificate: String,
        /// Why.
        reason: String,
    }
    /// "Enable High Availability" of the Presence Redundancy Group changed.
    HighAvailabilityChanged = "high-availability-changed" {
        /// On now.
        enabled: bool,
    }
    /// A service that serves users went down on a node while High Availability was on: the Presence Redundancy Group failed its users over to the peer node (assumption; the documents say to turn High Availability off first).
    HaFailover = "ha-failover" {
        /// The service that went down.
        service: String = Domain::OneOf(SERVICES),
    }
    /// The administrator pushed the IM and Presence nodes' and subscribers' current certificates to the Jabber devices' trust stores.
    ClientTrustPushed = "client-trust-pushed" {
        /// How many certificates the devices now trust.
        certificates: u32,
    }
    /// `utils sipOAuth-mode enable|disable` ran on the publisher: `ClusterSIPOAuthMode` in `processconfig`; each subscriber's CallManager takes it up when it restarts.
    SipOauthModeSet = "sip-oauth-mode-set" {
        /// Enabled (1) now.
        enabled: bool,
        /// Enabled before.
        previous: bool,
        /// Whether the release shows it as the read-only enterprise parameter "Cluster SIPOAuth Mode" (from 14).
        parameter_shown: bool,
    }
    /// The publisher refused to enable SIP OAuth.
    SipOauthModeRefused = "sip-oauth-mode-refused" {
        /// Why, e.g. the refresh login flow is disabled.
        reason: String,
    }
    /// The phone security profile was saved.
    SecurityProfileSet = "security-profile-set" {
        /// "Enable Digest Authentication".
        digest_authentication: bool,
        /// "TFTP Encrypted Config".
        tftp_encrypted_config: bool,
        /// "Device Security Mode".
        device_security_mode: String = Domain::OneOf(crate::phone_security::DeviceSecurityMode::NAMES),
        /// "Transport Type".
        transport: String = Domain::OneOf(crate::phone_security::Transport::NAMES),
        /// "Enable OAuth Authentication".
        oauth_authentication: bool,
    }
    /// The administrator reset a phone: it took the saved security profile into its configuration file, and registers again at once.
    PhoneReset = "phone-reset" {
        /// The phone.
        device: String = Domain::Device,
        /// Its model.
        model: String,
        /// The device security mode it now has.
        device_security_mode: String = Domain::OneOf(crate::phone_security::DeviceSecurityMode::NAMES),
        /// Whether the profile makes it register with its token (Encrypted, TLS and "Enable OAuth Authentication"); a model the documents do not list still cannot.
        oauth_authentication: bool,
    }
    /// The phone security profile page refused a change: with SIP OAuth on, digest authentication and encrypted TFTP configuration are not supported; "Enable OAuth Authentication" goes with Encrypted and TLS only.
    SecurityProfileRefused = "security-profile-refused" {
        /// Why.
        reason: String,
    }
    /// The CallManager page saved a subscriber's SIP OAuth ports; its CallManager takes them up when it restarts.
    SipPortsSet = "sip-ports-set" {
        /// The subscriber.
        target: String = Domain::Node,
        /// SIP Phone OAuth Port now.
        phone_port: u16,
        /// SIP Mobile and Remote Access Port now.
        mra_port: u16,
    }
    /// The CallManager page refused a SIP OAuth port outside 1024-49151; nothing was saved.
    SipPortRefused = "sip-port-refused" {
        /// The subscriber.
        target: String = Domain::Node,
        /// The port typed.
        port: i64,
        /// Why.
        reason: String,
    }
    /// Cisco CallManager started on a subscriber with what it read then: the SIP OAuth mode, its ports and the Tomcat certificate its OAuth ports present.
    CallmanagerStarted = "callmanager-started" {
        /// `ClusterSIPOAuthMode` as read at start.
        oauth: bool,
        /// The ports it listens on, e.g. `5090/tls 5091/mtls` or `5060/tcp 5061/tls`.
        ports: String,
        /// Serial of the `tomcat.pem` the OAuth ports present.
        certificate: String,
    }
    /// Cisco CallManager could not start: it could not read its configuration.
    CallmanagerFailed = "callmanager-failed" {
        /// Why.
        reason: String,
    }
    /// A node loaded its validator plugin: what it is, byte for byte, and the limits it runs under.
    PluginLoaded = "plugin-loaded" [Setup] {
        /// The plugin's name (its package, or the component file's stem).
        plugin: String,
        /// Its version, as it describes itself.
        version: String,
        /// The consumer it says it serves.
        consumer: String,
        /// SHA-256 of the component's bytes.
        sha256: String,
        /// The contract version it was built for.
        contract: String,
        /// Fuel per call it runs under.
        fuel_per_call: u64,
        /// Linear memory it may hold, bytes.
        memory_bytes_max: u64,
        /// The manifest that pinned it, if any.
        manifest: Option<String>,
    }
    /// A validator plugin wrote a line while it checked a client's token: through the contract's `log` import, or to its stderr (a panic message lands here). The plugin host keeps 32 lines per call, each cut to 512 bytes, control characters escaped and the token's text replaced by `<token>`.
    PluginSaid = "plugin-said" {
        /// The plugin's name.
        plugin: String,
        /// The device whose token it was checking.
        client: String = Domain::Device,
        /// `debug`, `info`, `warn` or `error` as the plugin logged it; `stderr` for what it wrote there.
        level: String = Domain::OneOf(authzlab_host::guest_output::Level::NAMES),
        /// The line.
        text: String,
        /// On the call's last kept line: the lines after it that the host did not keep.
        dropped: Option<u32>,
    }
    /// A node opened a listening port for SIP.
    PortOpened = "port-opened" {
        /// The port.
        port: u16,
        /// `sip-oauth-phone`, `sip-oauth-mra`, `sip` or `sip-tls`.
        purpose: String = Domain::OneOf(PORT_PURPOSES),
    }
    /// A TLS handshake failed; `alert` is rustls's own alert.
    TlsHandshakeFailed = "tls-handshake-failed" {
        /// The node at the other end, when this side connected.
        peer: Option<String> = Domain::Node,
        /// The server's port.
        port: u16,
        /// The TLS alert, by rustls's name (`UnknownCA`, `DecryptError`), or `none`.
        alert: String,
        /// Whether this side sent the alert (it refused the peer's certificate) or received it.
        sent: bool,
        /// rustls's error.
        detail: String,
    }
    /// CallManager refused a mutual-TLS peer on its MRA port: none of its certificate's names is in `expresswaycconfiguration`, or those that are lie in a domain not added to Expressway-C's entry.
    MtlsPeerRefused = "mtls-peer-refused" {
        /// The port.
        port: u16,
        /// The peer certificate's CN and SAN entries, space-separated.
        names: String,
        /// The domain of the listed names, when that is what refused them (not the cluster's, not added to their entry).
        domain: Option<String>,
    }
    /// CallManager registered a device whose REGISTER carried a valid access token (SIP OAuth).
    SipRegistered = "sip-registered" [Routine, AcceptsAccessToken] {
        /// The device.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// The port it arrived on (the phone port, or the MRA port through Expressway-C).
        port: u16,
        /// On the MRA port: the mutual-TLS peer's CN and SAN entries, space-separated.
        peer: Option<String>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// CallManager answered a REGISTER `SIP/2.0 403 Forbidden`.
    SipRegisterRejected = "sip-register-rejected" {
        /// The device.
        client: String = Domain::Device,
        /// The port it arrived on.
        port: u16,
        /// Why: the validator's rejection, or `no-token`.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// The answer as the documents quote it: status line and Via.
        line: String,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// CallManager registered a device on a legacy SIP port (SIP OAuth off): no token involved.
    SipRegisteredLegacy = "sip-registered-legacy" [Routine] {
        /// The device.
        client: String = Domain::Device,
        /// The port (5060 or 5061).
        port: u16,
    }
    /// A device is registered.
    Registered = "registered" [Routine] {
        /// The CallManager port it registered on.
        port: u16,
        /// `direct` or `edge` (through Expressway-E and Expressway-C).
        via: String = Domain::OneOf(VIAS),
    }
    /// A device's registration failed.
    RegistrationFailed = "registration-failed" {
        /// The port it tried, when it got that far.
        port: Option<u16>,
        /// `direct` or `edge`.
        via: String = Domain::OneOf(VIAS),
        /// Why, in words.
        reason: String,
        /// CallManager's answer as the documents quote it (`SIP/2.0 403 Forbidden Via: …`).
        line: Option<String>,
        /// The TLS alert, when the handshake failed (rustls's name).
        alert: Option<String>,
    }
    /// Expressway-C (discovery or refresh) checked its `CEOAuth <node>` TLS zone to a subscriber's MRA port.
    ZoneStatus = "zone-status" {
        /// `CEOAuth <node>`.
        zone: String,
        /// `Active`, or `Failed`.
        status: String = Domain::OneOf(ZONE_STATES),
        /// Why it failed: the TLS alert or the connection error.
        reason: Option<String>,
    }
    /// Expressway-C pushed its certificate's CN and SAN over AXL into `expresswaycconfiguration`.
    ExpresswayNamesPushed = "expressway-names-pushed" {
        /// The names pushed, space-separated.
        names: String,
        /// Names the table holds now (0 when the push failed).
        held: u32,
        /// Why the push failed.
        reason: Option<String>,
    }
    /// The publisher's CLI answered `file view` or `file list` of a log the documents name (ssoApp.log, the ssosp logs, certMgmt*.log).
    LogRead = "log-read" {
        /// The command, as the document gives it.
        command: String,
        /// What it shows: the files and their entries.
        answer: String,
    }
    /// An administrator saved an Expressway-C entry on Device > Expressway-C (from 12.5(1)SU1): the X.509 names CallManager takes for that host.
    ExpresswayCEntrySaved = "expressway-c-entry-saved" {
        /// The entry's IP address, host name or FQDN.
        host: String,
        /// Its X.509 subject and subject alternative names now, space-separated.
        names: String,
        /// The domain it holds, when Expressway-C is in another domain than the cluster's.
        domain: Option<String>,
        /// Names `expresswaycconfiguration` holds now (0 when the save was refused).
        held: u32,
        /// Why the page refused the save.
        reason: Option<String>,
    }
    /// Expressway-C has a new certificate from its CA.
    ExpresswayCertificateReissued = "expressway-certificate-reissued" {
        /// Its CN and SAN entries, space-separated.
        names: String,
        /// Its serial number.
        serial: String,
    }
    /// Expressway-C admitted a remote device's request: its access token is valid (Authorize by OAuth token with refresh).
    EdgeRequestAccepted = "edge-request-accepted" [Routine, AcceptsAccessToken] {
        /// The device.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// Expressway-C refused a remote device's request.
    EdgeRequestRejected = "edge-request-rejected" {
        /// The device.
        client: String = Domain::Device,
        /// The rejection.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// The publisher gave up pushing the keys to a node.
    KeySyncFailed = "key-sync-failed" {
        /// The node left with its old keys.
        to: String = Domain::Node,
        /// Pushes tried.
        attempts: u32,
    }
    /// The publisher served its keys to a consumer (Unity's Authz Server fetch).
    KeysServed = "keys-served" [Routine] {
        /// Who asked.
        to: String = Domain::Node,
        /// Checksum of the signing key served.
        signing_key: String,
        /// Checksum of the encryption key served.
        encryption_key: String,
    }
    /// Unity Connection fetched the keys from its Authz server.
    KeysFetched = "keys-fetched" {
        /// The Authz server asked.
        from: String = Domain::Node,
        /// Why: `start-up`, or the rejection that named an unknown key.
        cause: String = Domain::OneOf(KEY_FETCH_CAUSES),
        /// Checksum of the signing key now held.
        signing_key: String,
        /// Checksum of the encryption key now held.
        encryption_key: String,
    }
    /// Unity Connection could not fetch the keys.
    KeyFetchFailed = "key-fetch-failed" {
        /// The Authz server asked.
        from: String = Domain::Node,
        /// What went wrong.
        reason: String,
    }
    /// The publisher issued an access and a refresh token (authorization-code grant).
    TokensIssued = "tokens-issued" [Routine] {
        /// The user signed in.
        user: String = Domain::User,
        /// The device (OAuth client id).
        client: String = Domain::Device,
        /// The access token's id.
        access_tid: String,
        /// The access token's expiry, UNIX seconds.
        access_exp: u64,
        /// The refresh token's id.
        refresh_tid: String,
        /// The refresh token's expiry, UNIX seconds.
        refresh_exp: u64,
        /// Checksum of the key that signed them.
        signing_key: String,
    }
    /// The publisher issued an access token only (implicit grant).
    AccessTokenIssued = "access-token-issued" [Routine] {
        /// The user signed in.
        user: String = Domain::User,
        /// The device (OAuth client id).
        client: String = Domain::Device,
        /// The access token's id.
        access_tid: String,
        /// The access token's expiry, UNIX seconds.
        access_exp: u64,
        /// `opaque` (in the issuer's memory; others ask it: proxy mode) or `jwt` (self-contained).
        format: String = Domain::OneOf(TOKEN_FORMATS),
        /// For a `jwt`: checksum of the key that signed it.
        signing_key: Option<String>,
    }
    /// The identity provider authenticated a user (SSO); each implicit-grant expiry brings them back.
    SsoLogin = "sso-login" [Routine] {
        /// The user.
        user: String = Domain::User,
        /// The device signing in.
        client: String = Domain::Device,
        /// The user's logins at the IdP so far, this one included.
        logins: u64,
    }
    /// The publisher issued a new access token for a refresh token.
    AccessTokenRefreshed = "access-token-refreshed" [Routine] {
        /// The token's user.
        user: String = Domain::User,
        /// The device.
        client: String = Domain::Device,
        /// The refresh token's id.
        refresh_tid: String,
        /// The new access token's id.
        access_tid: String,
        /// The new access token's expiry, UNIX seconds.
        access_exp: u64,
        /// How long the request waited for a busy publisher (a purge), milliseconds.
        waited_ms: Option<u64>,
        /// Checksum of the key that signed the new access token.
        signing_key: String,
    }
    /// The refresh-token table held this many expired rows at start-up (a scenario setting).
    TablePreloaded = "table-preloaded" {
        /// Rows of former users.
        rows: u64,
        /// Their validity, UNIX seconds (passed).
        validity: u64,
    }
    /// One batch of a batched purge committed (its own transaction): its rows are gone for good, even if the purge is cut short.
    PurgeBatchCommitted = "purge-batch-committed" [Routine] {
        /// Rows this batch deleted.
        rows: u64,
        /// The purge's cutoff: rows with validity at or before this UNIX time are due.
        cutoff: u64,
    }
    /// The daily purge deleted the refresh tokens whose validity had passed.
    RefreshTokensPurged = "refresh-tokens-purged" [Routine] {
        /// Rows deleted.
        rows: u64,
        /// DELETE statements it took (1 unless batched).
        batches: u64,
        /// CPU time it kept the publisher busy, milliseconds (the modelled cost).
        took_ms: u64,
        /// Rows with validity at or before this UNIX time were due.
        cutoff: u64,
    }
    /// The publisher refused a refresh token.
    RefreshRejected = "refresh-rejected" {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The rejection, e.g. `unknown-signing-key`, `revoked`, `not-in-table`.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// The refresh token's id, when it verified but the table refused it.
        refresh_tid: Option<String>,
    }
    /// The publisher revoked refresh tokens (the revoke API); the change is committed.
    TokensRevoked = "tokens-revoked" {
        /// The user whose tokens were revoked.
        user: String = Domain::User,
        /// The device's client id (`ccid`), when only one device's tokens were revoked.
        ccid: Option<String>,
        /// Refresh tokens revoked.
        revoked: u64,
        /// Their ids, space-separated, in order.
        refresh_tids: String,
    }
    /// An administrator's call to a node failed (no answer, or an error status).
    AdminCallFailed = "admin-call-failed" {
        /// The step's action, e.g. `revoke`.
        action: String = Domain::OneOf(ActionName::NAMES),
        /// What went wrong.
        reason: String,
    }
    /// A subscriber accepted an access token on UDS.
    UdsRequestAccepted = "uds-request-accepted" [Routine, AcceptsAccessToken] {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
    }
    /// A subscriber refused an access token on UDS.
    UdsRequestRejected = "uds-request-rejected" {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The rejection.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
    }
    /// A CallManager node answered RTMT's counter query (PerfmonService) with a valid token.
    PerfmonRequestAccepted = "perfmon-request-accepted" [Routine, AcceptsAccessToken] {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
    }
    /// A CallManager node refused RTMT's token.
    PerfmonRequestRejected = "perfmon-request-rejected" {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The rejection.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
    }
    /// An IM and Presence node accepted Jabber's XMPP login (BOSH) with its access token.
    ImLoginAccepted = "im-login-accepted" [Routine, AcceptsAccessToken] {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// An IM and Presence node refused Jabber's XMPP login.
    ImLoginRejected = "im-login-rejected" {
        /// The device that presented it.
        client: String = Domain::Device,
        /// The rejection.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// Unity Connection accepted a voicemail login.
    VoicemailLoginAccepted = "voicemail-login-accepted" [Routine, AcceptsAccessToken] {
        /// The device that presented the token.
        client: String = Domain::Device,
        /// The token's user.
        user: String = Domain::User,
        /// The token's id.
        tid: String,
        /// The token's expiry, UNIX seconds.
        exp: u64,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// Unity Connection refused a voicemail login.
    VoicemailLoginRejected = "voicemail-login-rejected" {
        /// The device that presented the token.
        client: String = Domain::Device,
        /// The rejection.
        reason: String = Domain::OneOf(REFUSAL_REASONS),
        /// The key id the token names, when the reason is an unknown key.
        kid: Option<String>,
        /// A plugin fault's detail.
        detail: Option<String>,
        /// For an opaque token: how long the issuer took to answer in proxy mode, ms.
        proxy_ms: Option<u64>,
        /// Fuel the validator plugin spent on the token (its deterministic CPU clock); none when no plugin ran.
        fuel: Option<u64>,
    }
    /// A client signed in.
    LoggedIn = "logged-in" [Routine] {
        /// The user.
        user: String = Domain::User,
        /// The access token's id.
        access_tid: String,
        /// The refresh token's id (authorization-code grant).
        refresh_tid: Option<String>,
        /// How the tokens were granted when not by the authorization code: `implicit` (no refresh token: every expiry is a new login), or a phone's `registered-device` or `activation-code` onboarding.
        grant: Option<String> = Domain::OneOf(GRANTS),
    }
    /// A client that knows the refresh login flow found it not offered and fell back to the implicit grant.
    LoginFlowFallback = "login-flow-fallback" [Routine] {
        /// What AuthZ answered, e.g. `refresh-login-flow-disabled`, `implicit-grant-only`.
        reason: String,
    }
    /// A client's sign-in failed.
    LoginFailed = "login-failed" {
        /// The user.
        user: String = Domain::User,
        /// Why.
        reason: String,
    }
    /// A client got a new access token with its refresh token.
    TokenRefreshed = "token-refreshed" [Routine] {
        /// The new access token's id.
        access_tid: String,
    }
    /// Jabber read its configuration file from its home node's TFTP before registering over SIP; `line` is what it logs, as in the documents' sample of a SIP OAuth registration on 5090.
    DeviceConfigFetched = "device-config-fetched" [Routine] {
        /// The whole log line, with the time by the client's clock and the documents' prefix.
        line: String,
    }
    /// The publisher started a new certificate-management log file: each AuthZ key regeneration (UI or CLI) gets one, under `file list activelog platform/log/certMgmt*.log`.
    CertificateLogStarted = "certificate-log-started" {
        /// The file as `file list activelog` shows it.
        file: String,
        /// The key whose regeneration it records.
        key: String = Domain::OneOf(KEYS),
    }
    /// SSO was configured again: the identity provider imported the SP metadata naming the publisher's current Tomcat certificate.
    SsoReconfigured = "sso-reconfigured" {
        /// The serial of the Tomcat certificate the metadata now names.
        serial: String,
        /// The serial it named before.
        previous: String,
    }
    /// A client's refresh was refused; it logs the real Jabber line and signs in again.
    RefreshFailed = "refresh-failed" {
        /// The message Jabber logs.
        message: String,
        /// The whole log line, with the time by the client's clock and the documents' prefix.
        line: String,
        /// Why AuthZ refused.
        reason: String,
    }
    /// UDS refused a client's token.
    UdsFailed = "uds-failed" {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// Why.
        reason: String,
    }
    /// Unity refused a client's voicemail login (the client's view).
    VoicemailLoginFailed = "voicemail-login-failed" {
        /// Which try of this poll.
        attempt: Option<u32>,
        /// Why, when Unity said.
        reason: Option<String>,
        /// The HTTP status, when it was not 401.
        status: Option<u16>,
    }
    /// A CallManager node refused RTMT's counter query (the client's view).
    PerfmonFailed = "perfmon-failed" {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// Why.
        reason: String,
    }
    /// IM and Presence refused the client's XMPP login, or could not be reached (its view).
    ImLoginFailed = "im-login-failed" {
        /// The HTTP status, when there was an answer.
        status: Option<u16>,
        /// Why.
        reason: String,
    }
    /// A client could not reach Unity Connection.
    VoicemailUnreachable = "voicemail-unreachable" {
        /// What went wrong.
        reason: String,
    }
}

/// The closest catalogue name to `wrong` among `names`, if one is close enough to be what
/// the author meant.
pub fn did_you_mean<'n>(wrong: &str, names: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    names
        .into_iter()
        .map(|name| (strsim::jaro_winkler(wrong, name), name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_unique_and_kebab_case() {
        let mut kinds: Vec<&str> = CATALOGUE.iter().map(|spec| spec.kind).collect();
        kinds.sort_unstable();
        let count = kinds.len();
        kinds.dedup();
        assert_eq!(kinds.len(), count, "a kind appears twice");
        for kind in kinds {
            assert!(kind.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{kind}");
        }
    }

    /// An event's own `t_ms`, `node` and `kind` sit beside its fields in one JSON object; a
    /// field of the same name would make a line with a duplicate member.
    #[test]
    fn no_field_shadows_the_event_itself() {
        for spec in CATALOGUE {
            for field in spec.fields {
                assert!(!["t_ms", "node", "kind"].contains(&field.name), "{}.{}", spec.kind, field.name);
            }
        }
    }

    #[test]
    fn a_happening_records_its_kind_and_only_present_fields() {
        let happening = Happening::UdsFailed { status: None, reason: "timeout".to_string() };
        assert_eq!(happening.kind(), "uds-failed");
        let fields = happening.fields();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["reason"]);
        let spec = EventSpec::find("uds-failed").unwrap();
        assert!(spec.field("status").unwrap().optional);
        assert_eq!(spec.field("status").unwrap().ty, "integer");
        assert!(!spec.field("reason").unwrap().optional);
        assert!(spec.about.starts_with("UDS refused"));
    }

    #[test]
    fn acceptances_carry_the_expiry_the_expiry_check_reads() {
        let accepting: Vec<&EventSpec> =
            CATALOGUE.iter().filter(|spec| spec.plays(Role::AcceptsAccessToken)).collect();
        assert_eq!(accepting.len(), 6, "UDS, PerfmonService, IM, voicemail, SIP OAuth, the edge");
        for spec in accepting {
            let exp = spec.field("exp").unwrap_or_else(|| panic!("{} has no exp", spec.kind));
            assert_eq!((exp.ty, exp.optional), ("integer", false), "{}", spec.kind);
        }
        assert!(EventSpec::kind_plays("logged-in", Role::Routine));
        assert!(!EventSpec::kind_plays("login-failed", Role::Routine));
        assert!(!EventSpec::kind_plays("no-such-event", Role::Routine));
    }

    /// Every kind reads back from its recorded fields, and a trace line that does not fit
    /// the catalogue is refused with the field named.
    #[test]
    fn every_happening_reads_back_from_its_fields_and_misfits_are_named() {
        for spec in CATALOGUE {
            let happening = Happening::sketch(spec.kind, &[]);
            assert_eq!(
                Happening::from_fields(spec.kind, &happening.fields()),
                Ok(happening),
                "{}",
                spec.kind
            );
        }
        let mut fields = Happening::sketch("uds-failed", &[("reason", "timeout".into())]).fields();
        fields.insert("status".to_string(), "five hundred".into());
        assert_eq!(
            Happening::from_fields("uds-failed", &fields),
            Err("`uds-failed` field `status` is of the wrong type".to_string())
        );
        fields.remove("reason");
        fields.remove("status");
        assert_eq!(
            Happening::from_fields("uds-failed", &fields),
            Err("`uds-failed` field `reason` is missing".to_string())
        );
        fields.insert("stauts".to_string(), 500.into());
        assert_eq!(
            Happening::from_fields("uds-failed", &fields),
            Err("`uds-failed` has no field `stauts`".to_string())
        );
        assert_eq!(Happening::from_fields("no-such", &fields), Err("no event kind `no-such`".to_string()));
        let port = [("port", 70_000.into()), ("purpose", "sip".into())];
        let fields =
            port.iter().map(|(name, value): &(&str, Value)| (name.to_string(), value.clone())).collect();
        assert!(Happening::from_fields("port-opened", &fields).is_err(), "70000 is no u16");
    }

    #[test]
    fn near_misses_are_suggested_and_strangers_are_not() {
        let kinds = CATALOGUE.iter().map(|spec| spec.kind);
        assert_eq!(did_you_mean("voicemail-login-rejectd", kinds.clone()), Some("voicemail-login-rejected"));
        assert_eq!(did_you_mean("zzz", kinds), None);
    }
}
