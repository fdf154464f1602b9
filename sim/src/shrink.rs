//! `authzlab shrink SCENARIO --seed N`: the smallest scenario that still fails the same way.
//!
//! The failure's cause is the check that failed (the first one, or `--check`), as a sweep
//! groups causes. The shrinker removes what it can while that check keeps failing with the
//! same seed: steps, expectations, client groups, clients within a group, CallManager
//! subscribers, cluster parts, parameters, and simulated time (first cut to just after the
//! failure, then halved); and it makes times simpler (a step's `at`, a group's `start`,
//! halved). Each try is a whole run; a try the parser refuses (a step naming a
//! client that went) is simply not taken. It works on the file's TOML, so the result is a
//! scenario file like any other, run with `authzlab run`.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use authzlab_host::PluginHost;
use toml::{Table, Value};

use crate::check::offences::Watch;
use crate::check::Checks;
use crate::cluster::{self, RunOptions};
use crate::report::TimelineMode;
use crate::scenario::{format_duration, parse_duration, Scenario};

/// Runs one shrink may make; past it, the smallest scenario found so far is the answer.
pub const SHRINK_RUNS_MAX: u64 = 400;

/// The smallest failing scenario found, and how it was found.
#[derive(Debug)]
pub struct Shrunk {
    /// The scenario file's text, headed by comments that say where it came from.
    pub text: String,
    /// What was taken out, in words, in the order it went.
    pub removed: Vec<String>,
    /// The check that keeps failing, and its detail in the smallest scenario.
    pub check: String,
    pub detail: String,
    pub runs: u64,
    /// Events of the original run and of the smallest.
    pub events: (u64, u64),
}

/// A check's name without the line an expectation was written on (`line 12: ...`), which
/// moves as the file shrinks.
fn cause(name: &str) -> &str {
    match name.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(name, |(_, expectation)| expectation),
        None => name,
    }
}

/// How one try went: the target still fails (with when it first failed, and the run's size).
struct Failing {
    detail: String,
    first_ms: Option<u64>,
    events: u64,
}

struct Shrinker<'a> {
    path: &'a Path,
    seed: u64,
    target: String,
    plugins: &'a PluginHost,
    runs: u64,
}

impl Shrinker<'_> {
    /// Whether `document` still fails the target check.
    fn fails(&mut self, document: &Table) -> Option<Failing> {
        if self.runs >= SHRINK_RUNS_MAX {
            return None;
        }
        self.runs += 1;
        let text = toml::to_string(document).ok()?;
        let scenario = Scenario::parse(&text, self.path).ok()?;
        run_for(&scenario, self.seed, self.plugins, &self.target)
    }
}

/// Runs `scenario` and says whether `target` failed in it.
fn run_for(scenario: &Scenario, seed: u64, plugins: &PluginHost, target: &str) -> Option<Failing> {
    let watch = Rc::new(RefCell::new(Watch::new(Checks::new(scenario))));
    let options = RunOptions {
        timeline: TimelineMode::None,
        observers: vec![Box::new(watch.clone())],
        ..RunOptions::default()
    };
    let run = cluster::run_with(scenario, seed, plugins, options).ok()?;
    let failure = run.report.failures().find(|outcome| cause(&outcome.name) == target)?;
    let first_ms = watch.borrow().offences.found.iter().find(|o| cause(&o.check) == target).map(|o| o.t_ms);
    Some(Failing { detail: failure.detail.clone(), first_ms, events: run.trace.events })
}

/// Shrinks the scenario at `path` failing with `seed`, keeping `check` failing (by default
/// the first check that fails).
pub fn shrink(path: &Path, seed: u64, check: Option<&str>, plugins: &PluginHost) -> Result<Shrunk, String> {
    let text = Scenario::read_text(path).map_err(|e| e.to_string())?;
    let scenario = Scenario::parse(&text, path).map_err(|e| e.to_string())?;
    let run = cluster::run(&scenario, seed, plugins).map_err(|e| format!("{}: {e}", path.display()))?;
    let failures: Vec<String> =
        run.report.failures().map(|outcome| cause(&outcome.name).to_string()).collect();
    let target = match check {
        Some(check) if failures.iter().any(|name| name == cause(check)) => cause(check).to_string(),
        Some(check) => {
            return Err(format!(
                "{}: {check} does not fail with seed {seed} (failing: {})",
                path.display(),
                if failures.is_empty() { "none".to_string() } else { failures.join(", ") }
            ))
        }
        None => failures.first().cloned().ok_or_else(|| {
            format!("{}: every check held with seed {seed}: nothing to shrink", path.display())
        })?,
    };
    let mut document: Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    document.insert("seed".to_string(), Value::Integer(seed as i64));
    let mut shrinker = Shrinker { path, seed, target: target.clone(), plugins, runs: 1 };
    let mut last = shrinker.fails(&document).ok_or_else(|| {
        format!("{}: the failure of {target} did not survive writing the file back", path.display())
    })?;
    let mut removed = Vec::new();
    // Reductions that lost the failure, by what they remove: not tried again once the file
    // has shrunk further (a greedy shrinker's usual bet, which keeps the runs few).
    let mut refused = std::collections::BTreeSet::new();
    'shrinking: while shrinker.runs < SHRINK_RUNS_MAX {
        for candidate in candidates(&document, last.first_ms) {
            if refused.contains(&candidate.key) {
                continue;
            }
            match shrinker.fails(&candidate.document) {
                Some(failing) => {
                    document = candidate.document;
                    match removed.last().and_then(|last: &String| merged(last, &candidate.what)) {
                        Some(both) => *removed.last_mut().expect("just seen") = both,
                        None => removed.push(candidate.what),
                    }
                    last = failing;
                    continue 'shrinking;
                }
                // Time is tried again as the file shrinks: a cut refused because a step fell
                // past the end may fit once that step has gone.
                None if candidate.key.starts_with("duration ") => {}
                None => {
                    refused.insert(candidate.key);
                }
            }
        }
        break;
    }
    document.retain(|_, value| !matches!(value, Value::Table(table) if table.is_empty()));
    let header = format!(
        "# Shrunk by `authzlab shrink {} --seed {seed}` in {} run(s): the smallest scenario found\n\
         # in which `{target}` still fails. Removed:\n{}#\n",
        path.display(),
        shrinker.runs,
        removed.iter().map(|what| format!("#   - {what}\n")).collect::<String>()
    );
    let body = toml::to_string(&document).map_err(|e| e.to_string())?;
    Ok(Shrunk {
        text: format!("{header}\n{body}"),
        removed,
        check: target,
        detail: last.detail,
        runs: shrinker.runs,
        events: (run.trace.events, last.events),
    })
}

/// Two changes of one value in a row, as one: `x from A to B` then `x from B to C` read
/// `x from A to C`.
fn merged(last: &str, next: &str) -> Option<String> {
    let split = |change: &str| {
        let (subject, rest) = change.rsplit_once(" from ")?;
        let (from, to) = rest.rsplit_once(" to ")?;
        Some((subject.to_string(), from.to_string(), to.to_string()))
    };
    let ((subject, from, middle), (next_subject, next_from, to)) = (split(last)?, split(next)?);
    (subject == next_subject && middle == next_from).then(|| format!("{subject} from {from} to {to}"))
}

/// One smaller scenario to try, and what it leaves out (`what`, for people; `key`, the same
/// without positions, which shift as entries go).
struct Candidate {
    document: Table,
    what: String,
    key: String,
}

/// The reductions of `document` worth trying now: entries first, then counts and settings,
/// then time (which fits only once the later steps have gone).
fn candidates(document: &Table, first_ms: Option<u64>) -> Vec<Candidate> {
    let mut reductions = Reductions { document, out: Vec::new() };
    reductions.entries();
    reductions.times();
    reductions.counts();
    reductions.settings();
    reductions.duration(first_ms);
    reductions.out
}

/// The candidates being gathered for one document.
struct Reductions<'a> {
    document: &'a Table,
    out: Vec<Candidate>,
}

/// The arrays of tables the shrinker takes entries from, and what one entry is called.
const ENTRIES: [(&str, &str); 3] = [("step", "step"), ("clients", "client group"), ("expect", "expectation")];

impl Reductions<'_> {
    /// A copy of the document with `change` made, to try as `what`.
    fn push(&mut self, change: impl Fn(&mut Table), what: String, key: String) {
        let mut copy = self.document.clone();
        change(&mut copy);
        self.out.push(Candidate { document: copy, what, key });
    }

    /// Whole entries of the arrays of tables, the last first (later steps depend on earlier).
    fn entries(&mut self) {
        for (array, noun) in ENTRIES {
            let Some(Value::Array(items)) = self.document.get(array) else { continue };
            for index in (0..items.len()).rev() {
                let what = format!("{noun} {} ({})", index + 1, sketch(&items[index]));
                let key = format!("{noun} ({})", sketch(&items[index]));
                self.push(
                    |d| {
                        if let Some(Value::Array(items)) = d.get_mut(array) {
                            items.remove(index);
                            if items.is_empty() {
                                d.remove(array);
                            }
                        }
                    },
                    what,
                    key,
                );
            }
        }
    }

    /// Simpler values: each time a step or client group names (its `at`, `start`, an
    /// `offset`) at one second, else halved, in whole seconds, so what matters happens sooner.
    fn times(&mut self) {
        for (array, noun) in &ENTRIES[..2] {
            let Some(Value::Array(items)) = self.document.get(*array) else { continue };
            for (index, item) in items.iter().enumerate() {
                let Some(fields) = item.as_table() else { continue };
                for (field, value) in fields {
                    let Some(time) = value.as_str().and_then(|text| parse_duration(text).ok()) else {
                        continue;
                    };
                    for shorter in [Duration::from_secs(1), Duration::from_secs(time.as_secs() / 2)] {
                        let one_second_is_no_news = shorter == Duration::from_secs(1) && time.as_secs() < 4;
                        if shorter.is_zero() || shorter >= time || one_second_is_no_news {
                            continue;
                        }
                        let text = format_duration(shorter);
                        let what =
                            format!("{noun} {}: {field} from {} to {text}", index + 1, format_duration(time));
                        let key = format!("{noun} ({}) {field} {text}", sketch(item));
                        self.push(
                            |d| {
                                if let Some(Value::Table(item)) =
                                    d.get_mut(*array).and_then(|items| items.get_mut(index))
                                {
                                    item.insert(field.clone(), Value::String(text.clone()));
                                }
                            },
                            what,
                            key,
                        );
                    }
                }
            }
        }
    }

    /// Fewer clients in a group, CallManager subscribers and IM and Presence nodes (halved).
    fn counts(&mut self) {
        if let Some(Value::Array(groups)) = self.document.get("clients") {
            for (index, group) in groups.iter().enumerate() {
                let Some(count) = group.get("count").and_then(Value::as_integer).filter(|count| *count > 1)
                else {
                    continue;
                };
                let fewer = count / 2;
                self.push(
                    |d| {
                        if let Some(Value::Table(group)) =
                            d.get_mut("clients").and_then(|groups| groups.get_mut(index))
                        {
                            group.insert("count".to_string(), Value::Integer(fewer));
                        }
                    },
                    format!("client group {}: count from {count} to {fewer}", index + 1),
                    format!("clients ({}) count {fewer}", sketch(group)),
                );
            }
        }
        if let Some(Value::Table(cluster)) = self.document.get("cluster") {
            for (key, value) in cluster {
                let Some(count) = value.as_integer().filter(|count| *count > 1) else { continue };
                let fewer = count / 2;
                self.push(
                    |d| {
                        if let Some(Value::Table(cluster)) = d.get_mut("cluster") {
                            cluster.insert(key.clone(), Value::Integer(fewer));
                        }
                    },
                    format!("cluster.{key}: from {count} to {fewer}"),
                    format!("cluster.{key} = {fewer}"),
                );
            }
        }
    }

    /// Each cluster part, parameter and purge or SIP setting back to its default; the
    /// description.
    fn settings(&mut self) {
        for table in ["cluster", "params", "purge", "sip"] {
            let Some(Value::Table(entries)) = self.document.get(table) else { continue };
            for key in entries.keys() {
                self.push(
                    |d| {
                        if let Some(Value::Table(entries)) = d.get_mut(table) {
                            entries.remove(key);
                        }
                    },
                    format!("{table}.{key} (back to its default)"),
                    format!("{table}.{key} removed"),
                );
            }
        }
        if self.document.contains_key("description") {
            self.push(
                |d| drop(d.remove("description")),
                "the description".to_string(),
                "description".to_string(),
            );
        }
    }

    /// Simulated time: to just after the failure (its moment and a second more, whole
    /// seconds), then by halves.
    fn duration(&mut self, first_ms: Option<u64>) {
        let Some(duration) =
            self.document.get("duration").and_then(Value::as_str).and_then(|d| parse_duration(d).ok())
        else {
            return;
        };
        let after_failure = first_ms.map(|first_ms| Duration::from_secs(first_ms / 1000 + 2));
        for cut in after_failure.into_iter().chain([duration / 2]) {
            if cut >= duration || cut.is_zero() {
                continue;
            }
            let text = format_duration(cut);
            self.push(
                |d| {
                    d.insert("duration".to_string(), Value::String(text.clone()));
                },
                format!("simulated time: from {} to {text}", format_duration(duration)),
                format!("duration {text}"),
            );
        }
    }
}

/// A table entry in a few words: `at = "20m", action = "regenerate-key", key = "encryption"`.
fn sketch(value: &Value) -> String {
    match value {
        Value::Table(table) => table
            .iter()
            .filter(|(_, value)| !value.is_table() && !value.is_array())
            .map(|(key, value)| format!("{key} = {value}"))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expectation_is_known_by_what_it_expects_not_its_line() {
        assert_eq!(
            cause("line 12: no voicemail-login-rejected within 0s..40m"),
            "no voicemail-login-rejected within 0s..40m"
        );
        assert_eq!(cause("no_token_lifetime_out_of_bounds"), "no_token_lifetime_out_of_bounds");
    }

    #[test]
    fn changes_of_one_value_in_a_row_read_as_one() {
        assert_eq!(
            merged("step 1: at from 40m to 20m", "step 1: at from 20m to 1s").as_deref(),
            Some("step 1: at from 40m to 1s")
        );
        assert_eq!(merged("step 1: at from 40m to 20m", "step 2: at from 20m to 1s"), None, "another step");
        assert_eq!(merged("step 3 (action = \"revoke\")", "step 1: at from 20m to 1s"), None, "a removal");
    }

    #[test]
    fn candidates_remove_each_entry_and_shorten_time_last() {
        let document: Table = toml::from_str(
            "name = \"x\"\nduration = \"2h\"\n[[step]]\nat = \"1h\"\naction = \"show-keys\"\n[[clients]]\nkind = \"jabber\"\ncount = 4\n",
        )
        .unwrap();
        let whats: Vec<String> = candidates(&document, Some(61_000)).into_iter().map(|c| c.what).collect();
        assert!(whats.contains(&"step 1 (action = \"show-keys\", at = \"1h\")".to_string()), "{whats:#?}");
        assert!(whats.contains(&"client group 1: count from 4 to 2".to_string()), "{whats:#?}");
        assert!(whats.contains(&"step 1: at from 1h to 1s".to_string()), "{whats:#?}");
        let times: Vec<&String> = whats.iter().filter(|what| what.starts_with("simulated time")).collect();
        assert_eq!(times, ["simulated time: from 2h to 1m3s", "simulated time: from 2h to 1h"]);
        assert!(whats.last().unwrap().starts_with("simulated time"), "time goes last: {whats:#?}");
    }
}
