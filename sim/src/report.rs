//! What a person reads after a run: the timeline in words, the checks, the seed and hash.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::check::Report;
use crate::clock::format_elapsed;
use crate::cluster::Run;
use crate::scenario::{format_duration, Scenario};
use crate::trace::catalogue::{EventSpec, Role};
use crate::trace::{Event, Observe};

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

/// Timeline lines a run keeps. Past it, the timeline says how many more it left out: the
/// full trace is `--trace FILE`'s job, and a report must not grow with the run.
pub const TIMELINE_LINES_MAX: usize = 10_000;

/// The timeline, built as the trace streams: it keeps only the lines it will print and, for
/// the story, which (event, party) pairs are currently quiet (bounded by the cluster's size).
#[derive(Clone, Debug)]
pub struct Timeline {
    mode: TimelineMode,
    lines: Vec<String>,
    /// Lines the mode would show that did not fit under [`TIMELINE_LINES_MAX`].
    omitted: u64,
    /// (kind, who) pairs shown since that party's last trouble; routine events are shown once
    /// per pair, and again after trouble, so recoveries appear and steady state does not.
    quiet: BTreeSet<(String, String)>,
}

impl Timeline {
    pub fn new(mode: TimelineMode) -> Timeline {
        Timeline { mode, lines: Vec::new(), omitted: 0, quiet: BTreeSet::new() }
    }

    /// `hh:mm:ss.mmm  node  what happened`, one per event shown.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn mode(&self) -> TimelineMode {
        self.mode
    }

    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    fn shows(&mut self, event: &Event) -> bool {
        let who = event.field_text("client").unwrap_or_else(|| event.node.clone());
        match self.mode {
            TimelineMode::Full => true,
            TimelineMode::None => false,
            TimelineMode::Story if EventSpec::kind_plays(&event.kind, Role::Routine) => {
                self.quiet.insert((event.kind.clone(), who))
            }
            TimelineMode::Story => {
                if event.node.starts_with("cucm-pub") || event.node == "scenario" {
                    self.quiet.clear();
                } else {
                    self.quiet.retain(|(_, party)| party != &who && party != &event.node);
                }
                true
            }
        }
    }
}

impl Observe for Timeline {
    fn observe(&mut self, event: &Event, _line: &str) {
        if !self.shows(event) {
            return;
        }
        if self.lines.len() >= TIMELINE_LINES_MAX {
            self.omitted += 1;
            return;
        }
        self.lines.push(format!("{}  {:<11} {}", format_elapsed(event.t_ms), event.node, narrate(event)));
    }
}

/// The whole report of a run.
pub fn render(scenario: &Scenario, run: &Run) -> String {
    let mut out = String::new();
    let clients: u32 = scenario.clients.iter().map(|group| group.count).sum();
    let _ = writeln!(out, "authzlab: {}", scenario.name);
    let _ = writeln!(
        out,
        "  {} · seed {} · {} simulated at {} ticks · {} CallManager subscriber(s), {} client(s){}",
        scenario.path.display(),
        run.seed,
        format_duration(scenario.duration),
        format_duration(scenario.tick),
        scenario.cluster.cucm_subscribers,
        clients,
        if scenario.cluster.unity_validator.is_some() { ", Unity Connection" } else { "" },
    );
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
    let _ = writeln!(out);
    render_checks(&mut out, &run.report);
    let _ = writeln!(out);
    let verdict = if run.report.passed() { "PASS" } else { "FAIL" };
    let held = run.report.expectations.iter().filter(|o| o.held).count();
    let invariants_held = run.report.invariants.iter().filter(|o| o.held).count();
    let _ = writeln!(
        out,
        "Result: {verdict}: {held}/{} expectations and {invariants_held}/{} invariants held",
        run.report.expectations.len(),
        run.report.invariants.len()
    );
    let _ = writeln!(out, "Trace: {} events, sha256 {}", run.trace.events, run.trace.hash);
    let ticks = scenario.duration.as_nanos() / scenario.tick.as_nanos().max(1);
    let _ = writeln!(
        out,
        "Steps: {} of {ticks} ticks stepped{}",
        run.steps,
        if scenario.skip_idle { " (quiet time skipped; --no-skip steps through it, same trace)" } else { "" }
    );
    let _ = writeln!(out, "Replay: authzlab run {} --seed {}", scenario.path.display(), run.seed);
    out
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
}

/// One event in words a voice engineer reads.
pub fn narrate(event: &Event) -> String {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    // Checksums and token ids by their first 8 characters, as people quote them.
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    // Why a token was refused, and which key it names when that is the reason.
    let refusal = || format!("{}{}", explain(&f("reason")), names_key(event));
    match event.kind.as_str() {
        "step" => match f("action").as_str() {
            "regenerate-key" => {
                format!("administrator runs `set key regen authz {}` on the publisher", f("key"))
            }
            other => format!("scenario step {other}"),
        },
        "key-regenerated" => format!(
            "{} key regenerated: checksum {} (was {}); every access token issued so far is now invalid",
            f("key"),
            short("checksum"),
            short("previous")
        ),
        "keys-synced" => format!(
            "received the keys from the publisher: signing {}, encryption {}",
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-fetched" => format!(
            "fetched the keys from its Authz server {} ({}): signing {}, encryption {}",
            f("from"),
            f("cause"),
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-served" => format!("served the keys to {}", f("to")),
        "key-sync-failed" => {
            format!("could not push the keys to {} after {} attempts", f("to"), f("attempts"))
        }
        "key-fetch-failed" => format!("could not fetch the keys from {}: {}", f("from"), f("reason")),
        "tokens-issued" => format!(
            "signed in {} on {}: access token {}, refresh token {}",
            f("user"),
            f("client"),
            short("access_tid"),
            short("refresh_tid")
        ),
        "access-token-refreshed" => format!(
            "new access token {} for {} on {} (refresh token {})",
            short("access_tid"),
            f("user"),
            f("client"),
            short("refresh_tid")
        ),
        "refresh-rejected" => format!("refused the refresh token of {}: {}", f("client"), refusal()),
        "logged-in" => format!("signed in as {} (access token {})", f("user"), short("access_tid")),
        "login-failed" => format!("sign-in failed: {}", f("reason")),
        "token-refreshed" => format!("refreshed its access token (now {})", short("access_tid")),
        "refresh-failed" => format!("logs \"{}\" ({})", f("message"), f("reason")),
        "uds-request-accepted" => format!("accepted the token of {} ({}) on UDS", f("client"), f("user")),
        "uds-request-rejected" => format!("refused the token of {} on UDS: {}", f("client"), refusal()),
        "uds-failed" => format!("UDS refused its token: {}", f("reason")),
        "voicemail-login-accepted" => format!("voicemail login of {} on {} accepted", f("user"), f("client")),
        "voicemail-login-rejected" => format!("voicemail login from {} refused: {}", f("client"), refusal()),
        "voicemail-login-failed" => {
            format!("voicemail refused its token (attempt {}): {}", f("attempt"), f("reason"))
        }
        "voicemail-unreachable" => format!("cannot reach voicemail: {}", f("reason")),
        _ => {
            let fields: Vec<String> = event.fields.keys().map(|name| format!("{name}={}", f(name))).collect();
            format!("{} {}", event.kind, fields.join(" "))
        }
    }
}

/// `; the token names key 12548676` when a refusal carries the token's `kid`.
fn names_key(event: &Event) -> String {
    match event.field_text("kid").as_deref().and_then(|kid| kid.rsplit_once(':')) {
        Some((_, checksum)) => format!("; the token names key {}", &checksum[..checksum.len().min(8)]),
        None => String::new(),
    }
}

/// A rejection reason, with what it means for the people involved.
fn explain(reason: &str) -> String {
    let meaning = match reason {
        "unknown-signing-key" => "the token is signed with a key this node does not hold",
        "unknown-encryption-key" => "the token is encrypted with a key this node does not hold",
        "bad-signature" => "the signature does not match",
        "decryption-failed" => "the token's claims do not decrypt",
        "expired" => "the token has expired",
        "not-yet-valid" => "the token is from the future (clock skew?)",
        "wrong-issuer" => "the token comes from another cluster",
        "wrong-token-type" => "a refresh token was offered as an access token, or the reverse",
        "malformed" => "not a token of the expected shape",
        "unsupported-algorithm" => "an algorithm other than the pinned one",
        "revoked" => "an administrator revoked it",
        "not-in-table" => "AuthZ has no record of this refresh token",
        "plugin-fault" => "the validator plugin failed",
        "no-keys-or-token" => "no keys yet, or no token presented",
        _ => return reason.to_string(),
    };
    format!("{reason} ({meaning})")
}
