//! Driving the built cluster: each scenario step delivered at its time to the node that
//! carries it out, turmoil stepped tick by tick, and quiet simulated time skipped
//! (docs/architecture.md "Time").

use super::build::Built;
use super::{network, network_quiet, quiet_gap, Reached, RunError, PROGRESS_EVERY_STEPS};
use crate::certs::Identity;
use crate::clock;
use crate::node::client::console::AdminCall;
use crate::node::edge::expressway_c::EdgeCommand;
use crate::node::ipsec_trust;
use crate::node::platform_commands::NodeCommand;
use crate::node::publisher::AdminCommand;
use crate::node::unity::UnityCommand;
use crate::node_id::NodeId;
use crate::scenario::{Action, Scenario, Step, Target};
use crate::trace::{Happening, Trace};

/// Runs `built` to the scenario's end; returns the turmoil steps taken.
pub(super) fn drive(
    built: &mut Built<'_>,
    scenario: &Scenario,
    trace: &Trace,
    mut progress: Option<&mut dyn FnMut(Reached) -> Result<(), String>>,
) -> Result<u64, RunError> {
    let mut steps = scenario.steps.iter().peekable();
    let mut steps_taken: u64 = 0;
    loop {
        // The time of the step about to run, as nodes and the trace see it.
        let elapsed = built.sim.elapsed() + clock::warp();
        while let Some(step) = steps.next_if(|step| step.at <= elapsed) {
            let t_ms = elapsed.as_millis() as u64;
            let event = Happening::from_fields("step", &step.action.step_fields())
                .map_err(|why| RunError::Simulation(format!("the step's event: {why}")))?;
            trace.record(t_ms, &NodeId::SCENARIO, event);
            deliver(built, step, t_ms, trace, scenario.purge.utc_offset_s)?;
        }
        if elapsed >= scenario.duration {
            return Ok(steps_taken);
        }
        // A full trace ends the run now rather than after hours of events it cannot keep.
        if trace.overflowed() {
            return Err(RunError::TraceFull { at_ms: elapsed.as_millis() as u64 });
        }
        clock::wake_due(elapsed);
        built.sim.step().map_err(|e| RunError::Simulation(e.to_string()))?;
        steps_taken += 1;
        if let Some(progress) = progress.as_mut().filter(|_| steps_taken.is_multiple_of(PROGRESS_EVERY_STEPS))
        {
            progress(Reached { elapsed, steps: steps_taken, events: trace.events() })
                .map_err(|reason| RunError::Stopped { at_ms: elapsed.as_millis() as u64, reason })?;
        }
        let maybe_queued = clock::take_network_activity();
        if scenario.skip_idle && !maybe_queued && network_quiet(&built.sim) {
            let next_step_at = built.sim.elapsed() + clock::warp();
            let wake_at = [clock::next_deadline(), steps.peek().map(|step| step.at), Some(scenario.duration)]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(scenario.duration);
            clock::advance_warp(quiet_gap(next_step_at, wake_at, scenario.tick));
        }
    }
}

/// Hands `step` to whoever carries it out ([`Action::target`]). The driver only routes:
/// what an action means lives with its carrier. The queues hold every step of a scenario
/// (ADMIN_QUEUE_MAX, ADMIN_CALLS_MAX) and their receivers live as long as the simulation.
/// `utc_offset_s`: the cluster's time zone, for what the CLI prints.
fn deliver(
    built: &mut Built<'_>,
    step: &Step,
    t_ms: u64,
    trace: &Trace,
    utc_offset_s: i64,
) -> Result<(), RunError> {
    let action = &step.action;
    let not_for = |carrier: &str| RunError::Simulation(format!("{} is not for {carrier}", action.name()));
    match action.target() {
        Target::Publisher => {
            let command = AdminCommand::of(action).ok_or_else(|| not_for("the publisher"))?;
            built.admin.try_send(command).map_err(|_| RunError::AdminQueueFull)?
        }
        Target::Console => {
            let call = AdminCall::of(action).ok_or_else(|| not_for("the console"))?;
            built.admin_calls.try_send(call).map_err(|_| RunError::AdminQueueFull)?
        }
        Target::Node(node) => {
            let queue = built.node_commands.get(node).ok_or_else(|| not_for(node.as_str()))?;
            let command = NodeCommand::of(action).ok_or_else(|| not_for(node.as_str()))?;
            queue.try_send(command).map_err(|_| RunError::AdminQueueFull)?
        }
        Target::Expressway => {
            let command = EdgeCommand::of(action).ok_or_else(|| not_for("Expressway-C"))?;
            built.edge.try_send(command).map_err(|_| RunError::AdminQueueFull)?
        }
        Target::Unity => {
            let command = UnityCommand::of(action).ok_or_else(|| not_for("Unity Connection"))?;
            let queue = built.unity.as_ref().ok_or_else(|| not_for("a cluster without Unity Connection"))?;
            queue.try_send(command).map_err(|_| RunError::AdminQueueFull)?
        }
        // A CLI command each node answers at once from its own state, recorded at the step's
        // time (the driver runs between turmoil steps).
        Target::KeyHolders => {
            trace.record(t_ms, &NodeId::PUBLISHER, built.publisher.borrow().show_keys(utc_offset_s));
            for (name, subscriber) in &built.subscribers {
                trace.record(t_ms, name, subscriber.borrow().show_keys(utc_offset_s));
            }
            for (name, node) in &built.imp {
                trace.record(t_ms, name, node.borrow().show_keys(utc_offset_s));
            }
        }
        // Read on each node's Certificate Management page against the publisher's ipsec.pem.
        Target::IpsecTrust => {
            let Some(publisher_certs) = built.publisher.borrow().certs() else {
                return Err(RunError::Simulation("the CallManager publisher holds no certificates".into()));
            };
            let publisher_ipsec = publisher_certs.borrow().identity(Identity::Ipsec).clone();
            for (name, subscriber) in &built.subscribers {
                let certs = subscriber.borrow().certs();
                trace.record(t_ms, name, ipsec_trust::trust_shown(&publisher_ipsec, &certs.borrow()));
            }
            for (name, node) in &built.imp {
                let certs = node.borrow().certs();
                trace.record(t_ms, name, ipsec_trust::trust_shown(&publisher_ipsec, &certs.borrow()));
            }
        }
        // Settings the administrator changes on a page, in effect at once.
        Target::PresenceGroup => {
            let Action::SetHighAvailability(enabled) = action else { return Err(not_for("the group")) };
            trace.record(t_ms, &NodeId::PUBLISHER, built.presence_group.set_high_availability(*enabled));
        }
        Target::DeviceTrust => trace.record(t_ms, &NodeId::CAMPUS_SITE, built.trust_push.push()),
        // Made, signed and installed at the step's time: each node records its new tomcat.pem.
        Target::MultiSanTomcat => {
            for (node, event) in built.multi_san_tomcat.install(t_ms).map_err(RunError::Simulation)? {
                trace.record(t_ms, &node, event);
            }
        }
        Target::Network => {
            network::apply(&mut built.sim, &built.hosts, action).map_err(RunError::Simulation)?
        }
        Target::Clock(node) => {
            let Action::Skew { offset_ms, drift_ppm, .. } = action else { return Err(not_for("a clock")) };
            clock::set_skew(node, *offset_ms, *drift_ppm)
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::action::every_action;

    #[test]
    fn every_action_makes_a_step_event_the_catalogue_takes() {
        for action in every_action() {
            let fields = action.step_fields();
            let event =
                Happening::from_fields("step", &fields).unwrap_or_else(|why| panic!("{action:?}: {why}"));
            assert_eq!(event.fields(), fields, "{action:?}");
            assert_eq!(fields["action"], action.name());
        }
    }

    /// Whatever an action's target, its carrier takes it: no step is routed where nothing
    /// carries it out.
    #[test]
    fn every_action_is_taken_by_its_target() {
        let mut sim = turmoil::Builder::new().build();
        let hosts = [NodeId::new("a"), NodeId::new("b")];
        for host in ["a", "b"] {
            sim.host(host, || async {
                std::future::pending::<()>().await;
                Ok(())
            });
        }
        for action in every_action() {
            let taken = match action.target() {
                Target::Publisher => AdminCommand::of(&action).is_some(),
                Target::Console => AdminCall::of(&action).is_some(),
                Target::Node(node) => *node == "a" && NodeCommand::of(&action).is_some(),
                Target::Expressway => EdgeCommand::of(&action).is_some(),
                Target::Unity => UnityCommand::of(&action).is_some(),
                Target::KeyHolders => action == Action::ShowKeys,
                Target::IpsecTrust => action == Action::ShowIpsecTrust,
                Target::PresenceGroup => matches!(action, Action::SetHighAvailability(_)),
                Target::DeviceTrust => action == Action::PushClientTrust,
                Target::MultiSanTomcat => action == Action::InstallCaSignedTomcat,
                Target::Network => network::apply(&mut sim, &hosts, &action).is_ok(),
                Target::Clock(node) => *node == "a" && matches!(action, Action::Skew { .. }),
            };
            assert!(taken, "{action:?} goes to {:?}, which does not take it", action.target());
        }
    }
}
