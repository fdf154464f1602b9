//! The fault steps, checked: `partition` and `repair` (between two nodes or sites, both
//! ways or `oneway`), `link` (latency and loss), `crash` and `restart` of a node, `isolate`
//! and `rejoin` of a node, and `skew` of a node's clock. Every name must be a host of this
//! scenario (or, for `skew`, a client device, whose clock is its own even though it runs on a
//! site host).

use std::ops::Range;

use toml::Spanned;

use super::action::ActionName;
use super::duration::parse_duration;
use super::file::StepFile;
use super::{Action, Device, ScenarioError};

/// Largest clock offset a `skew` step may set: a day either way (clocks further off than
/// that are a different failure than skew).
pub const SKEW_OFFSET_MS_MAX: i64 = 86_400_000;
/// Largest drift: 1,000 ppm (86 s a day); a quartz clock drifts tens of ppm.
pub const DRIFT_PPM_MAX: i64 = 1_000;

use super::error::{one_of_nodes, At};
use crate::node_id::NodeId;

/// The action of a fault step (`name` is one of the fault actions).
pub(super) fn fault_action(
    name: ActionName,
    step: &StepFile,
    index: usize,
    hosts: &[NodeId],
    devices: &[Device],
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let pair = || -> Result<(NodeId, NodeId), ScenarioError> {
        let Some(between) = &step.between else {
            return Err(at(
                action_span.clone(),
                &field("between"),
                "needs `between = [\"a\", \"b\"]`, two nodes or sites".to_string(),
            ));
        };
        match between.get_ref().as_slice() {
            [a, b] if a != b => {
                let known = |name: &str| known(name, hosts, between.span(), &field("between"), at);
                Ok((known(a)?, known(b)?))
            }
            _ => Err(at(between.span(), &field("between"), "names two different nodes or sites".to_string())),
        }
    };
    let oneway = step.oneway.as_ref().is_some_and(|oneway| *oneway.get_ref());
    let node = |names: &[NodeId]| -> Result<NodeId, ScenarioError> {
        let Some(node) = &step.node else {
            return Err(at(action_span.clone(), &field("node"), "needs `node = \"…\"`".to_string()));
        };
        known(node.get_ref(), names, node.span(), &field("node"), at)
    };
    Ok(match name {
        ActionName::Partition => {
            let (a, b) = pair()?;
            Action::Partition { a, b, oneway }
        }
        ActionName::Repair => {
            let (a, b) = pair()?;
            Action::Repair { a, b, oneway }
        }
        ActionName::Link => {
            let (a, b) = pair()?;
            let latency = step.latency.as_ref().map(|latency| latency.get_ref().0);
            let loss_ppm = match &step.loss {
                Some(loss) if !(0.0..1.0).contains(loss.get_ref()) => {
                    return Err(at(
                        loss.span(),
                        &field("loss"),
                        "is a chance from 0 up to (not including) 1".into(),
                    ))
                }
                Some(loss) => Some((loss.get_ref() * 1_000_000.0).round() as u32),
                None => None,
            };
            if latency.is_none() && loss_ppm.is_none() {
                return Err(at(
                    action_span,
                    &field("latency"),
                    "link needs `latency = \"…\"`, `loss = …` or both".into(),
                ));
            }
            Action::Link { a, b, latency, loss_ppm }
        }
        ActionName::Crash => Action::Crash(node(hosts)?),
        ActionName::Restart => Action::Restart(node(hosts)?),
        ActionName::Isolate => Action::Isolate(node(hosts)?),
        ActionName::Rejoin => Action::Rejoin(node(hosts)?),
        ActionName::Skew => {
            let mut clocks = hosts.to_vec();
            clocks.extend(devices.iter().map(|device| NodeId::new(device.name.clone())));
            let node = node(&clocks)?;
            let offset_ms = match &step.offset {
                Some(offset) => signed_ms(offset.get_ref())
                    .map_err(|message| at(offset.span(), &field("offset"), message))?,
                None => 0,
            };
            let drift_ppm = step.drift_ppm.as_ref().map_or(0, |drift| *drift.get_ref());
            if offset_ms.abs() > SKEW_OFFSET_MS_MAX {
                let span = step.offset.as_ref().map_or(action_span.clone(), Spanned::span);
                return Err(at(span, &field("offset"), "is at most a day either way".to_string()));
            }
            if let Some(drift) =
                step.drift_ppm.as_ref().filter(|_| drift_ppm.unsigned_abs() > DRIFT_PPM_MAX.unsigned_abs())
            {
                return Err(at(
                    drift.span(),
                    &field("drift_ppm"),
                    format!("is -{DRIFT_PPM_MAX} to {DRIFT_PPM_MAX}"),
                ));
            }
            if step.offset.is_none() && step.drift_ppm.is_none() {
                return Err(at(
                    action_span,
                    &field("offset"),
                    "skew needs `offset = \"…\"`, `drift_ppm = …` or both".into(),
                ));
            }
            Action::Skew { node, offset_ms, drift_ppm }
        }
        _ => unreachable!("fault_action is called for fault actions only"),
    })
}

/// The fields each fault action takes (others are refused as strays).
pub(super) fn fields(name: ActionName) -> &'static [&'static str] {
    match name {
        ActionName::Partition | ActionName::Repair => &["between", "oneway"],
        ActionName::Link => &["between", "latency", "loss"],
        ActionName::Crash | ActionName::Restart | ActionName::Isolate | ActionName::Rejoin => &["node"],
        ActionName::Skew => &["node", "offset", "drift_ppm"],
        _ => &[],
    }
}

/// The node or site `name` among `names`, or the error that names them.
fn known(
    name: &str,
    names: &[NodeId],
    span: Range<usize>,
    field: &str,
    at: At<'_>,
) -> Result<NodeId, ScenarioError> {
    let hint = match one_of_nodes(name, names) {
        Ok(node) => return Ok(node),
        Err(hint) => hint,
    };
    Err(at(span, field, format!("no node or site {name:?} here{hint}; here: {}", names.join(", "))))
}

/// `"90s"`, `"-1m30s"`: a duration with an optional sign, as milliseconds.
fn signed_ms(text: &str) -> Result<i64, String> {
    let (sign, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let duration = parse_duration(magnitude)?;
    i64::try_from(duration.as_millis()).map(|ms| sign * ms).map_err(|_| "is too large".to_string())
}
