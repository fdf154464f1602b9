//! Driving the built cluster: each scenario step delivered at its time to the node that
//! carries it out, turmoil stepped tick by tick, and quiet simulated time skipped
//! (docs/architecture.md "Time").

use super::build::Built;
use super::{
    network_quiet, node_command, push_client_trust, quiet_gap, step_event, Reached, RunError,
    PROGRESS_EVERY_STEPS,
};
use crate::certs::Service;
use crate::clock;
use crate::node::client::console::AdminCall;
use crate::node::edge::expressway_c::EdgeCommand;
use crate::node::publisher::AdminCommand;
use crate::scenario::{Action, Scenario, Step, CAMPUS_SITE, SCENARIO_NODE};
use crate::tokens::client_id_hash;
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
            trace.record(t_ms, SCENARIO_NODE, step_event(&step.action));
            deliver(built, step, t_ms, trace)?;
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
        let touched_sockets = clock::take_network_activity();
        if scenario.skip_idle && !touched_sockets && network_quiet(&built.sim) {
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

/// Hands `step` to whoever carries it out. The driver only routes: what an action means lives
/// in the node that carries it out. The queues hold every step of a scenario
/// (ADMIN_QUEUE_MAX, ADMIN_CALLS_MAX) and their receivers live as long as the simulation.
fn deliver(built: &mut Built<'_>, step: &Step, t_ms: u64, trace: &Trace) -> Result<(), RunError> {
    let admin = |command: AdminCommand| built.admin.try_send(command).map_err(|_| RunError::AdminQueueFull);
    match &step.action {
        Action::RegenerateKey(kind) => admin(AdminCommand::RegenerateKey(*kind))?,
        Action::SetExpiry { timer, value_s } => admin(AdminCommand::SetExpiry(*timer, *value_s))?,
        Action::SetRefreshLoginFlow(enabled) => admin(AdminCommand::SetRefreshLoginFlow(*enabled))?,
        // The parser admits a revoke only for a user with a device, so the campus site and its
        // console exist.
        Action::Revoke { user, device } => built
            .admin_calls
            .try_send(AdminCall::Revoke { user: user.clone(), ccid: device.as_deref().map(client_id_hash) })
            .map_err(|_| RunError::AdminQueueFull)?,
        // A CLI command each node answers at once from its own state, recorded at the step's
        // time (the driver runs between turmoil steps).
        Action::ShowKeys => {
            trace.record(t_ms, "cucm-pub", built.publisher.borrow().show_keys());
            for (name, subscriber) in &built.subscribers {
                trace.record(t_ms, name, subscriber.borrow().show_keys());
            }
            for (name, node) in &built.imp {
                trace.record(t_ms, name, node.borrow().show_keys());
            }
        }
        // Faults act on the network and the hosts, which only the driver holds.
        Action::Partition { a, b, oneway: false } => built.sim.partition(a.as_str(), b.as_str()),
        Action::Partition { a, b, oneway: true } => built.sim.partition_oneway(a.as_str(), b.as_str()),
        Action::Repair { a, b, oneway: false } => built.sim.repair(a.as_str(), b.as_str()),
        Action::Repair { a, b, oneway: true } => built.sim.repair_oneway(a.as_str(), b.as_str()),
        Action::Link { a, b, latency, loss_ppm } => {
            if let Some(latency) = latency {
                built.sim.set_link_latency(a.as_str(), b.as_str(), *latency);
            }
            if let Some(loss_ppm) = loss_ppm {
                built.sim.set_link_fail_rate(a.as_str(), b.as_str(), f64::from(*loss_ppm) / 1e6);
            }
        }
        Action::Crash(node) => built.sim.crash(node.as_str()),
        Action::Restart(node) => built.sim.bounce(node.as_str()),
        Action::Skew { node, offset_ms, drift_ppm } => clock::set_skew(node, *offset_ms, *drift_ppm),
        // The parser admits these only for nodes that take them: key pulls on a subscriber or
        // IM and Presence node, a Tomcat restart on any CallManager or IM and Presence node, the
        // rest on IM and Presence nodes.
        Action::RestartService { node, service: Service::Tomcat } if node == "cucm-pub" => {
            admin(AdminCommand::RestartTomcat)?
        }
        Action::PullKeys { node, .. }
        | Action::RestartService { node, .. }
        | Action::StopService { node, .. }
        | Action::StartService { node, .. }
        | Action::RegenerateCertificate { node, .. }
        | Action::DeleteCertificate { node, .. } => built
            .node_commands
            .get(node)
            .ok_or_else(|| RunError::Simulation(format!("{node} takes no CLI commands")))?
            .try_send(node_command(&step.action))
            .map_err(|_| RunError::AdminQueueFull)?,
        // Settings the administrator changes on a page, in effect at once.
        Action::SetHighAvailability(enabled) => {
            built.high_availability.set(*enabled);
            trace.record(t_ms, "cucm-pub", Happening::HighAvailabilityChanged { enabled: *enabled });
        }
        Action::PushClientTrust => {
            let imp: Vec<_> = built.imp.iter().map(|(_, node)| node.clone()).collect();
            let certificates = push_client_trust(&built.device_trust, &imp, &built.cucm_certs);
            trace.record(t_ms, CAMPUS_SITE, Happening::ClientTrustPushed { certificates });
        }
        Action::SetSipOAuthMode(enabled) => admin(AdminCommand::SetSipOAuthMode(*enabled))?,
        Action::SetSipPorts { node, phone_port, mra_port } => admin(AdminCommand::SetSipPorts {
            node: node.clone(),
            phone_port: *phone_port,
            mra_port: *mra_port,
        })?,
        Action::SetSecurityProfile { digest_authentication, tftp_encrypted_config } => {
            admin(AdminCommand::SetSecurityProfile {
                digest_authentication: *digest_authentication,
                tftp_encrypted_config: *tftp_encrypted_config,
            })?
        }
        Action::RefreshExpressway => {
            built.edge.try_send(EdgeCommand::Refresh).map_err(|_| RunError::AdminQueueFull)?
        }
        Action::ReissueExpresswayCertificate { san } => {
            built.edge.try_send(EdgeCommand::Reissue(san.clone())).map_err(|_| RunError::AdminQueueFull)?
        }
    }
    Ok(())
}
