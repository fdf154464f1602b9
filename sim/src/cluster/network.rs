//! The network between hosts and the hosts' power, as fault steps change them: turmoil's
//! links and hosts, which only the driver holds.

use crate::node_id::NodeId;
use crate::scenario::Action;

/// Carries out a step whose target is the network, among the simulation's `hosts`; `Err`
/// names an action that is not one.
pub(super) fn apply(sim: &mut turmoil::Sim<'_>, hosts: &[NodeId], action: &Action) -> Result<(), String> {
    match action {
        Action::Partition { a, b, oneway: false } => sim.partition(a.as_str(), b.as_str()),
        Action::Partition { a, b, oneway: true } => sim.partition_oneway(a.as_str(), b.as_str()),
        Action::Repair { a, b, oneway: false } => sim.repair(a.as_str(), b.as_str()),
        Action::Repair { a, b, oneway: true } => sim.repair_oneway(a.as_str(), b.as_str()),
        Action::Link { a, b, latency, loss_ppm } => {
            if let Some(latency) = latency {
                sim.set_link_latency(a.as_str(), b.as_str(), *latency);
            }
            if let Some(loss_ppm) = loss_ppm {
                sim.set_link_fail_rate(a.as_str(), b.as_str(), f64::from(*loss_ppm) / 1e6);
            }
        }
        Action::Crash(node) => sim.crash(node.as_str()),
        Action::Restart(node) => sim.bounce(node.as_str()),
        Action::Isolate(node) => hosts
            .iter()
            .filter(|host| *host != node)
            .for_each(|other| sim.partition(node.as_str(), other.as_str())),
        Action::Rejoin(node) => hosts
            .iter()
            .filter(|host| *host != node)
            .for_each(|other| sim.repair(node.as_str(), other.as_str())),
        other => return Err(format!("{} is not a network fault", other.name())),
    }
    Ok(())
}
