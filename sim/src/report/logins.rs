//! How each device signed in: through the identity provider or not, which grant it got, how
//! often it fell back, and what proxy mode cost. The documents' case against the implicit
//! grant is exactly these numbers: a login at the IdP at every expiry, and a network round
//! trip for every token another node checks.

use std::collections::BTreeMap;

use crate::scenario::CLIENTS_MAX;
use crate::trace::{Event, Happening, Observe};

/// One device's sign-ins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceLogins {
    pub user: String,
    /// Logins at the identity provider.
    pub idp_logins: u64,
    /// Authorization-code grants (an access and a refresh token).
    pub code_grants: u64,
    /// Implicit grants, by token format (`opaque`, `jwt`).
    pub implicit_grants: BTreeMap<String, u64>,
    /// Times the device found the refresh login flow not offered and fell back.
    pub fallbacks: u64,
    /// Access tokens obtained with the refresh token.
    pub refreshes: u64,
}

/// Every device's sign-ins and the proxy-mode validations of a run.
#[derive(Clone, Debug, Default)]
pub struct Logins {
    /// By device name; at most [`CLIENTS_MAX`] entries.
    pub devices: BTreeMap<String, DeviceLogins>,
    /// Verdicts a node got by asking the issuer, and their total and longest wait.
    pub proxied: u64,
    pub proxy_ms_total: u64,
    pub proxy_ms_max: u64,
}

impl Logins {
    fn device(&mut self, name: &str) -> Option<&mut DeviceLogins> {
        if !self.devices.contains_key(name) && self.devices.len() >= CLIENTS_MAX as usize {
            return None;
        }
        Some(self.devices.entry(name.to_string()).or_default())
    }

    /// The report's lines; none when no device used SSO, the implicit grant or a fallback
    /// (the refresh login flow alone is told by the timeline).
    pub fn lines(&self) -> Vec<String> {
        let legacy = self.devices.values().any(|device| {
            device.idp_logins > 0 || !device.implicit_grants.is_empty() || device.fallbacks > 0
        });
        if !legacy && self.proxied == 0 {
            return Vec::new();
        }
        let mut lines: Vec<String> = self
            .devices
            .iter()
            .map(|(name, device)| {
                let mut parts = Vec::new();
                if device.idp_logins > 0 {
                    parts.push(format!(
                        "{} IdP login(s) ({} re-login(s))",
                        device.idp_logins,
                        device.idp_logins.saturating_sub(1)
                    ));
                }
                if device.code_grants > 0 {
                    parts.push(format!("{} authorization-code grant(s)", device.code_grants));
                }
                for (format, count) in &device.implicit_grants {
                    parts.push(format!("{count} implicit grant(s) with {format} tokens"));
                }
                if device.fallbacks > 0 {
                    parts.push(format!("fell back {} time(s)", device.fallbacks));
                }
                if device.refreshes > 0 {
                    parts.push(format!("{} refresh(es)", device.refreshes));
                }
                format!("{name} ({}): {}", device.user, parts.join(", "))
            })
            .collect();
        lines.push(match self.proxied {
            0 => "proxy mode: no token needed its issuer".to_string(),
            n => format!(
                "proxy mode: {n} verdict(s) asked the issuing node, {} ms on average, the longest {} ms",
                self.proxy_ms_total / n,
                self.proxy_ms_max
            ),
        });
        lines
    }
}

impl Observe for Logins {
    fn observe(&mut self, event: &Event, _happening: &Happening, _line: &str) {
        let text = |name: &str| event.field_text(name).unwrap_or_default();
        if let Some(ms) = event.fields.get("proxy_ms").and_then(|value| value.as_u64()) {
            self.proxied += 1;
            self.proxy_ms_total = self.proxy_ms_total.saturating_add(ms);
            self.proxy_ms_max = self.proxy_ms_max.max(ms);
        }
        let (device, user) = match event.kind.as_str() {
            "sso-login" | "tokens-issued" | "access-token-issued" | "access-token-refreshed" => {
                (text("client"), Some(text("user")))
            }
            "login-flow-fallback" => (event.node.clone(), None),
            _ => return,
        };
        let Some(entry) = self.device(&device) else { return };
        if let Some(user) = user {
            entry.user = user;
        }
        match event.kind.as_str() {
            "sso-login" => entry.idp_logins += 1,
            "tokens-issued" => entry.code_grants += 1,
            "access-token-issued" => *entry.implicit_grants.entry(text("format")).or_default() += 1,
            "access-token-refreshed" => entry.refreshes += 1,
            _ => entry.fallbacks += 1,
        }
    }
}
