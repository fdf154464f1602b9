//! A scenario step in words: the action says itself ([`Action::in_words`]).

use crate::scenario::Action;
use crate::trace::Event;

/// An administrator's step (or the network's), as the action itself says it
/// ([`Action::in_words`]); a step this build does not know is named as recorded.
pub(super) fn in_words(event: &Event) -> Option<String> {
    if event.kind != "step" {
        return None;
    }
    Some(match Action::from_step(&event.fields) {
        Some(action) => action.in_words(),
        None => format!("scenario step {}", event.field_text("action").unwrap_or_default()),
    })
}
