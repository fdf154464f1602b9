//! The administrator's settings on the token consumers outside the cluster (Unity
//! Connection's Authz Servers entry and OAuth services, Expressway-C's "Authorize by OAuth
//! token with refresh" and trusted CA list), in words.

use crate::trace::Event;

/// A consumer's settings as they now stand.
pub(super) fn in_words(event: &Event) -> Option<String> {
    Some(match event.kind.as_str() {
        "expressway-configured" => format!(
            "\"Authorize by OAuth token with refresh\" is {}; its trusted CA list {} CallManager's Tomcat certificates",
            if event.fields.get("oauth_with_refresh").and_then(|v| v.as_bool()) == Some(true) {
                "on: requests with self-describing tokens are checked and passed on"
            } else {
                "off: requests with self-describing tokens are refused"
            },
            if event.fields.get("trusts_callmanager").and_then(|v| v.as_bool()) == Some(true) {
                "holds"
            } else {
                "lacks"
            }
        ),
        "unity-configured" => {
            let on = |name: &str| event.fields.get(name).and_then(|value| value.as_bool()) == Some(true);
            format!(
                "Authz Servers entry {}; OAuth services {}",
                if on("authz_server") {
                    "configured (the CallManager publisher, port 8443, a user with AXL access)"
                } else {
                    "missing"
                },
                if on("oauth") { "enabled" } else { "not enabled" }
            )
        }
        _ => return None,
    })
}
