//! The AuthZ keys in words: regenerated, pushed, fetched, shown.

use crate::trace::Event;

/// The AuthZ keys: regenerated, pushed, fetched, shown.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    let short = |name: &str| f(name).chars().take(8).collect::<String>();
    Some(match event.kind.as_str() {
        "key-regenerated" => format!(
            "{} key regenerated: checksum {} (was {}); every self-contained access token issued so far is now invalid",
            f("key"),
            short("checksum"),
            short("previous")
        ),
        "certificate-log-started" => {
            format!("wrote the {} key's regeneration to a new log file, {}", f("key"), f("file"))
        }
        "keys-shown" => format!("{}; {}", f("signing"), f("encryption")),
        "keys-synced" => format!(
            "received the keys from the publisher: signing {}, encryption {}",
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-fetched" => format!(
            "fetched the keys from its Authz server {} ({}): signing {}, encryption {}",
            f("from"),
            f("cause"),
            short("signing_key"),
            short("encryption_key")
        ),
        "keys-served" => format!("served the keys to {}", f("to")),
        "key-sync-failed" => {
            format!("could not push the keys to {} after {} attempts", f("to"), f("attempts"))
        }
        "key-fetch-failed" => format!("could not fetch the keys from {}: {}", f("from"), f("reason")),
        _ => return None,
    })
}
