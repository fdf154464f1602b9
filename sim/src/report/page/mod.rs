//! The timeline page (`--html`): one self-contained HTML file a person opens in a browser,
//! with one lane per node, messages as arrows between lanes, key epochs and certificate
//! changes as bands, failures and anomalies marked, and the story beside it.
//!
//! [`PageData`] is an observer like the others: it keeps what the page shows as the trace
//! streams, bounded by [`PAGE_EVENTS_MAX`], and [`render`] writes the page from it. The page
//! carries its data as JSON and draws itself with its own script (`page.js`, `page.css`,
//! embedded at build time): nothing is fetched, so it opens from a mail attachment or a CI
//! artifact as well as from disk.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::check::offences::Watch;
use crate::check::{Checks, Report};
use crate::report::{Timeline, TimelineMode};
use crate::trace::catalogue::{EventSpec, Role};
use crate::trace::{Event, Happening, Observe};

/// Events the page draws. Past it, routine events are counted, not kept; the others are
/// kept up to twice as many, so that trouble late in a long run still shows.
pub const PAGE_EVENTS_MAX: usize = 20_000;

/// Lanes (nodes) a page has room for; the largest cluster has far fewer.
pub const PAGE_LANES_MAX: usize = 256;

/// Fields that name the other party of an event: the sender of what the event received
/// (an arrow from that lane to the event's) or, for `to`/`target`, its receiver.
const FROM_FIELDS: [&str; 5] = ["from", "client", "peer", "host", "primary"];
const TO_FIELDS: [&str; 2] = ["to", "target"];

/// What a page is about: written at its top.
#[derive(Clone, Debug, Serialize)]
pub struct PageTitle {
    pub scenario: String,
    pub name: String,
    pub seed: u64,
    /// The trace's SHA-256, when known (a run's; a trace file read back carries none).
    pub sha256: Option<String>,
}

/// One event as the page draws it.
#[derive(Clone, Debug, Serialize)]
struct Mark {
    t: u64,
    lane: u32,
    kind: String,
    /// `step`, `setup`, `routine` or `notable` (everything else: what the story tells).
    class: &'static str,
    /// The other party and the arrow's direction (`true`: from it to this lane).
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<(String, bool)>,
    /// The event in words.
    text: String,
    /// Its index among the story's lines, when the story tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<usize>,
}

/// A stretch of time under one key, or the moment a certificate changed.
#[derive(Clone, Debug, Serialize)]
struct Band {
    t: u64,
    /// `signing`, `encryption` or `certificate`.
    what: String,
    label: String,
    lane: u32,
}

/// A failed check (or one that failed as the scenario expects) where it first failed.
#[derive(Clone, Debug, Serialize)]
struct Marker {
    check: String,
    detail: String,
    t: Option<u64>,
    lane: Option<u32>,
    /// Failed as the scenario says it must (`violates`, `anomalies`): shown, not alarming.
    expected: bool,
}

/// What the page shows, kept as the trace streams.
pub struct PageData {
    lanes: Vec<String>,
    lane_of: BTreeMap<String, u32>,
    marks: Vec<Mark>,
    /// Events not drawn (past [`PAGE_EVENTS_MAX`]).
    omitted: u64,
    story: Timeline,
    bands: Vec<Band>,
    /// The checks, observed again to find where each first failed.
    checks: Option<Watch>,
    end_ms: u64,
}

impl PageData {
    /// A page that marks where the checks of `checks` first failed, if given.
    pub fn new(checks: Option<Checks>) -> PageData {
        PageData {
            lanes: Vec::new(),
            lane_of: BTreeMap::new(),
            marks: Vec::new(),
            omitted: 0,
            story: Timeline::new(TimelineMode::Story),
            bands: Vec::new(),
            checks: checks.map(Watch::new),
            end_ms: 0,
        }
    }

    /// What the watched checks say so far, if this page watches checks.
    pub fn report(&self) -> Option<Report> {
        self.checks.as_ref().map(|watch| watch.checks().report())
    }

    fn lane(&mut self, node: &str) -> Option<u32> {
        if let Some(lane) = self.lane_of.get(node) {
            return Some(*lane);
        }
        if self.lanes.len() >= PAGE_LANES_MAX {
            return None;
        }
        let lane = self.lanes.len() as u32;
        self.lanes.push(node.to_string());
        self.lane_of.insert(node.to_string(), lane);
        Some(lane)
    }
}

fn class_of(event: &Event) -> &'static str {
    if event.kind == "step" {
        "step"
    } else if EventSpec::kind_plays(&event.kind, Role::Setup) {
        "setup"
    } else if EventSpec::kind_plays(&event.kind, Role::Routine) {
        "routine"
    } else {
        "notable"
    }
}

/// The other party an event names, and whether the arrow comes from it.
pub fn peer_of(event: &Event) -> Option<(String, bool)> {
    let text = |name: &str| match event.fields.get(name) {
        Some(Value::String(text)) if !text.is_empty() && *text != event.node => Some(text.clone()),
        _ => None,
    };
    FROM_FIELDS
        .iter()
        .find_map(|name| text(name).map(|peer| (peer, true)))
        .or_else(|| TO_FIELDS.iter().find_map(|name| text(name).map(|peer| (peer, false))))
}

impl Observe for PageData {
    fn observe(&mut self, event: &Event, happening: &Happening, line: &str) {
        self.end_ms = self.end_ms.max(event.t_ms);
        let told = self.story.lines().len();
        self.story.observe(event, happening, line);
        let story = (self.story.lines().len() > told).then_some(told);
        if let Some(watch) = &mut self.checks {
            watch.observe(event, happening, line);
        }
        let Some(lane) = self.lane(&event.node) else {
            self.omitted += 1;
            return;
        };
        let band = match event.kind.as_str() {
            "key-regenerated" => Some((
                event.field_text("key").unwrap_or_default(),
                event.field_text("checksum").unwrap_or_default().chars().take(8).collect::<String>(),
            )),
            "certificate-regenerated" | "expressway-certificate-reissued" => Some((
                "certificate".to_string(),
                format!(
                    "{} on {}",
                    event.field_text("certificate").unwrap_or_else(|| "certificate".to_string()),
                    event.node
                ),
            )),
            _ => None,
        };
        if let Some((what, label)) = band {
            if self.bands.len() < PAGE_EVENTS_MAX {
                self.bands.push(Band { t: event.t_ms, what, label, lane });
            }
        }
        let class = class_of(event);
        let room = match class {
            "routine" => PAGE_EVENTS_MAX,
            _ => 2 * PAGE_EVENTS_MAX,
        };
        if self.marks.len() >= room {
            self.omitted += 1;
            return;
        }
        self.marks.push(Mark {
            t: event.t_ms,
            lane,
            kind: event.kind.clone(),
            class,
            peer: peer_of(event),
            text: event.sentence(),
            story,
        });
    }

    fn learn_secrets(&mut self, forms: &[String]) {
        if let Some(watch) = &mut self.checks {
            watch.learn_secrets(forms);
        }
    }

    fn learn_token(&mut self, token: &str) {
        if let Some(watch) = &mut self.checks {
            watch.learn_token(token);
        }
    }
}

/// Everything the page's script reads, as one JSON object.
#[derive(Serialize)]
struct Data<'a> {
    title: &'a PageTitle,
    end: u64,
    lanes: &'a [String],
    events: &'a [Mark],
    omitted: u64,
    story: &'a [String],
    story_omitted: u64,
    bands: &'a [Band],
    markers: Vec<Marker>,
    /// Why there are no check markers, when there are none to show.
    checks_note: Option<&'a str>,
    passed: Option<bool>,
}

/// The page, whole: HTML with its style, script and data inside. `report` is the run's
/// verdict (its `violates` applied) with the checks the scenario expects to fail
/// (`violates`, `anomalies`); `checks_note` says why there is none.
pub fn render(
    page: &PageData,
    title: &PageTitle,
    report: Option<(&Report, &[String])>,
    checks_note: Option<&str>,
) -> String {
    let data = Data {
        title,
        end: page.end_ms,
        lanes: &page.lanes,
        events: &page.marks,
        omitted: page.omitted,
        story: page.story.lines(),
        story_omitted: page.story.omitted(),
        bands: &page.bands,
        markers: report.map(|(report, expected)| markers(page, report, expected)).unwrap_or_default(),
        checks_note,
        passed: report.map(|(report, _)| report.passed()),
    };
    // `</` inside a script element would end it: JSON allows `<\/` for it.
    let json = serde_json::to_string(&data).expect("page data serializes").replace("</", "<\\/");
    let heading = escape(&format!("{} · seed {}", title.name, title.seed));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>authzlab: {heading}</title>\n\
         <style>\n{}</style>\n</head>\n<body>\n<script id=\"data\" type=\"application/json\">{json}</script>\n\
         <script>\n{}</script>\n</body>\n</html>\n",
        include_str!("page.css"),
        include_str!("page.js"),
    )
}

/// Each failed check (or expected violation) with where it first failed: invariants and
/// anomalies where this page saw them flip, expectations at their evidence.
fn markers(page: &PageData, report: &Report, expected: &[String]) -> Vec<Marker> {
    let offences = page.checks.as_ref().map(|watch| watch.offences.found.as_slice()).unwrap_or_default();
    let evidence: BTreeMap<String, Option<u64>> = page
        .checks
        .as_ref()
        .map(|watch| watch.checks().expectation_evidence().map(|(outcome, t)| (outcome.name, t)).collect())
        .unwrap_or_default();
    let expected_names: Vec<&str> = report
        .invariants
        .iter()
        .chain(&report.anomalies)
        .filter(|outcome| outcome.held && expected.contains(&outcome.name))
        .map(|outcome| outcome.name.as_str())
        .collect();
    let mut markers = Vec::new();
    for outcome in report.failures() {
        let offence = offences.iter().find(|offence| offence.check == outcome.name);
        markers.push(Marker {
            check: outcome.name.clone(),
            detail: outcome.detail.clone(),
            t: offence.map(|offence| offence.t_ms).or_else(|| evidence.get(&outcome.name).copied().flatten()),
            lane: offence.and_then(|offence| page.lane_of.get(&offence.node).copied()),
            expected: false,
        });
    }
    for name in expected_names {
        if let Some(offence) = offences.iter().find(|offence| offence.check == name) {
            let detail = report
                .invariants
                .iter()
                .chain(&report.anomalies)
                .find(|outcome| outcome.name == name)
                .map(|outcome| outcome.detail.clone())
                .unwrap_or_default();
            markers.push(Marker {
                check: name.to_string(),
                detail,
                t: Some(offence.t_ms),
                lane: page.lane_of.get(&offence.node).copied(),
                expected: true,
            });
        }
    }
    markers
}

/// Text for HTML outside the data (the data is JSON and escaped as such).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::hand_made::recorded;

    #[test]
    fn an_event_naming_another_node_is_an_arrow_in_the_right_direction() {
        let fetched = recorded(0, "unity", "keys-fetched", &[("from", "cucm-pub".into())]);
        assert_eq!(peer_of(&fetched), Some(("cucm-pub".to_string(), true)), "from the publisher to unity");
        let served = recorded(0, "cucm-pub", "keys-served", &[("to", "unity".into())]);
        assert_eq!(peer_of(&served), Some(("unity".to_string(), false)), "from the publisher to unity");
        let alone = recorded(0, "cucm-pub", "key-regenerated", &[("key", "signing".into())]);
        assert_eq!(peer_of(&alone), None);
    }

    /// Whatever a name or a field holds, the data cannot end the page's script element.
    #[test]
    fn the_page_s_data_cannot_close_its_script() {
        let mut page = PageData::new(None);
        let event = recorded(0, "cucm-pub", "admin-call-failed", &[("reason", "</script><b>".into())]);
        page.observe(&event, &crate::check::hand_made::happening(&event), &event.to_line());
        let title = PageTitle {
            scenario: "s.toml".to_string(),
            name: "</script>".to_string(),
            seed: 1,
            sha256: None,
        };
        let html = render(&page, &title, None, None);
        assert_eq!(html.matches("</script>").count(), 2, "only the page's own two script elements end");
        assert!(html.contains("<title>authzlab: &lt;/script&gt; · seed 1</title>"));
    }
}
