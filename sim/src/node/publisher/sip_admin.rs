//! SIP OAuth as the publisher administers it (docs/domain.md "SIP OAuth mode"): `utils
//! sipOAuth-mode enable|disable` writes `ClusterSIPOAuthMode`; the CallManager page saves a
//! subscriber's SIP OAuth ports, refusing one outside 1024-49151; the phone security profile
//! refuses what SIP OAuth does not support (digest authentication, encrypted TFTP config); AXL answers Expressway-C's
//! discovery and takes its certificate's names into `expresswaycconfiguration`; and AuthZ
//! knows which phones may get tokens how ("OAuth Access Token for Devices").

use std::collections::BTreeMap;
use std::rc::Rc;

use hyper::StatusCode;

use crate::cluster_database::{ClusterDatabase, SecurityProfile, SipPorts};
use crate::node_id::NodeId;
use crate::phone_security::ProfileChange;
use crate::proto::axl::{DiscoveredNode, ExpresswayNames, ExpresswayNamesHeld};
use crate::proto::http::{HttpRequest, HttpResponse};
use crate::proto::sip::oauth_port_refusal;
use crate::release::Release;
use crate::scenario::DeviceTokens;
use crate::trace::{Happening, Tracer};

/// The first setting of `profile` SIP OAuth does not support, by its name on the page.
fn unsupported(profile: SecurityProfile) -> Option<&'static str> {
    if profile.digest_authentication {
        Some("Enable Digest Authentication")
    } else if profile.tftp_encrypted_config {
        Some("TFTP Encrypted Config")
    } else {
        None
    }
}

/// A phone the administrator added: its user and, for activation-code onboarding, its code.
#[derive(Clone, Debug)]
pub struct PhoneEnrollment {
    pub user: String,
    /// Its model, e.g. `8845`.
    pub model: String,
    /// Wakes the phone when the administrator resets it.
    pub reset: Rc<tokio::sync::Notify>,
    /// The activation code (a secret: never traced). `None`: the phone is already registered
    /// and takes the implicit way.
    pub activation_code: Option<String>,
}

/// The publisher's SIP OAuth administration.
pub struct SipAdmin {
    database: Rc<ClusterDatabase>,
    subscribers: Vec<NodeId>,
    device_tokens: DeviceTokens,
    /// Whether the mode shows as a read-only enterprise parameter, and whether phones get
    /// tokens at all.
    release: Release,
    /// Phones by device name.
    phones: BTreeMap<String, PhoneEnrollment>,
}

/// Why a phone gets no tokens.
pub type Refused = &'static str;

impl SipAdmin {
    pub fn new(
        database: Rc<ClusterDatabase>,
        subscribers: Vec<NodeId>,
        device_tokens: DeviceTokens,
        release: Release,
        phones: BTreeMap<String, PhoneEnrollment>,
    ) -> SipAdmin {
        SipAdmin { database, subscribers, device_tokens, release, phones }
    }

    /// `utils sipOAuth-mode enable|disable`: refused while the refresh login flow is off. The
    /// documents say SIP OAuth requires the flow; that the command refuses (rather than
    /// enabling a mode no device can use) is ours (assumption).
    /// `ClusterSIPOAuthMode` as `processconfig` holds it now.
    pub fn mode(&self) -> Result<bool, String> {
        self.database.sip_oauth_mode()
    }

    pub fn set_mode(&self, enabled: bool, refresh_flow: bool, tracer: &Tracer) {
        if enabled && !refresh_flow {
            tracer.emit(Happening::SipOauthModeRefused {
                reason: "SIP OAuth requires \"OAuth with Refresh Login Flow\" enabled".to_string(),
            });
            return;
        }
        if enabled {
            match self.database.security_profile() {
                Ok(profile) => {
                    if let Some(setting) = unsupported(profile) {
                        let reason = format!("the phone security profile has \"{setting}\" on, which SIP OAuth does not support");
                        return tracer.emit(Happening::SipOauthModeRefused { reason });
                    }
                }
                Err(reason) => return tracer.emit(Happening::SipOauthModeRefused { reason }),
            }
        }
        let previous = self.database.sip_oauth_mode();
        match previous.and_then(|previous| self.database.set_sip_oauth_mode(enabled).map(|()| previous)) {
            Ok(previous) => tracer.emit(Happening::SipOauthModeSet {
                enabled,
                previous,
                parameter_shown: self.release.shows_sip_oauth_parameter(),
            }),
            Err(reason) => tracer.emit(Happening::SipOauthModeRefused { reason }),
        }
    }

    /// The CallManager page: the ports are checked before anything is saved; one port out
    /// of range refuses the whole change.
    pub fn set_ports(&self, node: &NodeId, phone: Option<i64>, mra: Option<i64>, tracer: &Tracer) {
        let current = match self.database.ports(node.as_str()) {
            Ok(ports) => ports,
            Err(reason) => {
                return tracer.emit(Happening::SipPortRefused { target: node.to_string(), port: 0, reason })
            }
        };
        let check = |port: Option<i64>, current: u16| -> Result<u16, (i64, String)> {
            let Some(port) = port else { return Ok(current) };
            match oauth_port_refusal(port) {
                None => u16::try_from(port).map_err(|_| (port, "not a port".to_string())),
                Some(reason) => Err((port, reason)),
            }
        };
        let ports = check(phone, current.phone)
            .and_then(|phone| Ok(SipPorts { phone, mra: check(mra, current.mra)? }));
        let ports = ports.and_then(|ports| {
            if ports.phone == ports.mra {
                return Err((i64::from(ports.mra), "the two OAuth ports must differ".to_string()));
            }
            Ok(ports)
        });
        match ports {
            Ok(ports) => match self.database.set_ports(node.as_str(), ports) {
                Ok(()) => tracer.emit(Happening::SipPortsSet {
                    target: node.to_string(),
                    phone_port: ports.phone,
                    mra_port: ports.mra,
                }),
                Err(reason) => {
                    tracer.emit(Happening::SipPortRefused { target: node.to_string(), port: 0, reason })
                }
            },
            Err((port, reason)) => {
                tracer.emit(Happening::SipPortRefused { target: node.to_string(), port, reason })
            }
        }
    }

    /// The phone security profile page: a setting SIP OAuth does not support is refused
    /// while `ClusterSIPOAuthMode` is 1, and "Enable OAuth Authentication" without Encrypted
    /// and TLS always; nothing is saved then. Phones take what is saved when reset.
    pub fn set_security_profile(&self, change: ProfileChange, tracer: &Tracer) {
        let outcome = self.database.security_profile().and_then(|current| {
            let profile = change.applied_to(current);
            if let Some(reason) = profile.phone.refusal() {
                return Err(reason);
            }
            if self.database.sip_oauth_mode()? {
                if let Some(setting) = unsupported(profile) {
                    return Err(format!("\"{setting}\" is not supported with SIP OAuth on"));
                }
            }
            self.database.set_security_profile(profile).map(|()| profile)
        });
        match outcome {
            Ok(profile) => tracer.emit(Happening::SecurityProfileSet {
                digest_authentication: profile.digest_authentication,
                tftp_encrypted_config: profile.tftp_encrypted_config,
                device_security_mode: profile.phone.mode.name().to_string(),
                transport: profile.phone.transport.name().to_string(),
                oauth_authentication: profile.phone.oauth_authentication,
            }),
            Err(reason) => tracer.emit(Happening::SecurityProfileRefused { reason }),
        }
    }

    /// "Reset" on `device`'s page, or on every phone's: each takes the saved profile into
    /// its configuration file and registers again at once.
    pub fn reset_phones(&self, device: Option<&str>, tracer: &Tracer) {
        for (name, phone) in
            self.phones.iter().filter(|(name, _)| device.is_none_or(|device| device == *name))
        {
            match self.database.apply_profile(name) {
                Ok(security) => {
                    tracer.emit(Happening::PhoneReset {
                        device: name.clone(),
                        model: phone.model.clone(),
                        device_security_mode: security.mode.name().to_string(),
                        oauth_authentication: security.uses_oauth(),
                    });
                    phone.reset.notify_one();
                }
                Err(reason) => tracer.emit(Happening::SecurityProfileRefused { reason }),
            }
        }
    }

    /// AXL: the subscribers and their MRA ports (discovery and refresh).
    pub fn discovery(&self) -> HttpResponse {
        let nodes: Result<Vec<DiscoveredNode>, String> = self
            .subscribers
            .iter()
            .map(|name| {
                Ok(DiscoveredNode {
                    name: name.to_string(),
                    mra_port: self.database.ports(name.as_str())?.mra,
                })
            })
            .collect();
        match nodes {
            Ok(nodes) => HttpResponse::json(StatusCode::OK, &nodes),
            Err(reason) => HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &reason),
        }
    }

    /// AXL: Expressway-C's names into `expresswaycconfiguration`.
    pub fn take_expressway_names(&self, request: &HttpRequest) -> HttpResponse {
        let names = match request.json::<ExpresswayNames>() {
            Ok(names) => names.names,
            Err(response) => return response,
        };
        // The entry is Expressway-C's host, its certificate's CN (its first name).
        let host = names.first().cloned().unwrap_or_default();
        match self.database.add_expressway_names(&host, &names) {
            Ok(held) => HttpResponse::json(
                StatusCode::OK,
                &ExpresswayNamesHeld { held: u32::try_from(held).unwrap_or(u32::MAX) },
            ),
            Err(reason) => HttpResponse::error(StatusCode::BAD_REQUEST, &reason),
        }
    }

    /// Device > Expressway-C, Save: the entry of `host` holds `names` and `domain` from now on.
    pub fn save_expressway_entry(&self, host: &str, names: &[String], domain: Option<&str>, tracer: &Tracer) {
        let (held, reason) = match self.database.save_expressway_entry(host, names, domain) {
            Ok(held) => (u32::try_from(held).unwrap_or(u32::MAX), None),
            Err(reason) => (0, Some(reason)),
        };
        tracer.emit(Happening::ExpresswayCEntrySaved {
            host: host.to_string(),
            names: names.join(" "),
            domain: domain.map(str::to_string),
            held,
            reason,
        });
    }

    /// Phones get tokens from release 14 ("OAuth Access Token for Devices"); before, SIP
    /// OAuth is Jabber's only.
    fn phones_get_tokens(&self) -> Result<(), Refused> {
        if self.release.has_phone_oauth() {
            Ok(())
        } else {
            Err("phone-oauth-from-release-14")
        }
    }

    /// Whose tokens a phone gets by its activation code; the code is used up.
    pub fn activate(&mut self, device: &str, code: &str) -> Result<String, Refused> {
        self.phones_get_tokens()?;
        let phone = self.phones.get_mut(device).ok_or("unknown-device")?;
        match &phone.activation_code {
            Some(expected) if expected == code => {
                phone.activation_code = None;
                Ok(phone.user.clone())
            }
            Some(_) => Err("invalid-activation-code"),
            None => Err("activation-code-used-or-not-issued"),
        }
    }

    /// Whose tokens an already registered phone gets, if the cluster lets phones take the
    /// implicit way.
    pub fn registered_device(&self, device: &str) -> Result<String, Refused> {
        self.phones_get_tokens()?;
        if self.device_tokens == DeviceTokens::Explicit {
            return Err("activation-code-onboarding-required");
        }
        self.phones.get(device).map(|phone| phone.user.clone()).ok_or("unknown-device")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Seen, Trace};

    fn admin(dir: &tempfile::TempDir, tokens: DeviceTokens) -> SipAdmin {
        let nodes = vec![NodeId::cucm_subscriber(1)];
        let database =
            ClusterDatabase::open(&dir.path().join("ccm.sqlite"), false, &nodes, SipPorts::default())
                .unwrap();
        let phones = BTreeMap::from([
            (
                "phone-1".to_string(),
                PhoneEnrollment {
                    user: "alice".into(),
                    model: "8845".into(),
                    reset: Rc::default(),
                    activation_code: Some("C0DE".into()),
                },
            ),
            (
                "phone-2".to_string(),
                PhoneEnrollment {
                    user: "bob".into(),
                    model: "8845".into(),
                    reset: Rc::default(),
                    activation_code: None,
                },
            ),
        ]);
        SipAdmin::new(Rc::new(database), nodes, tokens, Release::NEWEST, phones)
    }

    /// "OAuth Access Token for Devices": an activation code works once and only for its
    /// phone; the implicit way is closed when onboarding is explicit.
    #[test]
    fn activation_codes_are_single_use_and_explicit_onboarding_closes_the_implicit_way() {
        let dir = tempfile::tempdir().unwrap();
        let mut implicit = admin(&dir, DeviceTokens::Implicit);
        assert_eq!(implicit.activate("phone-1", "WRONG"), Err("invalid-activation-code"));
        assert_eq!(implicit.activate("phone-1", "C0DE"), Ok("alice".to_string()));
        assert_eq!(implicit.activate("phone-1", "C0DE"), Err("activation-code-used-or-not-issued"));
        assert_eq!(implicit.activate("phone-9", "C0DE"), Err("unknown-device"));
        assert_eq!(implicit.registered_device("phone-2"), Ok("bob".to_string()));
        let dir = tempfile::tempdir().unwrap();
        let explicit = admin(&dir, DeviceTokens::Explicit);
        assert_eq!(explicit.registered_device("phone-2"), Err("activation-code-onboarding-required"));
    }

    /// Before release 14 phones get no tokens, either way; the mode is not shown as an
    /// enterprise parameter.
    #[test]
    fn before_release_14_phones_get_no_tokens_and_no_parameter_shows_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let SipAdmin { database, subscribers, device_tokens, phones, .. } =
            admin(&dir, DeviceTokens::Implicit);
        let mut old = SipAdmin::new(database, subscribers, device_tokens, Release::R12_5Su1, phones);
        assert_eq!(old.registered_device("phone-2"), Err("phone-oauth-from-release-14"));
        assert_eq!(old.activate("phone-1", "C0DE"), Err("phone-oauth-from-release-14"));
        let trace = Trace::new();
        let seen = Seen::default();
        trace.observe(Box::new(seen.clone()));
        old.set_mode(true, true, &trace.node(&NodeId::PUBLISHER));
        let events = seen.0.borrow();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "sip-oauth-mode-set");
        assert_eq!(events[0].fields.get("parameter_shown").and_then(|v| v.as_bool()), Some(false));
    }

    /// The CallManager page checks before it saves: one port out of range refuses the change.
    #[test]
    fn a_port_out_of_range_refuses_the_whole_change() {
        let dir = tempfile::tempdir().unwrap();
        let admin = admin(&dir, DeviceTokens::Implicit);
        let trace = Trace::new();
        let seen = Seen::default();
        trace.observe(Box::new(seen.clone()));
        let tracer = trace.node(&NodeId::PUBLISHER);
        admin.set_ports(&NodeId::cucm_subscriber(1), Some(6090), Some(70_000), &tracer);
        admin.set_ports(&NodeId::cucm_subscriber(1), Some(6091), Some(6091), &tracer);
        admin.set_ports(&NodeId::cucm_subscriber(1), Some(1024), Some(49151), &tracer);
        let kinds: Vec<String> = seen.0.borrow().iter().map(|event| event.kind.clone()).collect();
        assert_eq!(kinds, ["sip-port-refused", "sip-port-refused", "sip-ports-set"]);
        assert_eq!(admin.database.ports("cucm-sub-1").unwrap(), SipPorts { phone: 1024, mra: 49151 });
    }
}
