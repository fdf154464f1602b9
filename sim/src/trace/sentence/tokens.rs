//! Tokens issued, refreshed, refused, revoked and purged, and sign-ins, in words.

use super::{explain, names_key, seconds_in_words};
use crate::trace::Event;

/// Tokens issued, refreshed, refused, revoked and purged; sign-ins.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    let refusal = || format!("{}{}", explain(&f("reason")), names_key(event));
    Some(match event.kind.as_str() {
        "tokens-revoked" => format!(
            "revoked {} refresh token(s) of {}{}; access tokens already issued stay valid until they expire",
            f("revoked"),
            f("user"),
            event
                .field_text("ccid")
                .map_or_else(String::new, |ccid| format!(" on client {}", &ccid[..ccid.len().min(9)]))
        ),
        "expiry-changed" => format!(
            "now issues tokens with {} = {} (was {}); tokens already issued keep theirs",
            f("param"),
            seconds_in_words(&f("value_s")),
            seconds_in_words(&f("previous_s"))
        ),
        "login-flow-changed" => {
            if f("enabled") == "true" {
                "refresh login flow enabled: new sign-ins may use the authorization-code grant".to_string()
            } else {
                "refresh login flow disabled: only the implicit grant from now on".to_string()
            }
        }
        "access-token-issued" => format!(
            "implicit grant for {} on {}: {} access token {}, no refresh token",
            f("user"),
            f("client"),
            f("format"),
            short("access_tid")
        ),
        "sso-login" => {
            format!("{} authenticated on {} (login #{} of this user)", f("user"), f("client"), f("logins"))
        }
        "login-flow-fallback" => format!(
            "the refresh login flow is not offered ({}); falls back to the implicit grant",
            f("reason")
        ),
        "purge-batch-committed" => {
            format!("daily purge: a batch of {} expired refresh token(s) deleted and committed", f("rows"))
        }
        "refresh-tokens-purged" => format!(
            "daily purge: deleted {} expired refresh token(s) in {} DELETE(s), {} ms of CPU",
            f("rows"),
            f("batches"),
            f("took_ms")
        ),
        "table-preloaded" => {
            format!(
                "the refresh-token table holds {} row(s) of former users, validity {}",
                f("rows"),
                f("validity")
            )
        }
        "admin-call-failed" => format!("the administrator's {} call failed: {}", f("action"), f("reason")),
        "tokens-issued" => format!(
            "signed in {} on {}: access token {}, refresh token {}",
            f("user"),
            f("client"),
            short("access_tid"),
            short("refresh_tid")
        ),
        "access-token-refreshed" => format!(
            "new access token {} for {} on {} (refresh token {}){}",
            short("access_tid"),
            f("user"),
            f("client"),
            short("refresh_tid"),
            event
                .field_text("waited_ms")
                .map_or_else(String::new, |ms| format!(" after waiting {ms} ms for the purge"))
        ),
        "refresh-rejected" => format!("refused the refresh token of {}: {}", f("client"), refusal()),
        "logged-in" => match event.field_text("grant") {
            Some(grant) => {
                format!("signed in as {} ({grant} grant, access token {})", f("user"), short("access_tid"))
            }
            None => format!("signed in as {} (access token {})", f("user"), short("access_tid")),
        },
        "login-failed" => format!("sign-in failed: {}", f("reason")),
        "token-refreshed" => format!("refreshed its access token (now {})", short("access_tid")),
        "refresh-failed" => format!("logs \"{}\" ({})", f("message"), f("reason")),
        "device-config-fetched" => format!("read its configuration file and logs: {}", f("line")),
        _ => return None,
    })
}
