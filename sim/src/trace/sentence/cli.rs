//! What a node's CLI printed for the administrator (`run sql ...`, `show open ports ...`,
//! `file list ...`), in words. (`show key authz` is with the keys.)

use crate::trace::Event;

/// A CLI answer.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let flag = |name: &str| event.fields.get(name).and_then(|value| value.as_bool()) == Some(true);
    Some(match event.kind.as_str() {
        "sql-row" => format!("  {}", f("row").replace('\t', "  ")),
        "sql-answered" => {
            let (rows, shown) = (f("rows"), f("shown"));
            if rows == shown {
                format!("run sql {}: {rows} row(s)", f("query"))
            } else {
                format!("run sql {}: {rows} row(s), the first {shown} shown", f("query"))
            }
        }
        "open-ports-shown" if flag("open") => {
            format!("show open ports regexp {}: Cisco CallManager listens ({})", f("port"), f("purpose"))
        }
        "open-ports-shown" => format!("show open ports regexp {}: nothing listens there", f("port")),
        "log-read" => format!("{}: {}", f("command"), f("answer")),
        _ => return None,
    })
}
