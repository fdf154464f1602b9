//! What must hold in every run, whatever the scenario. Each function is named after what it
//! forbids and reads only the trace.

use aho_corasick::AhoCorasick;

use crate::check::Outcome;
use crate::clock::format_elapsed;
use crate::trace::Event;

/// Events that record a consumer accepting an access token; each carries the token's `exp`.
pub const ACCEPTANCE_EVENTS: &[&str] = &["voicemail-login-accepted", "uds-request-accepted"];

/// Every invariant, in a fixed order. `jsonl` is `events` as JSON Lines, one line an event.
pub fn all(events: &[Event], jsonl: &str, epoch_s: u64, secrets: &[String]) -> Vec<Outcome> {
    vec![
        no_access_token_accepted_after_expiry(events, epoch_s),
        no_raw_token_in_trace(events, jsonl),
        no_key_material_in_trace(jsonl, secrets),
    ]
}

/// A consumer must not accept an access token at or after `exp` plus the clock leeway.
pub fn no_access_token_accepted_after_expiry(events: &[Event], epoch_s: u64) -> Outcome {
    let leeway_s = authzlab_host::CLOCK_LEEWAY_S;
    let late = events.iter().filter(|event| ACCEPTANCE_EVENTS.contains(&event.kind.as_str())).find(|event| {
        let now_s = epoch_s + event.t_ms / 1000;
        let exp = event.fields.get("exp").and_then(|exp| exp.as_u64()).unwrap_or(0);
        now_s >= exp + leeway_s
    });
    outcome(
        "no_access_token_accepted_after_expiry",
        late.map(|event| {
            format!(
                "{} at {} accepted a token expired at {}",
                event.node,
                format_elapsed(event.t_ms),
                event.fields["exp"]
            )
        }),
    )
}

/// Tokens appear in the trace only as ids: a compact JWS or JWE starts with `eyJ` (base64url
/// of `{"`), which no id, checksum or verdict does.
pub fn no_raw_token_in_trace(events: &[Event], jsonl: &str) -> Outcome {
    let leak = jsonl.lines().zip(events).find_map(|(line, event)| line.contains("eyJ").then_some(event));
    outcome(
        "no_raw_token_in_trace",
        leak.map(|event| format!("{} at {} holds a token", event.kind, format_elapsed(event.t_ms))),
    )
}

/// No key the run used appears in the trace in any text form. All forms of all keys are
/// searched for in one pass over the trace (Aho-Corasick): a run that regenerates keys
/// 10,000 times must not read its trace 30,000 times.
pub fn no_key_material_in_trace(jsonl: &str, secrets: &[String]) -> Outcome {
    let searched: Vec<&String> = secrets.iter().filter(|secret| secret.len() >= 16).collect();
    let found = match AhoCorasick::new(&searched) {
        Ok(automaton) => automaton.find(jsonl).map(|found| found.pattern().as_usize()),
        // Only a pattern set beyond the automaton's size limits fails to build; fall back to
        // one search per key rather than not searching.
        Err(_) => searched.iter().position(|secret| jsonl.contains(secret.as_str())),
    };
    match found {
        Some(index) => {
            outcome("no_key_material_in_trace", Some(format!("key material #{index} appears in the trace")))
        }
        // Saying how many were searched shows the check was not vacuous.
        None => Outcome {
            name: "no_key_material_in_trace".to_string(),
            held: true,
            detail: format!("held ({} key encodings searched)", searched.len()),
        },
    }
}

fn outcome(name: &str, violation: Option<String>) -> Outcome {
    match violation {
        None => Outcome { name: name.to_string(), held: true, detail: "held".to_string() },
        Some(detail) => Outcome { name: name.to_string(), held: false, detail },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::trace::to_jsonl;

    fn event(t_ms: u64, kind: &str, fields: &[(&str, serde_json::Value)]) -> Event {
        Event {
            t_ms,
            node: "unity".to_string(),
            kind: kind.to_string(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn late_acceptance_is_caught_and_timely_is_not() {
        let epoch = 1_000_000;
        let timely = [event(10_000, "voicemail-login-accepted", &[("exp", (epoch + 60).into())])];
        assert!(no_access_token_accepted_after_expiry(&timely, epoch).held);
        let late = [event(100_000, "voicemail-login-accepted", &[("exp", (epoch + 60).into())])];
        assert!(!no_access_token_accepted_after_expiry(&late, epoch).held);
    }

    #[test]
    fn raw_tokens_and_keys_are_caught() {
        let secret = ["c2VjcmV0LWtleS1ieXRlcw".to_string()];
        let clean = [event(0, "keys-synced", &[("signing_key", "ab12".into())])];
        assert!(no_raw_token_in_trace(&clean, &to_jsonl(&clean)).held);
        assert!(no_key_material_in_trace(&to_jsonl(&clean), &secret).held);
        let token = [
            event(0, "keys-synced", &[("signing_key", "ab12".into())]),
            event(5_000, "oops", &[("token", "eyJhbGciOi.x.y".into())]),
        ];
        let leak = no_raw_token_in_trace(&token, &to_jsonl(&token));
        assert!(!leak.held);
        assert!(leak.detail.starts_with("oops at 00:00:05"), "names the leaking event: {}", leak.detail);
        let key = [event(0, "oops", &[("k", "c2VjcmV0LWtleS1ieXRlcw".into())])];
        assert!(!no_key_material_in_trace(&to_jsonl(&key), &secret).held);
    }

    #[test]
    fn every_key_of_many_is_found_and_named() {
        let secrets: Vec<String> = (0..10_000).map(|n| format!("secret-key-number-{n:08}")).collect();
        let clean = [event(0, "keys-synced", &[("signing_key", "ab12".into())])];
        let held = no_key_material_in_trace(&to_jsonl(&clean), &secrets);
        assert!(held.held);
        assert_eq!(held.detail, "held (10000 key encodings searched)");
        for n in [0, 4_321, 9_999] {
            let leak = [event(0, "oops", &[("k", format!("..secret-key-number-{n:08}..").into())])];
            let outcome = no_key_material_in_trace(&to_jsonl(&leak), &secrets);
            assert!(!outcome.held);
            assert_eq!(outcome.detail, format!("key material #{n} appears in the trace"));
        }
    }
}
