//! The phone security profile's steps: `set-security-profile` (its settings, each checked
//! against the names the page offers) and `reset-phone` (one phone of the run, or every one).

use std::ops::Range;

use toml::Spanned;

use super::error::At;
use super::file::StepFile;
use super::{Action, ClientKind, Device, ScenarioError};
use crate::phone_security::{DeviceSecurityMode, ProfileChange, Transport};

/// `set-security-profile`: at least one setting, each a name the page offers.
pub(super) fn security_profile(
    step: &StepFile,
    index: usize,
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let named =
        |value: &Option<Spanned<String>>, name: &str, names: &'static [&'static str]| {
            value
                .as_ref()
                .map(|value| {
                    names.iter().find(|known| **known == value.get_ref()).copied().ok_or_else(|| {
                        at(value.span(), &field(name), format!("is one of {}", names.join(", ")))
                    })
                })
                .transpose()
        };
    let change = ProfileChange {
        digest_authentication: step.digest_authentication.as_ref().map(|flag| *flag.get_ref()),
        tftp_encrypted_config: step.tftp_encrypted_config.as_ref().map(|flag| *flag.get_ref()),
        device_security_mode: named(
            &step.device_security_mode,
            "device_security_mode",
            DeviceSecurityMode::NAMES,
        )?
        .and_then(DeviceSecurityMode::named),
        transport: named(&step.transport, "transport", Transport::NAMES)?.and_then(Transport::named),
        oauth_authentication: step.oauth_authentication.as_ref().map(|flag| *flag.get_ref()),
    };
    if change.is_empty() {
        return Err(at(
            action_span,
            &field("digest_authentication"),
            format!("set-security-profile needs one or more of {}", ProfileChange::FIELDS.join(", ")),
        ));
    }
    Ok(Action::SetSecurityProfile(change))
}

/// `reset-phone`: `client` names a phone of the run; without it, every phone (there must be one).
pub(super) fn reset_phone(
    step: &StepFile,
    index: usize,
    devices: &[Device],
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let phones = || {
        let names: Vec<&str> = devices
            .iter()
            .filter(|device| device.kind == ClientKind::Phone)
            .map(|device| device.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let device = match &step.client {
        None if devices.iter().any(|device| device.kind == ClientKind::Phone) => None,
        None => {
            return Err(at(
                action_span,
                &field("action"),
                "reset-phone needs a phone: add [[clients]] kind = \"phone\"".to_string(),
            ))
        }
        Some(client) => {
            let wanted = client.get_ref();
            if !devices.iter().any(|device| &device.name == wanted && device.kind == ClientKind::Phone) {
                return Err(at(
                    client.span(),
                    &field("client"),
                    format!("{wanted} is not a phone of this run; phones here: {}", phones()),
                ));
            }
            Some(wanted.clone())
        }
    };
    Ok(Action::ResetPhone { device })
}
