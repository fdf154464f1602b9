//! Time-aware conformance (`authzlab plugin check --scenarios`): the component runs as Unity
//! Connection's validator through a short set of the shipped scenarios, where keys are
//! regenerated, a user is revoked and Unity's clock is off within and beyond the leeway.
//! Every token Unity is shown is checked by the component and, beside it, by the native
//! reference with the same keys and the same clock; a scenario passes when both gave the
//! same verdict at every presentation, and otherwise reports the first that differs.
//!
//! Tests of a validator at one instant miss what happens across time: a plugin that caches
//! keys, mishandles the leeway or reads a clock of its own passes every vector and fails here.

use std::path::Path;

use authzlab_host::PluginHost;

use crate::cluster::{self, RunError, RunOptions};
use crate::conformance::shadow::Shadow;
use crate::report::TimelineMode;
use crate::scenario::Scenario;

/// The built-in scenarios: (name, the shipped file's text). Compiled in, so the command works
/// wherever the binary runs.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("signing-key-regenerated", include_str!("../../../scenarios/signing-key-regenerated.toml")),
    ("encryption-key-regenerated", include_str!("../../../scenarios/encryption-key-regenerated.toml")),
    ("revoke-by-user", include_str!("../../../scenarios/revoke-by-user.toml")),
    ("consumer-clock-within-leeway", include_str!("../../../scenarios/consumer-clock-within-leeway.toml")),
    ("consumer-clock-beyond-leeway", include_str!("../../../scenarios/consumer-clock-beyond-leeway.toml")),
];

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

/// Runs every built-in scenario with `component` as Unity's validator (an absolute path or
/// one relative to the working directory).
pub fn run(component: &Path, plugins: &PluginHost) -> Result<Vec<Score>, RunError> {
    let component = std::path::absolute(component)
        .map_err(|e| RunError::Simulation(format!("{}: {e}", component.display())))?;
    SCENARIOS.iter().map(|(name, text)| run_one(name, text, &component, plugins)).collect()
}

fn run_one(
    name: &'static str,
    text: &str,
    component: &Path,
    plugins: &PluginHost,
) -> Result<Score, RunError> {
    let mut scenario = Scenario::parse(text, Path::new(&format!("built-in:{name}.toml")))
        .map_err(|e| RunError::Simulation(e.to_string()))?;
    scenario.cluster.unity_validator = Some(component.display().to_string());
    // The scenario's own expectations name the reference plugin's behaviour; here only the
    // agreement with the native reference is scored.
    scenario.expectations.clear();
    let shadow = Shadow::default();
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
