//! What a person reads after a run: the timeline in words, the checks, the seed and hash.
//!
//! * [`timeline`]: the run's story in words, built as the trace streams.
//! * [`exposure`]: after each revocation, how long access tokens of that session still worked.
//! * [`purges`]: the daily purges, and how long refreshes waited for them.
//! * [`logins`]: how each device signed in (IdP logins, grants, fallbacks), proxy mode's cost.
//! * [`page`]: the timeline as a self-contained HTML page (`--html`).
//! * [`page_files`]: the page and Perfetto files, opened before a run and written whole after.
//! * [`perfetto`]: the trace in the Chrome trace-event format Perfetto opens (`--perfetto`).
//! * [`read_back`]: a trace file's story and checks, without running it (`authzlab report`).
//! * [`run`]: a finished run, as the report reads it.
//! * [`assumptions`]: which of our assumptions (not the documents') the run relied on.

pub mod assumptions;
pub mod exposure;
pub mod logins;
pub mod page;
pub mod page_files;
pub mod perfetto;
pub mod purges;
pub mod read_back;
pub mod run;
pub mod timeline;

use std::fmt::Write as _;

pub use exposure::Exposures;
pub use logins::Logins;
pub use purges::Purges;
pub use timeline::{Timeline, TIMELINE_LINES_MAX};

use crate::check::Report;
use crate::scenario::{format_duration, Scenario};
pub use run::Run;

/// How much of the trace the timeline shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineMode {
    /// Everything unusual, and routine events only where they show a recovery.
    Story,
    /// Every event.
    Full,
    /// No timeline.
    None,
}

/// The whole report of a run.
pub fn render(scenario: &Scenario, run: &Run) -> String {
    let mut out = String::new();
    let clients: u32 = scenario.clients.iter().map(|group| group.count).sum();
    let _ = writeln!(out, "authzlab: {}", scenario.name);
    let _ = writeln!(
        out,
        "  {} · seed {} · {} simulated at {} ticks · {} CallManager subscriber(s), {}{} client(s){}",
        scenario.path.display(),
        run.seed,
        format_duration(scenario.duration),
        format_duration(scenario.tick),
        scenario.cluster.cucm_subscribers,
        scenario
            .cluster
            .imp
            .as_ref()
            .map_or_else(String::new, |imp| format!("{} IM and Presence node(s), ", imp.nodes().len())),
        clients,
        if scenario.cluster.unity_validator.is_some() { ", Unity Connection" } else { "" },
    );
    let _ = writeln!(
        out,
        "  {} release · OAuth with Refresh Login Flow {} at the start · SSO {}",
        match scenario.cluster.release {
            crate::scenario::Release::Old => "old (implicit grant only)".to_string(),
            release => release.name().to_string(),
        },
        if scenario.refresh_login_flow { "Enabled" } else { "Disabled" },
        if scenario.cluster.sso { "on (idp)" } else { "off" },
    );
    if let Some(sip) = &scenario.cluster.sip {
        let _ = writeln!(
            out,
            "  SIP OAuth mode {} at the start · ports {}/{} · device tokens {}{}{}",
            if sip.oauth { "1 (enabled)" } else { "0 (disabled)" },
            sip.phone_oauth_port,
            sip.mra_oauth_port,
            match sip.device_tokens {
                crate::scenario::DeviceTokens::Implicit => "implicit",
                crate::scenario::DeviceTokens::Explicit => "explicit (activation code)",
            },
            scenario.cluster.expressway.as_ref().map_or_else(String::new, |edge| format!(
                " · Expressway-C and -E ({}{}{})",
                edge.san.join(" "),
                if edge.ca_in_tomcat_trust { "" } else { "; its CA not in Tomcat-trust" },
                if edge.trusts_callmanager { "" } else { "; it does not trust CallManager's Tomcat" },
            )),
            sip.proxy_tftp.map_or("", |proxy| if proxy.roots_copied {
                " · phones behind a proxy TFTP (proxy-tftp)"
            } else {
                " · phones behind a proxy TFTP (proxy-tftp; Tomcat roots not copied to its phone-edge-trust)"
            }),
        );
    }
    if !scenario.description.is_empty() {
        let _ = writeln!(out);
        for line in scenario.description.trim().lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
    }
    if run.timeline.mode() != TimelineMode::None {
        let _ = writeln!(out);
        let shown = run.timeline.lines();
        let _ = writeln!(
            out,
            "Timeline ({} of {} events; --timeline full shows all)",
            shown.len() as u64 + run.timeline.omitted(),
            run.trace.events
        );
        for line in shown {
            let _ = writeln!(out, "  {line}");
        }
        if run.timeline.omitted() > 0 {
            let _ = writeln!(
                out,
                "  ... and {} more lines not kept (TIMELINE_LINES_MAX); --trace FILE records every event",
                run.timeline.omitted()
            );
        }
    }
    section(
        &mut out,
        "Revocations (the exposure window: access tokens outlive a revocation)",
        &run.exposures.lines(scenario.epoch_s),
    );
    section(&mut out, "Purges (the daily purge of expired refresh tokens)", &run.purges.lines());
    section(&mut out, "Sign-ins (grant flows, identity-provider logins, proxy mode)", &run.logins.lines());
    let relied_on: Vec<String> = assumptions::relied_on(scenario)
        .into_iter()
        .map(|assumption| format!("- {} [{}]", (assumption.what)(), assumption.lives_in))
        .collect();
    section(
        &mut out,
        "Assumptions this run relied on (ours, not the documents': docs/domain.md, \"Assumptions\")",
        &relied_on,
    );
    let _ = writeln!(out);
    render_checks(&mut out, &run.report);
    let _ = writeln!(out);
    render_verdict(&mut out, scenario, run);
    out
}

/// A titled section of lines, or nothing when there are none.
fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{title}");
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

/// The result line, the certificate, the steps taken and the command that replays the run.
fn render_verdict(out: &mut String, scenario: &Scenario, run: &Run) {
    let verdict = if run.report.passed() { "PASS" } else { "FAIL" };
    let held = run.report.expectations.iter().filter(|o| o.held).count();
    // A negative scenario's named invariants pass by being violated: count them apart, so
    // that "held" never counts a violation or misses an invariant that did hold.
    let as_expected = run.report.invariants.iter().filter(|o| o.held).count();
    let invariants = match scenario.violates.len() {
        0 => format!("{as_expected}/{} invariants held", run.report.invariants.len()),
        named => format!(
            "{as_expected}/{} invariants as the scenario expects ({} held, {named} to be violated)",
            run.report.invariants.len(),
            run.report.invariants.len() - named
        ),
    };
    let anomalies_ok = run.report.anomalies.iter().filter(|o| o.held).count();
    let _ = writeln!(
        out,
        "Result: {verdict}: {held}/{} expectations held, {invariants}, {anomalies_ok}/{} anomaly checks as expected",
        run.report.expectations.len(),
        run.report.anomalies.len(),
    );
    let _ = writeln!(out, "Trace: {} events, sha256 {}", run.trace.events, run.trace.hash);
    let ticks = scenario.duration.as_nanos() / scenario.tick.as_nanos().max(1);
    let _ = writeln!(
        out,
        "Steps: {} of {ticks} ticks stepped{}",
        run.steps,
        if scenario.skip_idle { " (quiet time skipped; --no-skip steps through it, same trace)" } else { "" }
    );
    let _ = writeln!(out, "Replay: authzlab run {} --seed {}", shell_word(&scenario.path), run.seed);
    if scenario.seeds_pinned {
        let _ = writeln!(
            out,
            "Seeds: pinned (`seeds = \"pinned\"`): this verdict is claimed for seed {} alone",
            scenario.seed
        );
    }
}

fn render_checks(out: &mut String, report: &Report) {
    let _ = writeln!(out, "Expectations");
    if report.expectations.is_empty() {
        let _ = writeln!(out, "  (none declared)");
    }
    for outcome in &report.expectations {
        let mark = if outcome.held { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark} {}\n         {}", outcome.name, outcome.detail);
    }
    let _ = writeln!(out, "Invariants");
    for outcome in &report.invariants {
        let mark = if outcome.held { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark} {}: {}", outcome.name, outcome.detail);
    }
    let _ = writeln!(out, "Anomalies (token consistency; a scenario names those it shows by design)");
    for outcome in &report.anomalies {
        let mark = if outcome.held { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark} {}: {}", outcome.name, outcome.detail);
    }
}

/// A path as one word a POSIX shell reads back unchanged: as it is when it holds only
/// characters no shell treats specially, otherwise in single quotes (a `'` inside written
/// `'\''`), so that a printed replay command can be pasted as it stands.
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text;
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}
