//! The native reference validator beside a consumer's plugin: every token the plugin is
//! shown in a run is also checked natively, with the same keys and the same clock, and both
//! verdicts are kept for `plugin check --scenarios` to compare. Nothing of it reaches the
//! trace, so a run with a shadow replays exactly as one without.

use std::cell::RefCell;
use std::rc::Rc;

/// One presentation of a token to the consumer: when, by whom, and both verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presentation {
    pub t_ms: u64,
    pub client: String,
    pub component: String,
    pub native: String,
}

/// Presentations one run may keep: far above what the built-in scenarios make (hundreds).
pub const PRESENTATIONS_MAX: usize = 1_000_000;

/// The presentations of one run, shared with the consumer node.
#[derive(Clone, Debug, Default)]
pub struct Shadow(Rc<RefCell<Vec<Presentation>>>);

impl Shadow {
    /// Records one presentation (past [`PRESENTATIONS_MAX`] the run keeps counting nothing
    /// more: the comparison stops at the cap, which the report says).
    pub fn record(&self, presentation: Presentation) {
        let mut presentations = self.0.borrow_mut();
        if presentations.len() < PRESENTATIONS_MAX {
            presentations.push(presentation);
        }
    }

    pub fn presentations(&self) -> Vec<Presentation> {
        self.0.borrow().clone()
    }
}
