//! `[[expect]]` entries, from the file as written to checked [`Expectation`]s.
//!
//! An expectation that names something the run cannot produce would hold whatever happens
//! when it says `absent = true`, and fail for the wrong reason otherwise. So every name is
//! checked here, before the run starts, against what the run is made of: the event and its
//! fields against the catalogue, `node` against the cluster, `client` and `user` against the
//! devices, words against the field's closed set, booleans and integers by type. A refusal
//! points at the line and column of the value and offers the nearest real one.

use std::collections::BTreeMap;
use std::ops::{Range, RangeInclusive};
use std::time::Duration;

use toml::Spanned;

use super::duration::{format_duration, parse_window};
use super::error::line_column;
use super::file::ExpectFile;
use super::table::Table;
use super::{After, Device, Expectation, ScenarioError};
use crate::trace::catalogue::{did_you_mean, EventSpec, FieldSpec, CATALOGUE};
use crate::trace::domain::{Domain, Names};

/// The most matches a `count` may ask for: a bound on the number a report prints, far above
/// what any window of a 90-day run holds of one event at one node.
pub const EXPECTED_COUNT_MAX: u64 = 10_000_000;

/// What the expectations are checked against, and where the file's text is.
pub(super) struct Context<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub duration: Duration,
    pub names: &'a Names,
    pub devices: &'a [Device],
}

impl Context<'_> {
    fn error(&self, span: Range<usize>, field: &str, message: String) -> ScenarioError {
        let (line, column) = line_column(self.text, span.start);
        ScenarioError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            field: field.to_string(),
            message,
        }
    }

    /// Where `key = …` is written inside the table at `table`: the start of its value, or
    /// of the table when it cannot be found (serde's flattened map keeps no positions).
    fn value_span(&self, table: &Range<usize>, key: &str) -> Range<usize> {
        let body = self.text.get(table.clone()).unwrap_or_default();
        let mut offset = table.start;
        for line in body.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(value) =
                trimmed.strip_prefix(key).and_then(|rest| rest.trim_start().strip_prefix('='))
            {
                let value = value.trim_start();
                let start = offset + line.len() - value.len();
                return start..start + value.trim_end().len();
            }
            offset += line.len();
        }
        table.clone()
    }
}

/// Every `[[expect]]`, checked, in file order; `for_each` expanded into one per device.
pub(super) fn expectations(
    context: &Context<'_>,
    entries: &[Spanned<Table<ExpectFile>>],
) -> Result<Vec<Expectation>, ScenarioError> {
    let mut expectations: Vec<Expectation> = Vec::new();
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    for (index, spanned) in entries.iter().enumerate() {
        let expect = &spanned.get_ref().0;
        let table = spanned.span();
        let prefix = format!("expect[{index}]");
        let within = window(context, expect, &prefix)?;
        // An expectation naming an event or field that cannot exist would hold (`absent`)
        // or fail whatever the run does: refuse it here, with the nearest real name.
        let spec = EventSpec::find(expect.event.get_ref()).ok_or_else(|| {
            context.error(
                expect.event.span(),
                &format!("{prefix}.event"),
                unknown_event(expect.event.get_ref()),
            )
        })?;
        if let Some(node) = &expect.node {
            if !context.names.nodes.contains(node.get_ref()) {
                return Err(context.error(
                    node.span(),
                    &format!("{prefix}.node"),
                    not_in_run("node", node.get_ref(), &Domain::Node, context.names),
                ));
            }
        }
        let mut fields = BTreeMap::new();
        for (name, value) in &expect.fields {
            let span = context.value_span(&table, name);
            let field_name = format!("{prefix}.{name}");
            let Some(field) = spec.field(name) else {
                return Err(context.error(table.clone(), &field_name, unknown_field(spec, name)));
            };
            let text = field_value(spec, field, value)
                .map_err(|message| context.error(span.clone(), &field_name, message))?;
            if !field.domain.admits(&text, context.names) {
                return Err(context.error(
                    span,
                    &field_name,
                    not_in_run(&format!("`{name}` of `{}`", spec.kind), &text, &field.domain, context.names),
                ));
            }
            fields.insert(name.clone(), text);
        }
        let count = match &expect.count {
            None => None,
            Some(count) => {
                let field_name = format!("{prefix}.count");
                if expect.absent {
                    return Err(context.error(
                        count.span(),
                        &field_name,
                        "`count` and `absent` together: `absent = true` already means count = 0".to_string(),
                    ));
                }
                Some(
                    count_range(count.get_ref())
                        .map_err(|message| context.error(count.span(), &field_name, message))?,
                )
            }
        };
        let after = match &expect.after {
            None => None,
            Some(label) => Some(
                labels
                    .get(label.get_ref())
                    .map(|index| After { index: *index, label: label.get_ref().clone() })
                    .ok_or_else(|| {
                        let known = labels.keys().map(String::as_str);
                        let hint = did_you_mean(label.get_ref(), known.clone())
                            .map_or_else(String::new, |near| format!("did you mean {near:?}? "));
                        let listed: Vec<&str> = known.collect();
                        context.error(
                            label.span(),
                            &format!("{prefix}.after"),
                            format!(
                        "no earlier expectation has label {:?}; {hint}`after` names the `label` of an \
                         expectation above it (labels so far: {})",
                        label.get_ref(),
                        if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
                    ),
                        )
                    })?,
            ),
        };
        let (line, _) = line_column(context.text, table.start);
        let base = Expectation {
            line,
            within,
            event: spec.kind.to_string(),
            node: expect.node.as_ref().map(|node| node.get_ref().clone()),
            fields,
            absent: expect.absent,
            count,
            label: None,
            after,
        };
        let expanded = match &expect.for_each {
            None => vec![base],
            Some(each) => for_each(context, spec, &prefix, each, expect.of_user.as_ref(), base)?,
        };
        if let Some(label) = &expect.label {
            if expanded.len() != 1 {
                return Err(context.error(
                    label.span(),
                    &format!("{prefix}.label"),
                    "a `for_each` expectation stands for several and cannot be named by `after`".to_string(),
                ));
            }
            if labels.insert(label.get_ref().clone(), expectations.len()).is_some() {
                return Err(context.error(
                    label.span(),
                    &format!("{prefix}.label"),
                    format!("label {:?} is used twice", label.get_ref()),
                ));
            }
        }
        for mut expectation in expanded {
            expectation.label = expect.label.as_ref().map(|label| label.get_ref().clone());
            expectations.push(expectation);
        }
    }
    Ok(expectations)
}

fn window(
    context: &Context<'_>,
    expect: &ExpectFile,
    prefix: &str,
) -> Result<Range<Duration>, ScenarioError> {
    let Some(within) = &expect.within else { return Ok(Duration::ZERO..context.duration) };
    let field = format!("{prefix}.within");
    let window =
        parse_window(within.get_ref()).map_err(|message| context.error(within.span(), &field, message))?;
    if window.end > context.duration {
        return Err(context.error(
            within.span(),
            &field,
            format!(
                "ends at {}, after the end of the run ({}); nothing can happen there",
                format_duration(window.end),
                format_duration(context.duration)
            ),
        ));
    }
    Ok(window)
}

/// The value as the trace writes it (text), checked against the field's type.
fn field_value(spec: &EventSpec, field: &FieldSpec, value: &toml::Value) -> Result<String, String> {
    let name = field.name;
    match (field.ty, value) {
        ("integer", toml::Value::Integer(number)) => Ok(number.to_string()),
        ("integer", toml::Value::String(text)) if text.parse::<i64>().is_ok() => Ok(text.clone()),
        ("integer", _) => Err(format!("`{name}` of `{}` is an integer", spec.kind)),
        ("boolean", toml::Value::Boolean(flag)) => Ok(flag.to_string()),
        ("boolean", toml::Value::String(text)) if text == "true" || text == "false" => Ok(text.clone()),
        ("boolean", other) => {
            Err(format!("`{name}` of `{}` is a boolean: true or false, not {other}", spec.kind))
        }
        (_, toml::Value::String(text)) => Ok(text.clone()),
        (_, toml::Value::Integer(number)) => Ok(number.to_string()),
        (_, toml::Value::Boolean(flag)) => Ok(flag.to_string()),
        _ => Err("a field to match must be a string, integer or boolean".to_string()),
    }
}

/// `count = 3` or `count = "2..5"` (both ends included).
fn count_range(value: &toml::Value) -> Result<RangeInclusive<u64>, String> {
    let bound = |text: &str| -> Result<u64, String> {
        let number: u64 = text.trim().parse().map_err(|_| format!("{text:?} is not a whole number"))?;
        if number > EXPECTED_COUNT_MAX {
            return Err(format!("{number} is more than {EXPECTED_COUNT_MAX} (EXPECTED_COUNT_MAX)"));
        }
        Ok(number)
    };
    let range = match value {
        toml::Value::Integer(number) => {
            let number = bound(&number.to_string())?;
            number..=number
        }
        toml::Value::String(text) => match text.split_once("..") {
            Some((low, high)) => bound(low)?..=bound(high)?,
            None => {
                let number = bound(text)?;
                number..=number
            }
        },
        _ => {
            return Err("`count` is a whole number (`count = 2`) or a range (`count = \"2..5\"`)".to_string())
        }
    };
    if range.is_empty() {
        return Err(format!("{}..{} is empty: the lower end comes first", range.start(), range.end()));
    }
    Ok(range)
}

/// One expectation per device (of `of_user`, or of the `user` the expectation names).
fn for_each(
    context: &Context<'_>,
    spec: &EventSpec,
    prefix: &str,
    each: &Spanned<String>,
    of_user: Option<&Spanned<String>>,
    base: Expectation,
) -> Result<Vec<Expectation>, ScenarioError> {
    let field = format!("{prefix}.for_each");
    if each.get_ref() != "client" {
        return Err(context.error(
            each.span(),
            &field,
            format!(
                "for_each {:?}: the one thing an expectation can range over is \"client\"",
                each.get_ref()
            ),
        ));
    }
    // A server's event names the device in `client`; a device's own event is recorded at
    // the device (its `node`).
    let by_field = spec.field("client").is_some();
    if (by_field && base.fields.contains_key("client")) || (!by_field && base.node.is_some()) {
        let own = if by_field { "`client`" } else { "`node` (this event is recorded at the device)" };
        return Err(context.error(
            each.span(),
            &field,
            format!("`for_each = \"client\"` and a {own} of its own: keep one"),
        ));
    }
    let user = match of_user {
        Some(user) => {
            if !context.names.users.contains(user.get_ref()) {
                return Err(context.error(
                    user.span(),
                    &format!("{prefix}.of_user"),
                    not_in_run("user", user.get_ref(), &Domain::User, context.names),
                ));
            }
            Some(user.get_ref().clone())
        }
        None => base.fields.get("user").cloned(),
    };
    let devices: Vec<&Device> = context
        .devices
        .iter()
        .filter(|device| user.as_ref().is_none_or(|user| &device.user == user))
        .collect();
    if devices.is_empty() {
        return Err(context.error(each.span(), &field, "no device of the run to range over".to_string()));
    }
    Ok(devices
        .into_iter()
        .map(|device| {
            let mut expectation = base.clone();
            match by_field {
                true => {
                    expectation.fields.insert("client".to_string(), device.name.clone());
                }
                false => expectation.node = Some(device.name.clone()),
            }
            expectation
        })
        .collect())
}

/// `node "unty" is not in this run; did you mean "unity"? its nodes: …`
fn not_in_run(what: &str, value: &str, domain: &Domain, names: &Names) -> String {
    let values = domain.values(names).unwrap_or_default();
    let hint = did_you_mean(value, values.iter().copied())
        .or_else(|| values.iter().copied().find(|known| known.eq_ignore_ascii_case(value)))
        .map_or_else(String::new, |near| format!("did you mean {near:?}? "));
    let (fails, listing) = match domain {
        Domain::OneOf(_) | Domain::Open => ("cannot occur", "it is one of"),
        Domain::Node => ("is not in this run", "the run's nodes"),
        Domain::Device => ("is not in this run", "the run's devices"),
        Domain::User => ("is not in this run", "the run's users"),
    };
    let listed = if values.len() > 12 {
        format!("{}, … ({} in all)", values[..12].join(", "), values.len())
    } else {
        values.join(", ")
    };
    format!("{what} {value:?} {fails}; {hint}{listing}: {listed}")
}

fn unknown_event(kind: &str) -> String {
    let hint = match did_you_mean(kind, CATALOGUE.iter().map(|spec| spec.kind)) {
        Some(near) => format!("did you mean {near:?}? "),
        None => String::new(),
    };
    format!("no event {kind:?} exists; {hint}`authzlab events` lists every event and its fields")
}

fn unknown_field(spec: &EventSpec, name: &str) -> String {
    let names = spec.fields.iter().map(|field| field.name);
    let hint = match did_you_mean(name, names.clone()) {
        Some(near) => format!("did you mean {near:?}? "),
        None => String::new(),
    };
    let all: Vec<&str> = names.collect();
    format!("`{}` events have no field {name:?}; {hint}its fields: {}", spec.kind, all.join(", "))
}
