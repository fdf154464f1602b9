//! Time-aware conformance (`authzlab plugin check --scenarios`): the component runs as the
//! validator of the consumer it is written for (its `describe().consumer`: Unity Connection,
//! IM and Presence, CallManager's SIP registration or Expressway-C) through a short set of the
//! shipped scenarios where that consumer checks tokens while keys are regenerated, a user is
//! revoked or clocks are off. Every token it is shown is checked by the component and, beside
//! it, by the native reference with the same keys and the same clock; a scenario passes when
//! both gave the same verdict at every presentation, and otherwise reports the first that
//! differs.
//!
//! Tests of a validator at one instant miss what happens across time: a plugin that caches
//! keys, mishandles the leeway or reads a clock of its own passes every vector and fails here.

use std::path::Path;

use authzlab_host::PluginHost;

use crate::cluster::{self, RunError, RunOptions};
use crate::conformance::shadow::{Role, Shadow};
use crate::report::TimelineMode;
use crate::scenario::Scenario;

/// The built-in scenarios for Unity Connection: (name, the shipped file's text). Compiled in,
/// so the command works wherever the binary runs.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("signing-key-regenerated", include_str!("../../../scenarios/signing-key-regenerated.toml")),
    ("encryption-key-regenerated", include_str!("../../../scenarios/encryption-key-regenerated.toml")),
    ("revoke-by-user", include_str!("../../../scenarios/revoke-by-user.toml")),
    ("consumer-clock-within-leeway", include_str!("../../../scenarios/consumer-clock-within-leeway.toml")),
    ("consumer-clock-beyond-leeway", include_str!("../../../scenarios/consumer-clock-beyond-leeway.toml")),
];

/// For IM and Presence: a signing-key regeneration one node misses, and the key mismatch
/// that Tomcat's restart fixes.
pub const IMP_SCENARIOS: &[(&str, &str)] = &[
    ("imp-node-misses-distribution", include_str!("../../../scenarios/imp-node-misses-distribution.toml")),
    ("key-mismatch-and-fix", include_str!("../../../scenarios/key-mismatch-and-fix.toml")),
];

/// For CallManager's SIP registration: REGISTERs with tokens before and after a regeneration
/// the subscribers load late, and with SIP OAuth enabled mid-run.
pub const SIP_SCENARIOS: &[(&str, &str)] = &[
    (
        "sip-register-forbidden-with-stale-keys",
        include_str!("../../../scenarios/sip-register-forbidden-with-stale-keys.toml"),
    ),
    (
        "sip-oauth-enabled-without-restart",
        include_str!("../../../scenarios/sip-oauth-enabled-without-restart.toml"),
    ),
];

/// For Expressway-C: remote phones and Jabber through the edge, before and after its
/// certificate is reissued.
pub const EDGE_SCENARIOS: &[(&str, &str)] = &[
    ("mra-phone-activation-code", include_str!("../../../scenarios/mra-phone-activation-code.toml")),
    ("expressway-reissued-san", include_str!("../../../scenarios/expressway-reissued-san.toml")),
];

/// The scenarios a plugin written for `role` runs through.
pub fn scenarios_for(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::UnityConnection => SCENARIOS,
        Role::ImAndPresence => IMP_SCENARIOS,
        Role::CallManagerSip => SIP_SCENARIOS,
        Role::Expressway => EDGE_SCENARIOS,
    }
}

/// How one scenario went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    pub scenario: &'static str,
    /// Tokens Unity was shown.
    pub presentations: usize,
    /// Presentations the component accepted.
    pub accepted: usize,
    /// The first presentation where the verdicts differ: when, whose, both verdicts.
    pub first_difference: Option<String>,
}

impl Score {
    pub fn passed(&self) -> bool {
        self.first_difference.is_none() && self.presentations > 0
    }
}

/// Runs every built-in scenario of `role` with `component` as that consumer's validator (an
/// absolute path or one relative to the working directory).
pub fn run(component: &Path, role: Role, plugins: &PluginHost) -> Result<Vec<Score>, RunError> {
    let component = std::path::absolute(component)
        .map_err(|e| RunError::Simulation(format!("{}: {e}", component.display())))?;
    scenarios_for(role).iter().map(|(name, text)| run_one(name, text, &component, role, plugins)).collect()
}

fn run_one(
    name: &'static str,
    text: &str,
    component: &Path,
    role: Role,
    plugins: &PluginHost,
) -> Result<Score, RunError> {
    let mut scenario = Scenario::parse(text, Path::new(&format!("built-in:{name}.toml")))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    let path = component.display().to_string();
    let cluster = &mut scenario.cluster;
    let slot = match role {
        Role::UnityConnection => cluster.unity_validator.as_mut(),
        Role::ImAndPresence => cluster.imp.as_mut().map(|imp| &mut imp.validator),
        Role::CallManagerSip => cluster.sip.as_mut().map(|sip| &mut sip.validator),
        Role::Expressway => cluster.expressway.as_mut().map(|expressway| &mut expressway.validator),
    };
    let Some(validator) = slot else {
        return Err(RunError::Simulation(format!("built-in:{name}: no {} to run as", role.display_name())));
    };
    *validator = path;
    // The scenario's own expectations name the reference plugin's behaviour; here only the
    // agreement with the native reference is scored.
    scenario.expectations.clear();
    let shadow = Shadow::watching(role);
    let options =
        RunOptions { timeline: TimelineMode::None, shadow: Some(shadow.clone()), ..RunOptions::default() };
    cluster::run_with(&scenario, scenario.seed, plugins, options)?;
    let presentations = shadow.presentations();
    let first_difference = presentations.iter().find(|p| p.component != p.native).map(|p| {
        format!(
            "at {} {}'s token: component {}, native {}",
            crate::clock::format_elapsed(p.t_ms),
            p.client,
            p.component,
            p.native
        )
    });
    Ok(Score {
        scenario: name,
        presentations: presentations.len(),
        accepted: presentations.iter().filter(|p| p.component == "accept").count(),
        first_difference,
    })
}
