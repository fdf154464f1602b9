//! Scenario files: a cluster, what happens to it and when, and what must hold.
//!
//! TOML, parsed with serde. Every table denies unknown keys, so a typo is an error rather
//! than a silently ignored line; every error names the file, line, column and field:
//! `scenarios/x.toml:14:6: step[0].at: "2h5" is not a duration (try "2h5m")`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use toml::Spanned;

use crate::clock::EPOCH_S_DEFAULT;
use crate::tokens::{KeyKind, Lifetimes};

/// Clients one scenario may run: a bound on the site hosts' task count.
pub const CLIENTS_MAX: u32 = 500;
/// CallManager subscribers one scenario may run (turmoil polls every host every tick).
pub const CUCM_SUBSCRIBERS_MAX: u32 = 8;
/// Steps and expectations one file may hold.
pub const STEPS_MAX: usize = 10_000;
/// The longest run: 90 days covers the longest refresh-token lifetime.
pub const DURATION_MAX: Duration = Duration::from_secs(90 * 86_400 + 86_400);
/// Tick bounds: below 1 ms turmoil's per-step cost dominates; above 10 s requests stall.
pub const TICK_MIN: Duration = Duration::from_millis(1);
pub const TICK_MAX: Duration = Duration::from_secs(10);
/// Latest scenario epoch, UNIX seconds (9999-12-31 23:59:59 UTC): leaves room for 90-day
/// runs and 90-day tokens without overflowing a `u64` of seconds anywhere.
pub const EPOCH_S_MAX: u64 = 253_402_300_799;

/// A parsed, checked scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it was read from (for errors and the replay command).
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub tick: Duration,
    pub duration: Duration,
    /// UNIX seconds at the start of the run.
    pub epoch_s: u64,
    pub cluster: Cluster,
    pub lifetimes: Lifetimes,
    pub clients: Vec<ClientGroup>,
    pub steps: Vec<Step>,
    pub expectations: Vec<Expectation>,
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub cucm_subscribers: u32,
    /// The validator Unity Connection loads, if the cluster has Unity Connection: the name of
    /// a built-in plugin or a path to a `.wasm` component (relative to the scenario file).
    pub unity_validator: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    Jabber,
}

#[derive(Clone, Debug)]
pub struct ClientGroup {
    pub kind: ClientKind,
    pub count: u32,
}

/// Something an administrator (or fate) does at a simulated time.
#[derive(Clone, Debug)]
pub struct Step {
    pub at: Duration,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `set key regen authz signing|encryption` on the publisher.
    RegenerateKey(KeyKind),
}

/// Something the trace must show (or must not).
#[derive(Clone, Debug)]
pub struct Expectation {
    /// 1-based line in the scenario file, to point at it in reports.
    pub line: usize,
    pub within: Range<Duration>,
    pub event: String,
    pub node: Option<String>,
    /// Fields the event must carry, compared as text.
    pub fields: BTreeMap<String, String>,
    /// `true`: no such event may occur in the window.
    pub absent: bool,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.absent { "no " } else { "" }, self.event)?;
        if let Some(node) = &self.node {
            write!(f, " at {node}")?;
        }
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        write!(f, " within {}..{}", format_duration(self.within.start), format_duration(self.within.end))
    }
}

/// A scenario file that cannot be run, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid { file: String, line: usize, column: usize, field: String, message: String },
}

// ---- the file as written -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default = "default_tick")]
    tick: Spanned<SimDuration>,
    duration: Spanned<SimDuration>,
    #[serde(default)]
    epoch: Option<Spanned<u64>>,
    #[serde(default)]
    cluster: ClusterFile,
    #[serde(default)]
    params: ParamsFile,
    #[serde(default)]
    clients: Vec<ClientFile>,
    #[serde(default)]
    step: Vec<StepFile>,
    #[serde(default)]
    expect: Vec<Spanned<ExpectFile>>,
}

fn default_seed() -> u64 {
    1
}

fn default_tick() -> Spanned<SimDuration> {
    Spanned::new(0..0, SimDuration(Duration::from_millis(100)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    #[serde(default = "default_subscribers")]
    cucm_subscribers: Spanned<u32>,
    #[serde(default)]
    unity: Option<UnityFile>,
}

impl Default for ClusterFile {
    fn default() -> Self {
        ClusterFile { cucm_subscribers: default_subscribers(), unity: None }
    }
}

fn default_subscribers() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnityFile {
    validator: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsFile {
    #[serde(default = "yes")]
    refresh_login_flow: Spanned<bool>,
    #[serde(default)]
    access_token_expiry: Option<Spanned<SimDuration>>,
    #[serde(default)]
    refresh_token_expiry: Option<Spanned<SimDuration>>,
}

impl Default for ParamsFile {
    fn default() -> Self {
        ParamsFile { refresh_login_flow: yes(), access_token_expiry: None, refresh_token_expiry: None }
    }
}

fn yes() -> Spanned<bool> {
    Spanned::new(0..0, true)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFile {
    kind: ClientKind,
    count: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    at: Spanned<SimDuration>,
    action: Spanned<ActionName>,
    #[serde(default)]
    key: Option<KeyKind>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum ActionName {
    RegenerateKey,
}

#[derive(Deserialize)]
struct ExpectFile {
    #[serde(default)]
    within: Option<Spanned<String>>,
    event: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    absent: bool,
    /// Every other key is a field the event must carry.
    #[serde(flatten)]
    fields: BTreeMap<String, toml::Value>,
}

/// A duration written with units: `100ms`, `90s`, `5m`, `2h`, `60d`, `2h5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimDuration(pub Duration);

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(SimDuration).map_err(de::Error::custom)
    }
}

/// Parses `100ms`, `90s`, `5m`, `2h`, `60d` and sums like `2h5m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint = "durations are numbers with units ms, s, m, h or d, e.g. \"90s\", \"2h5m\", \"60d\"";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("\"\" is not a duration ({hint})"));
    }
    let mut total_ms: u64 = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{text:?} is not a duration ({hint})"));
        }
        let number: u64 = rest[..digits].parse().map_err(|_| format!("{text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let unit_ms = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" if !rest.is_empty() => {
                return Err(format!("{text:?} is not a duration: unexpected {:?} ({hint})", &rest[..1]))
            }
            "" => {
                return Err(format!(
                    "{text:?} is not a duration: {number} has no unit (try \"{trimmed}{}\")",
                    suggest_unit(trimmed)
                ))
            }
            other => return Err(format!("{text:?} is not a duration: unknown unit {other:?} ({hint})")),
        };
        total_ms = number
            .checked_mul(unit_ms)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| format!("{text:?} is too long"))?;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_millis(total_ms))
}

/// The unit that would naturally follow the last one written: `2h5` → `m`.
fn suggest_unit(text: &str) -> &'static str {
    let last_unit = text.trim_end_matches(|c: char| c.is_ascii_digit());
    match last_unit.chars().last() {
        Some('d') => "h",
        Some('h') => "m",
        Some('m') if !last_unit.ends_with("ms") => "s",
        Some('s') if !last_unit.ends_with("ms") => "00ms",
        _ => "s",
    }
}

/// `2h5m`, `90s`, `100ms`: the shortest form `parse_duration` reads back.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis() as u64;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, unit_ms) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        if ms >= unit_ms {
            out.push_str(&format!("{}{unit}", ms / unit_ms));
            ms %= unit_ms;
        }
    }
    out
}

// ---- parsing and checking ------------------------------------------------------------------

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError::Read { file: path.display().to_string(), reason: e.to_string() })?;
        Scenario::parse(&text, path)
    }

    /// Parses and checks scenario text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let at = |span: Range<usize>, field: &str, message: String| {
            let (line, column) = line_column(text, span.start);
            ScenarioError::Invalid { file: file.clone(), line, column, field: field.to_string(), message }
        };
        let deserializer = toml::Deserializer::new(text);
        let parsed: ScenarioFile = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            // `Spanned` values add a private segment to the path; people never wrote it.
            let field: Vec<String> = error
                .path()
                .to_string()
                .split('.')
                .filter(|s| !s.starts_with("$__"))
                .map(String::from)
                .collect();
            let field = field.join(".");
            let inner = error.into_inner();
            let span = inner.span().unwrap_or(0..0);
            let field = if field == "." || field.is_empty() { "scenario".to_string() } else { field };
            at(span, &field, inner.message().to_string())
        })?;

        let tick = parsed.tick.get_ref().0;
        if !(TICK_MIN..=TICK_MAX).contains(&tick) {
            return Err(at(
                parsed.tick.span(),
                "tick",
                format!("must be {} to {}", format_duration(TICK_MIN), format_duration(TICK_MAX)),
            ));
        }
        let duration = parsed.duration.get_ref().0;
        if duration.is_zero() || duration > DURATION_MAX {
            return Err(at(
                parsed.duration.span(),
                "duration",
                format!("must be more than 0s and at most {}", format_duration(DURATION_MAX)),
            ));
        }
        let epoch_s = match &parsed.epoch {
            Some(epoch) if *epoch.get_ref() > EPOCH_S_MAX => {
                return Err(at(
                    epoch.span(),
                    "epoch",
                    format!("must be UNIX seconds up to {EPOCH_S_MAX} (year 9999)"),
                ))
            }
            Some(epoch) => *epoch.get_ref(),
            None => EPOCH_S_DEFAULT,
        };
        let subscribers = *parsed.cluster.cucm_subscribers.get_ref();
        if !(1..=CUCM_SUBSCRIBERS_MAX).contains(&subscribers) {
            return Err(at(
                parsed.cluster.cucm_subscribers.span(),
                "cluster.cucm_subscribers",
                format!("must be 1 to {CUCM_SUBSCRIBERS_MAX}"),
            ));
        }
        if !*parsed.params.refresh_login_flow.get_ref() {
            return Err(at(
                parsed.params.refresh_login_flow.span(),
                "params.refresh_login_flow",
                "the implicit-grant flow is not simulated yet; only `true` is supported".to_string(),
            ));
        }
        let lifetimes = lifetimes(&parsed.params, &at)?;

        let mut clients = Vec::new();
        let mut client_total: u32 = 0;
        for (index, client) in parsed.clients.iter().enumerate() {
            let count = *client.count.get_ref();
            client_total = client_total.saturating_add(count);
            if count == 0 || client_total > CLIENTS_MAX {
                return Err(at(
                    client.count.span(),
                    &format!("clients[{index}].count"),
                    format!("must be 1 or more, and all clients together at most {CLIENTS_MAX}"),
                ));
            }
            clients.push(ClientGroup { kind: client.kind, count });
        }

        if parsed.step.len() > STEPS_MAX || parsed.expect.len() > STEPS_MAX {
            return Err(at(0..0, "step", format!("at most {STEPS_MAX} steps and {STEPS_MAX} expectations")));
        }
        let mut steps = Vec::new();
        for (index, step) in parsed.step.iter().enumerate() {
            let step_at = step.at.get_ref().0;
            if step_at > duration {
                return Err(at(
                    step.at.span(),
                    &format!("step[{index}].at"),
                    format!(
                        "{} is after the end of the run ({})",
                        format_duration(step_at),
                        format_duration(duration)
                    ),
                ));
            }
            let action = match step.action.get_ref() {
                ActionName::RegenerateKey => match step.key {
                    Some(kind) => Action::RegenerateKey(kind),
                    None => {
                        return Err(at(
                            step.action.span(),
                            &format!("step[{index}].key"),
                            "regenerate-key needs `key = \"signing\"` or `key = \"encryption\"`".to_string(),
                        ))
                    }
                },
            };
            steps.push(Step { at: step_at, action });
        }
        // Steps run in time order; equal times keep file order.
        steps.sort_by_key(|step| step.at);

        let mut expectations = Vec::new();
        for (index, spanned) in parsed.expect.iter().enumerate() {
            let expect = spanned.get_ref();
            let within = match &expect.within {
                None => Duration::ZERO..duration,
                Some(within) => parse_window(within.get_ref())
                    .map_err(|message| at(within.span(), &format!("expect[{index}].within"), message))?,
            };
            let mut fields = BTreeMap::new();
            for (name, value) in &expect.fields {
                let text = match value {
                    toml::Value::String(text) => text.clone(),
                    toml::Value::Integer(number) => number.to_string(),
                    toml::Value::Boolean(flag) => flag.to_string(),
                    _ => {
                        return Err(at(
                            spanned.span(),
                            &format!("expect[{index}].{name}"),
                            "a field to match must be a string, integer or boolean".to_string(),
                        ))
                    }
                };
                fields.insert(name.clone(), text);
            }
            let (line, _) = line_column(text, spanned.span().start);
            expectations.push(Expectation {
                line,
                within,
                event: expect.event.clone(),
                node: expect.node.clone(),
                fields,
                absent: expect.absent,
            });
        }

        Ok(Scenario {
            path: path.to_path_buf(),
            name: parsed.name,
            description: parsed.description,
            seed: parsed.seed,
            tick,
            duration,
            epoch_s,
            cluster: Cluster {
                cucm_subscribers: subscribers,
                unity_validator: parsed.cluster.unity.map(|unity| unity.validator),
            },
            lifetimes,
            clients,
            steps,
            expectations,
        })
    }
}

fn lifetimes(
    params: &ParamsFile,
    at: &impl Fn(Range<usize>, &str, String) -> ScenarioError,
) -> Result<Lifetimes, ScenarioError> {
    let defaults = Lifetimes::defaults();
    let access_s = params.access_token_expiry.as_ref().map_or(defaults.access_s, |d| d.get_ref().0.as_secs());
    let refresh_s =
        params.refresh_token_expiry.as_ref().map_or(defaults.refresh_s, |d| d.get_ref().0.as_secs());
    Lifetimes::new(access_s, refresh_s).map_err(|error| {
        let (span, field) = match error {
            crate::tokens::LifetimeError::Access(_) => (
                params.access_token_expiry.as_ref().map_or(0..0, Spanned::span),
                "params.access_token_expiry",
            ),
            crate::tokens::LifetimeError::Refresh(_) => (
                params.refresh_token_expiry.as_ref().map_or(0..0, Spanned::span),
                "params.refresh_token_expiry",
            ),
        };
        at(span, field, error.to_string())
    })
}

/// `"2h..2h5m"`: from the first time (inclusive) to the second (exclusive).
fn parse_window(text: &str) -> Result<Range<Duration>, String> {
    let (start, end) = text
        .split_once("..")
        .ok_or_else(|| format!("{text:?} is not a window; write \"START..END\", e.g. \"2h..2h5m\""))?;
    let start = parse_duration(start)?;
    let end = parse_duration(end)?;
    if end <= start {
        return Err(format!("{text:?} ends before it starts"));
    }
    Ok(start..end)
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    // Back off to a character boundary: a span inside a multi-byte character must not panic.
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        for text in ["100ms", "1m30s", "5m", "2h", "60d", "2h5m", "1d2h3m4s5ms"] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(format_duration(duration), text);
        }
        assert_eq!(parse_duration("2h5m").unwrap(), Duration::from_secs(2 * 3600 + 300));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
    }

    #[test]
    fn bad_durations_say_how_to_fix_them() {
        let error = parse_duration("2h5").unwrap_err();
        assert!(error.contains("try \"2h5m\""), "{error}");
        assert!(parse_duration("5 minutes").unwrap_err().contains("unexpected \" \""));
        assert!(parse_duration("5mins").unwrap_err().contains("unknown unit \"mins\""));
        assert!(parse_duration("h").unwrap_err().contains("not a duration"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn positions_count_characters_and_never_split_one() {
        let text = "név = \"é\"\nduration = 1";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 2), (1, 2), "inside `é`, backs off to its start");
        let second_line = text.find("duration").unwrap();
        assert_eq!(line_column(text, second_line), (2, 1));
        assert_eq!(line_column(text, text.len() + 10), (2, 13));
    }

    #[test]
    fn windows_must_be_ordered() {
        assert_eq!(parse_window("1m..2m").unwrap(), Duration::from_secs(60)..Duration::from_secs(120));
        assert!(parse_window("2m..1m").is_err());
        assert!(parse_window("2m").is_err());
    }
}
