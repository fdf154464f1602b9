//! What values an event field can take: the catalogue declares it beside each field, so
//! that the scenario parser refuses an expectation whose value cannot occur (`key =
//! "signng"`, `client = "jabber-99"`, `node = "unty"`) instead of letting an `absent`
//! expectation hold for it, and so that a debug run asserts that every event the nodes record
//! stays inside what the catalogue promises.
//!
//! Closed word sets are written out here, not borrowed from the enums that produce them
//! (`Service`, `Identity`, `KeyKind`, `Rejection`): the trace's vocabulary stays readable in
//! one place, and the tests below compare each set with its source so that they cannot drift.

use std::collections::BTreeSet;

use super::reason::Reason;

/// The values one field may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Any value of the field's type (free text, an id, a count).
    Open,
    /// A node of the run: a server host, a site host, a client device or `scenario`.
    Node,
    /// A client device of the run (`jabber-1`, `phone-3`).
    Device,
    /// A user of the run: one with a device, or one a step names.
    User,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// Why a token was refused, on every `*-rejected` event: the names of [`Reason`].
pub const REFUSAL_REASONS: &[&str] = Reason::NAMES;

/// Why a consumer fetched the keys: at start-up, or because a token named a key it lacks.
pub const KEY_FETCH_CAUSES: &[&str] =
    &["start-up", "unknown-key", "unknown-signing-key", "unknown-encryption-key", "authz-server-added"];

/// The two AuthZ keys (`KeyKind`).
pub const KEYS: &[&str] = &["signing", "encryption"];

/// Node services a step restarts, stops or starts (`Service`).
pub const SERVICES: &[&str] = &[
    "tomcat",
    "sip-proxy",
    "presence-engine",
    "xcp-router",
    "xmpp-federation-connection-manager",
    "drf-primary",
    "drf-local",
    "certificate-expiry-monitor",
    "intercluster-sync-agent",
    "certificate-change-notification",
    "callmanager",
];

/// The identity certificates' files (`Identity::file`).
pub const CERTIFICATE_FILES: &[&str] =
    &["cup.pem", "cup-xmpp.pem", "cup-xmpp-s2s.pem", "ipsec.pem", "tomcat.pem"];

/// The trust stores (`Identity::trust_store`).
pub const TRUST_STORES: &[&str] =
    &["cup-trust", "cup-xmpp-trust", "cup-xmpp-s2s-trust", "ipsec-trust", "tomcat-trust"];

/// The expiry timers a step may change (`ExpiryTimer`).
pub const EXPIRY_TIMERS: &[&str] = &["access_token_expiry", "refresh_token_expiry"];

/// Enterprise parameters a `set-param` step may change.
pub const PARAMS: &[&str] = &["access_token_expiry", "refresh_token_expiry", "refresh_login_flow"];

/// The `run sql` queries a step may ask for (`SqlQuery`).
pub const SQL_QUERIES: &[&str] = &["refreshtokendetails", "cluster-sip-oauth-mode"];

/// The logs a `read-log` step may read (`LogName`).
pub const LOG_NAMES: &[&str] = &["ssoApp", "ssosp", "certMgmt"];

/// How a device reaches CallManager.
pub const VIAS: &[&str] = &["direct", "edge"];
/// What an implicit-grant access token is.
pub const TOKEN_FORMATS: &[&str] = &["opaque", "jwt"];
/// The grant of a sign-in without a refresh token.
pub const GRANTS: &[&str] = &["implicit", "registered-device", "activation-code"];
/// What a SIP listening port is for.
pub const PORT_PURPOSES: &[&str] = &["sip-oauth-phone", "sip-oauth-mra", "sip", "sip-tls"];
/// A `CEOAuth` zone's state on Expressway-C.
pub const ZONE_STATES: &[&str] = &["Active", "Failed"];

/// The names a run is made of, against which [`Domain::Node`], [`Domain::Device`] and
/// [`Domain::User`] are checked. Sets, so that a lookup and a listing are both ordered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub nodes: BTreeSet<String>,
    pub devices: BTreeSet<String>,
    pub users: BTreeSet<String>,
}

impl Domain {
    /// Whether `value` can occur in a run made of `names`.
    pub fn admits(&self, value: &str, names: &Names) -> bool {
        match self {
            Domain::Open => true,
            Domain::Node => names.nodes.contains(value),
            Domain::Device => names.devices.contains(value),
            Domain::User => names.users.contains(value),
            Domain::OneOf(words) => words.contains(&value),
        }
    }

    /// The values there are, for an error message and a suggestion (`None` for an open field).
    pub fn values<'n>(&self, names: &'n Names) -> Option<Vec<&'n str>> {
        match self {
            Domain::Open => None,
            Domain::Node => Some(names.nodes.iter().map(String::as_str).collect()),
            Domain::Device => Some(names.devices.iter().map(String::as_str).collect()),
            Domain::User => Some(names.users.iter().map(String::as_str).collect()),
            Domain::OneOf(words) => Some(words.to_vec()),
        }
    }

    /// How `authzlab events` describes the domain (empty for an open one).
    pub fn describe(&self) -> String {
        match self {
            Domain::Open => String::new(),
            Domain::Node => "a node of the run".to_string(),
            Domain::Device => "a device of the run".to_string(),
            Domain::User => "a user of the run".to_string(),
            Domain::OneOf(words) => format!("one of {}", words.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{Identity, Service};
    use crate::tokens::{ExpiryTimer, KeyKind};

    #[test]
    fn the_word_sets_are_the_names_their_sources_produce() {
        let services: Vec<&str> = Service::ALL.iter().map(|service| service.name()).collect();
        assert_eq!(services, SERVICES);
        let files: Vec<String> = Identity::ALL.iter().map(|identity| identity.file()).collect();
        assert_eq!(files, CERTIFICATE_FILES);
        let stores: Vec<String> = Identity::ALL.iter().map(|identity| identity.trust_store()).collect();
        assert_eq!(stores, TRUST_STORES);
        assert_eq!([KeyKind::Signing.to_string(), KeyKind::Encryption.to_string()], KEYS);
        let timers =
            [ExpiryTimer::AccessTokenExpiry.to_string(), ExpiryTimer::RefreshTokenExpiry.to_string()];
        assert_eq!(timers, EXPIRY_TIMERS);
        for timer in EXPIRY_TIMERS {
            assert!(PARAMS.contains(timer), "{timer}");
        }
    }

    #[test]
    fn every_rejection_of_the_contract_is_a_refusal_reason() {
        use authzlab_host::Rejection;
        let rejections = [
            Rejection::Malformed(String::new()),
            Rejection::UnsupportedAlgorithm(String::new()),
            Rejection::UnknownSigningKey(String::new()),
            Rejection::BadSignature,
            Rejection::UnknownEncryptionKey(String::new()),
            Rejection::DecryptionFailed,
            Rejection::Expired(0),
            Rejection::NotYetValid(0),
            Rejection::WrongIssuer(String::new()),
            Rejection::WrongTokenType(String::new()),
            Rejection::Revoked,
            Rejection::Denied(String::new()),
        ];
        for rejection in rejections {
            let verdict = authzlab_host::Verdict::Rejected(rejection);
            let name = verdict.reason().expect("a rejection has a reason");
            assert!(REFUSAL_REASONS.contains(&name), "{name}");
        }
    }

    #[test]
    fn a_closed_domain_admits_its_own_values_only() {
        let names = Names {
            nodes: ["cucm-pub", "unity"].map(String::from).into(),
            devices: ["jabber-1"].map(String::from).into(),
            users: ["alice"].map(String::from).into(),
        };
        assert!(Domain::Node.admits("unity", &names));
        assert!(!Domain::Node.admits("unty", &names));
        assert!(Domain::Device.admits("jabber-1", &names));
        assert!(!Domain::Device.admits("Jabber-1", &names));
        assert!(!Domain::User.admits("bob", &names));
        assert!(Domain::OneOf(KEYS).admits("signing", &names));
        assert!(!Domain::OneOf(KEYS).admits("signng", &names));
        assert!(Domain::Open.admits("anything", &names));
        assert_eq!(Domain::Open.values(&names), None);
    }
}
