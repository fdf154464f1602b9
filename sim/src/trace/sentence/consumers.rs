//! What the token consumers (UDS, RTMT's counters, IM and Presence, voicemail) made of a
//! token, in words.

use super::{by_proxy, explain, names_key};
use crate::trace::Event;

/// What the token consumers (UDS, RTMT's counters, IM and Presence, voicemail) made of a token.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let refusal = || format!("{}{}", explain(&f("reason")), names_key(event));
    Some(match event.kind.as_str() {
        "uds-request-accepted" => {
            format!("accepted the token of {} ({}) on UDS{}", f("client"), f("user"), by_proxy(event))
        }
        "uds-request-rejected" => {
            format!("refused the token of {} on UDS: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "perfmon-request-accepted" => {
            format!("answered RTMT's counter query from {} ({}){}", f("client"), f("user"), by_proxy(event))
        }
        "perfmon-request-rejected" => {
            format!("refused RTMT's token from {}: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "perfmon-failed" => format!("the counter query was refused: {}", f("reason")),
        "im-login-accepted" => {
            format!("XMPP login of {} on {} accepted{}", f("user"), f("client"), by_proxy(event))
        }
        "im-login-rejected" => {
            format!("XMPP login from {} refused: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "im-login-failed" => format!("IM and Presence refused its XMPP login: {}", f("reason")),
        "uds-failed" => format!("UDS refused its token: {}", f("reason")),
        "voicemail-login-accepted" => {
            format!("voicemail login of {} on {} accepted{}", f("user"), f("client"), by_proxy(event))
        }
        "voicemail-login-rejected" => {
            format!("voicemail login from {} refused: {}{}", f("client"), refusal(), by_proxy(event))
        }
        "voicemail-login-failed" => {
            format!("voicemail refused its token (attempt {}): {}", f("attempt"), f("reason"))
        }
        "voicemail-unreachable" => format!("cannot reach voicemail: {}", f("reason")),
        _ => return None,
    })
}
