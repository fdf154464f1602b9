//! The phone security profile as SIP OAuth needs it (docs/domain.md "Phone security profile"):
//! device security mode *Encrypted*, transport *TLS* and "Enable OAuth Authentication", saved,
//! applied to the phone and the phone reset; and only the models the documents list register
//! with SIP OAuth at all.
//!
//! What a phone does with the profile it was last reset with, and SIP OAuth on:
//! - Encrypted, TLS, OAuth, on a listed model: it registers on the SIP Phone OAuth Port with its
//!   token (the path every other scenario takes);
//! - the same on a model not listed: its firmware has no SIP OAuth, so it cannot register;
//! - Encrypted or Authenticated without OAuth: it needs a locally significant certificate
//!   from CAPF, which SIP OAuth exists to make unnecessary; this cluster issues none
//!   (assumption: CAPF is not modelled), so it cannot register;
//! - Non Secure: it registers on the legacy port 5060, without a token.

/// The phone security profile types the documents list as configurable for OAuth: the Jabber
/// devices (TCT, BOT, CSF, TAB), the universal device template, and these IP phone models.
pub const OAUTH_PHONE_MODELS: &[&str] = &[
    "8811", "8841", "8851", "8851NR", "8861", "7811", "7821", "7841", "7861", "8845", "8865", "8865NR",
    "7832", "8832", "8832NR",
];

/// The model a phone is when its group names none. Assumption: the documents name no
/// default; the 8845 is one of the listed models.
pub const PHONE_MODEL_DEFAULT: &str = "8845";

/// Longest model name a scenario may give (`8865NR` is six).
pub const PHONE_MODEL_CHARS_MAX: usize = 8;

/// Whether a phone of `model` can register with SIP OAuth (the documents' list).
pub fn oauth_capable(model: &str) -> bool {
    OAUTH_PHONE_MODELS.contains(&model)
}

/// Whether `model` is a model name as scenarios accept it: 3 to 8 ASCII letters or digits.
pub fn is_model_name(model: &str) -> bool {
    (3..=PHONE_MODEL_CHARS_MAX).contains(&model.len()) && model.chars().all(|c| c.is_ascii_alphanumeric())
}

/// "Device Security Mode".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSecurityMode {
    NonSecure,
    Authenticated,
    Encrypted,
}

impl DeviceSecurityMode {
    pub const NAMES: &'static [&'static str] = &["non-secure", "authenticated", "encrypted"];

    pub fn name(self) -> &'static str {
        match self {
            DeviceSecurityMode::NonSecure => "non-secure",
            DeviceSecurityMode::Authenticated => "authenticated",
            DeviceSecurityMode::Encrypted => "encrypted",
        }
    }

    pub fn named(name: &str) -> Option<DeviceSecurityMode> {
        match name {
            "non-secure" => Some(DeviceSecurityMode::NonSecure),
            "authenticated" => Some(DeviceSecurityMode::Authenticated),
            "encrypted" => Some(DeviceSecurityMode::Encrypted),
            _ => None,
        }
    }
}

/// "Transport Type".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    Tls,
}

impl Transport {
    pub const NAMES: &'static [&'static str] = &["tcp", "udp", "tls"];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Tls => "tls",
        }
    }

    pub fn named(name: &str) -> Option<Transport> {
        match name {
            "tcp" => Some(Transport::Tcp),
            "udp" => Some(Transport::Udp),
            "tls" => Some(Transport::Tls),
            _ => None,
        }
    }
}

/// The profile's settings a phone takes when it is reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneSecurity {
    pub mode: DeviceSecurityMode,
    pub transport: Transport,
    pub oauth_authentication: bool,
}

impl PhoneSecurity {
    /// What the documents' procedure leaves: Encrypted, TLS, OAuth. Assumption: a run's
    /// cluster starts with it done, so scenarios about other things need no profile steps.
    pub const FOR_SIP_OAUTH: PhoneSecurity = PhoneSecurity {
        mode: DeviceSecurityMode::Encrypted,
        transport: Transport::Tls,
        oauth_authentication: true,
    };

    /// Before release 14 the page has no "Enable OAuth Authentication", and CAPF is not
    /// modelled: a run's phones start Non Secure over TCP there (assumption).
    pub const BEFORE_PHONE_OAUTH: PhoneSecurity = PhoneSecurity {
        mode: DeviceSecurityMode::NonSecure,
        transport: Transport::Tcp,
        oauth_authentication: false,
    };

    /// Why the page refuses these settings: "Enable OAuth Authentication" goes with
    /// Encrypted and TLS only (assumption: the page refuses the save; the documents set the
    /// three together and say nothing of other combinations).
    pub fn refusal(&self) -> Option<String> {
        (self.oauth_authentication
            && (self.mode != DeviceSecurityMode::Encrypted || self.transport != Transport::Tls))
            .then(|| {
                format!(
                    "\"Enable OAuth Authentication\" needs device security mode encrypted and transport tls, not {} and {}",
                    self.mode.name(),
                    self.transport.name()
                )
            })
    }

    /// Whether a phone reset with these settings registers with its token.
    pub fn uses_oauth(&self) -> bool {
        self.oauth_authentication && self.refusal().is_none()
    }
}

/// The phone security profile: the two settings SIP OAuth does not support (docs/domain.md:
/// "With SIP OAuth on, 'Enable Digest Authentication' and 'TFTP Encrypted Config' are not
/// supported"), and the mode, transport and "Enable OAuth Authentication" a phone takes when
/// it is reset (below). One profile for every phone here (assumption: the
/// documents name the settings, not how many profiles a cluster has).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecurityProfile {
    pub digest_authentication: bool,
    pub tftp_encrypted_config: bool,
    pub phone: PhoneSecurity,
}

impl Default for SecurityProfile {
    fn default() -> Self {
        SecurityProfile {
            digest_authentication: false,
            tftp_encrypted_config: false,
            phone: PhoneSecurity::FOR_SIP_OAUTH,
        }
    }
}

/// What a `set-security-profile` step changes; each `None` keeps what is saved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub digest_authentication: Option<bool>,
    pub tftp_encrypted_config: Option<bool>,
    pub device_security_mode: Option<DeviceSecurityMode>,
    pub transport: Option<Transport>,
    pub oauth_authentication: Option<bool>,
}

impl ProfileChange {
    /// The step's fields, as scenarios name them.
    pub const FIELDS: &'static [&'static str] = &[
        "digest_authentication",
        "tftp_encrypted_config",
        "device_security_mode",
        "transport",
        "oauth_authentication",
    ];

    pub fn is_empty(&self) -> bool {
        *self == ProfileChange::default()
    }

    /// `saved` with this change made.
    pub fn applied_to(&self, saved: SecurityProfile) -> SecurityProfile {
        SecurityProfile {
            digest_authentication: self.digest_authentication.unwrap_or(saved.digest_authentication),
            tftp_encrypted_config: self.tftp_encrypted_config.unwrap_or(saved.tftp_encrypted_config),
            phone: PhoneSecurity {
                mode: self.device_security_mode.unwrap_or(saved.phone.mode),
                transport: self.transport.unwrap_or(saved.phone.transport),
                oauth_authentication: self.oauth_authentication.unwrap_or(saved.phone.oauth_authentication),
            },
        }
    }

    /// `digest_authentication=true device_security_mode=encrypted`: each setting given.
    pub fn text(&self) -> String {
        let flag = |name: &str, value: Option<bool>| value.map(|value| format!("{name}={value}"));
        let named = |name: &str, value: Option<&str>| value.map(|value| format!("{name}={value}"));
        [
            flag("digest_authentication", self.digest_authentication),
            flag("tftp_encrypted_config", self.tftp_encrypted_config),
            named("device_security_mode", self.device_security_mode.map(DeviceSecurityMode::name)),
            named("transport", self.transport.map(Transport::name)),
            flag("oauth_authentication", self.oauth_authentication),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// A [`text`](Self::text) read back; settings it does not know are left out.
    pub fn from_text(text: &str) -> ProfileChange {
        let value = |name: &str| text.split(' ').find_map(|part| part.strip_prefix(name)?.strip_prefix('='));
        let flag = |name: &str| value(name).and_then(|value| value.parse().ok());
        ProfileChange {
            digest_authentication: flag("digest_authentication"),
            tftp_encrypted_config: flag("tftp_encrypted_config"),
            device_security_mode: value("device_security_mode").and_then(DeviceSecurityMode::named),
            transport: value("transport").and_then(Transport::named),
            oauth_authentication: flag("oauth_authentication"),
        }
    }
}

/// Why a phone of `model` cannot register while SIP OAuth is on, given what its configuration
/// file says of its last reset: the device security `mode`, and whether the profile makes it
/// register with its token (`with_oauth`, [`PhoneSecurity::uses_oauth`]). `None` when it can
/// (with its token, or on the legacy port when Non Secure).
pub fn registration_refusal(model: &str, mode: DeviceSecurityMode, with_oauth: bool) -> Option<String> {
    if with_oauth {
        return (!oauth_capable(model))
            .then(|| format!("Cisco {model} is not among the phones that register with SIP OAuth"));
    }
    (mode != DeviceSecurityMode::NonSecure).then(|| {
        format!(
            "device security mode {} without OAuth needs a locally significant certificate from CAPF, which this cluster does not issue",
            mode.name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_encrypted_tls_oauth_on_a_listed_model_registers_with_its_token() {
        let oauth = PhoneSecurity::FOR_SIP_OAUTH;
        assert!(oauth.uses_oauth() && oauth.refusal().is_none());
        assert_eq!(registration_refusal("8845", oauth.mode, oauth.uses_oauth()), None);
        assert_eq!(registration_refusal("8865NR", oauth.mode, oauth.uses_oauth()), None);
        assert!(registration_refusal("7945", oauth.mode, oauth.uses_oauth())
            .unwrap()
            .contains("Cisco 7945 is not among"));
        let no_oauth = PhoneSecurity { oauth_authentication: false, ..oauth };
        assert!(registration_refusal("8845", no_oauth.mode, no_oauth.uses_oauth()).unwrap().contains("CAPF"));
        let non_secure = PhoneSecurity { mode: DeviceSecurityMode::NonSecure, ..no_oauth };
        assert_eq!(
            registration_refusal("7945", non_secure.mode, non_secure.uses_oauth()),
            None,
            "the legacy port"
        );
        let over_tcp = PhoneSecurity { transport: Transport::Tcp, ..oauth };
        assert!(over_tcp.refusal().unwrap().contains("encrypted and transport tls, not encrypted and tcp"));
        assert!(!over_tcp.uses_oauth());
    }

    #[test]
    fn a_change_reads_back_from_its_text() {
        let change = ProfileChange {
            digest_authentication: Some(false),
            device_security_mode: Some(DeviceSecurityMode::NonSecure),
            transport: Some(Transport::Tcp),
            oauth_authentication: Some(true),
            ..ProfileChange::default()
        };
        assert_eq!(
            change.text(),
            "digest_authentication=false device_security_mode=non-secure transport=tcp oauth_authentication=true"
        );
        assert_eq!(ProfileChange::from_text(&change.text()), change);
        let saved = SecurityProfile::default();
        let made = change.applied_to(saved);
        assert_eq!(made.phone.mode, DeviceSecurityMode::NonSecure);
        assert_eq!(made.tftp_encrypted_config, saved.tftp_encrypted_config, "not given: kept");
    }

    #[test]
    fn names_read_back() {
        for name in DeviceSecurityMode::NAMES {
            assert_eq!(DeviceSecurityMode::named(name).unwrap().name(), *name);
        }
        for name in Transport::NAMES {
            assert_eq!(Transport::named(name).unwrap().name(), *name);
        }
        assert!(OAUTH_PHONE_MODELS.iter().all(|model| is_model_name(model)));
        assert!(!is_model_name("88 45") && !is_model_name("88"));
    }
}
