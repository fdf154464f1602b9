//! Durations and windows as scenario files write them: `100ms`, `90s`, `5m`, `2h`, `60d`,
//! sums like `2h5m`, and windows `"2h..2h5m"`.

use std::ops::Range;
use std::time::Duration;

use serde::de::{self, Deserializer};
use serde::Deserialize;

/// A duration written with units: `100ms`, `90s`, `5m`, `2h`, `60d`, `2h5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimDuration(pub Duration);

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration(&text).map(SimDuration).map_err(de::Error::custom)
    }
}

/// Parses `100ms`, `90s`, `5m`, `2h`, `60d` and sums like `2h5m`. Any text, in any script,
/// gets a duration or a message; digits and units are ASCII, so every slice below falls on
/// a character boundary.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let hint = "durations are numbers with units ms, s, m, h or d, e.g. \"90s\", \"2h5m\", \"60d\"";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("\"\" is not a duration ({hint})"));
    }
    let mut total_ms: u64 = 0;
    let mut rest = trimmed;
    while let Some(first) = rest.chars().next() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("{text:?} is not a duration: unexpected {first:?} ({hint})"));
        }
        let number: u64 = rest[..digits].parse().map_err(|_| format!("{text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        let unit_ms = match (unit, rest.chars().next()) {
            ("ms", _) => 1,
            ("s", _) => 1000,
            ("m", _) => 60_000,
            ("h", _) => 3_600_000,
            ("d", _) => 86_400_000,
            ("", Some(stray)) => {
                return Err(format!(
                    "{text:?} is not a duration: unexpected {stray:?} after {number} ({hint})"
                ))
            }
            ("", None) => {
                return Err(format!(
                    "{text:?} is not a duration: {number} has no unit (try \"{trimmed}{}\")",
                    suggest_unit(trimmed)
                ))
            }
            (other, _) => return Err(format!("{text:?} is not a duration: unknown unit {other:?} ({hint})")),
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

/// `"2h..2h5m"`: from the first time (inclusive) to the second (exclusive).
pub fn parse_window(text: &str) -> Result<Range<Duration>, String> {
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
        assert!(parse_duration("5 minutes").unwrap_err().contains("unexpected ' '"));
        assert!(parse_duration("5mins").unwrap_err().contains("unknown unit \"mins\""));
        assert!(parse_duration("h").unwrap_err().contains("not a duration"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    /// Regression (issue 6): a non-ASCII character right after a number sliced a multi-byte
    /// character in half and panicked.
    #[test]
    fn non_ascii_after_a_number_is_an_error_not_a_panic() {
        for text in ["5é", "5٣", "1é", "3h٣", "٣", "2h\u{1F600}", "5m\u{301}"] {
            let error = parse_duration(text).unwrap_err();
            assert!(error.contains("unexpected"), "{text}: {error}");
        }
        assert!(parse_duration("5é").unwrap_err().contains("unexpected 'é' after 5"));
        assert!(parse_window("1é..2m").unwrap_err().contains("unexpected 'é'"));
    }

    #[test]
    fn windows_must_be_ordered() {
        assert_eq!(parse_window("1m..2m").unwrap(), Duration::from_secs(60)..Duration::from_secs(120));
        assert!(parse_window("2m..1m").is_err());
        assert!(parse_window("2m").is_err());
    }
}
