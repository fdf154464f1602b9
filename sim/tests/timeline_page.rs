//! The timeline page (`--html`), the Perfetto file (`--perfetto`) and `authzlab report`, as
//! an architect uses them: the page is opened in headless Chromium, which must run its
//! script without a console line, show every node's lane and mark the failed check.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{authzlab, chromium, open_in_chromium, scratch, text, write};
use serde_json::Value;

const PADDED: &str = "tests/fixtures/padded-failure.toml";
const FAILED_CHECK: &str = "no_token_lifetime_out_of_bounds";

/// The nodes a trace file's events happened on.
fn nodes_of(trace: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(trace)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["node"].as_str().unwrap().to_string())
        .collect()
}

/// Opens `page` in Chromium (when there is one) and checks what every page must show.
fn assert_page_opens(page: &Path, nodes: &BTreeSet<String>, failed: Option<&str>) {
    let Some(chromium) = chromium() else { return };
    let (dom, console) = open_in_chromium(&chromium, page);
    assert!(console.is_empty(), "the page logged to the console: {console:#?}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(!dom.contains("data-errors"), "the page caught an error");
    for node in nodes {
        assert!(dom.contains(&format!("data-node=\"{node}\"")), "no lane for {node}");
    }
    assert_eq!(dom.matches("data-node=\"").count(), nodes.len(), "one lane per node, no more");
    match failed {
        Some(check) => assert!(
            dom.contains(&format!("data-check=\"{check}\"")) && dom.contains("class=\"failure-marker"),
            "no failure marker for {check}"
        ),
        None => assert!(!dom.contains("class=\"failure-marker"), "a marker on a page without checks"),
    }
}

#[test]
fn a_failing_run_s_page_shows_every_node_and_marks_the_failed_check_in_chromium() {
    let (trace, page, perfetto) = (scratch("padded.jsonl"), scratch("padded.html"), scratch("padded.json"));
    let output = authzlab(&[
        "run",
        PADDED,
        "--trace",
        trace.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--perfetto",
        perfetto.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}{}", text(&output.stdout), text(&output.stderr));
    let nodes = nodes_of(&trace);
    assert!(nodes.len() >= 9, "{nodes:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the page fetches nothing");
    assert!(!html.contains("eyJ"), "no raw token on the page");
    assert_page_opens(&page, &nodes, Some(FAILED_CHECK));

    // The Perfetto file: a thread per node, a slice per event, every flow both ends.
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&perfetto).unwrap()).unwrap();
    let records = json["traceEvents"].as_array().unwrap();
    let threads: BTreeSet<&str> = records
        .iter()
        .filter(|r| r["ph"] == "M" && r["name"] == "thread_name")
        .map(|r| r["args"]["name"].as_str().unwrap())
        .collect();
    for node in &nodes {
        assert!(threads.contains(node.as_str()), "no Perfetto thread for {node}");
    }
    let events = std::fs::read_to_string(&trace).unwrap().lines().count() - 1;
    let slices = records
        .iter()
        .filter(|r| {
            r["ph"] == "X" && r["cat"] == "event" && !r["name"].as_str().unwrap().starts_with(['→', '←'])
        })
        .count();
    assert_eq!(slices, events, "one slice per trace event");
    let ends = |phase: &str| -> BTreeSet<u64> {
        records.iter().filter(|r| r["ph"] == phase).map(|r| r["id"].as_u64().unwrap()).collect()
    };
    assert!(!ends("s").is_empty(), "messages become flows");
    assert_eq!(ends("s"), ends("f"), "every flow has both ends");
    assert!(
        records.iter().any(|r| r["cat"] == "key" && r["name"].as_str().unwrap().starts_with("encryption ")),
        "the encryption key's epochs are slices"
    );
}

/// `authzlab report` renders a trace someone sent without running it: the story and the
/// checks from the events, the expectations from the scenario the header names while it is
/// unchanged; when it changed, the page says the checks were not evaluated.
#[test]
fn report_renders_a_trace_without_running_it_and_says_when_it_cannot_judge() {
    // A scenario whose name would end the page's script if it were not escaped.
    let hostile = std::fs::read_to_string(common::repo().join(PADDED)).unwrap().replace(
        "name = \"padded:",
        "name = \"</script><script>document.body.dataset.errors='x'</script> padded:",
    );
    let scenario = write("sent.toml", &hostile);
    let trace = scratch("sent.jsonl");
    let output = authzlab(&[
        "run",
        scenario.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--timeline",
        "none",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));

    let page = scratch("sent.html");
    let output = authzlab(&["report", trace.to_str().unwrap(), "--html", page.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "a failed check is exit 1: {stdout}{}", text(&output.stderr));
    assert!(stdout.contains(&format!("FAILED {FAILED_CHECK}: cucm-pub at 00:45:00.400")), "{stdout}");
    assert!(stdout.contains("cucm-pub's clock is set 1d ahead"), "the story: {stdout}");
    assert_page_opens(&page, &nodes_of(&trace), Some(FAILED_CHECK));

    std::fs::write(&scenario, hostile.replace("duration = \"4h\"", "duration = \"5h\"")).unwrap();
    let output = authzlab(&["report", trace.to_str().unwrap(), "--html", page.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("checks not evaluated:") && stdout.contains("changed since the trace was recorded"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(std::fs::read_to_string(&page).unwrap().contains("checks not evaluated"));
    assert_page_opens(&page, &nodes_of(&trace), None);
}

/// Forty nodes and over ten thousand events: the page still loads cleanly with every lane.
#[test]
fn a_page_of_forty_nodes_and_ten_thousand_events_opens_cleanly() {
    let scenario = write(
        "forty.toml",
        r#"
name = "forty nodes"
seed = 3
duration = "13h"

[cluster]
cucm_subscribers = 4
imp = { subscribers = 2 }
unity = { validator = "unity-connection" }

[params]
refresh_login_flow = true
access_token_expiry = "10m"

[[clients]]
kind = "jabber"
count = 30

[[step]]
at = "3h"
action = "regenerate-key"
key = "signing"

[[step]]
at = "6h"
action = "regenerate-certificate"
certificate = "cup-xmpp"
node = "imp-pub"
"#,
    );
    let (trace, page) = (scratch("forty.jsonl"), scratch("forty.html"));
    let output = authzlab(&[
        "run",
        scenario.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--timeline",
        "none",
    ]);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{}", text(&output.stderr));
    let nodes = nodes_of(&trace);
    assert_eq!(nodes.len(), 40, "{nodes:?}");
    let events = std::fs::read_to_string(&trace).unwrap().lines().count() - 1;
    assert!(events >= 10_000, "{events} events");
    let Some(chromium) = chromium() else { return };
    let (dom, console) = open_in_chromium(&chromium, &page);
    assert!(console.is_empty(), "{console:#?}");
    assert!(dom.contains("data-ready=\"1\"") && dom.contains("data-lanes=\"40\""));
    assert_eq!(dom.matches("data-node=\"").count(), 40);
}

/// The page is written whole or not at all, and a destination that cannot take it is
/// refused before the run.
#[test]
fn a_page_that_cannot_be_written_is_refused_before_the_run() {
    let directory = scratch("a-directory");
    std::fs::create_dir_all(&directory).unwrap();
    let output = authzlab(&["run", PADDED, "--html", directory.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("cannot write the page there: it is a directory"), "{stderr}");
    assert!(!text(&output.stdout).contains("Result:"), "refused before running");
}
