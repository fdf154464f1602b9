//! Validator plugins in words: what a node loaded, and what a plugin said while it worked.

use super::short_hash;
use crate::trace::Event;

/// Plugins loaded and their lines.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    Some(match event.kind.as_str() {
        "plugin-loaded" => format!(
            "loaded plugin {} {} (serves {}), contract {}, sha256 {}, {} fuel per call, {} MiB{}",
            f("plugin"),
            f("version"),
            f("consumer"),
            f("contract"),
            short_hash(&f("sha256")),
            f("fuel_per_call"),
            event.fields.get("memory_bytes_max").and_then(|m| m.as_u64()).unwrap_or(0) >> 20,
            event
                .field_text("manifest")
                .map_or_else(String::new, |manifest| format!(", pinned by {manifest}"))
        ),
        "plugin-said" => format!(
            "plugin {} said ({}, checking {}'s token): {}{}",
            f("plugin"),
            f("level"),
            f("client"),
            f("text"),
            event
                .field_text("dropped")
                .map_or_else(String::new, |dropped| format!(" ({dropped} more lines not kept)"))
        ),
        _ => return None,
    })
}
