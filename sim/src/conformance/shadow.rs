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

/// The consumer whose validator a run watches: a plugin is written for one (its
/// `describe().consumer`), and `plugin check --scenarios` runs it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    UnityConnection,
    ImAndPresence,
    CallManagerSip,
    Expressway,
}

impl Role {
    /// The role a plugin says it is written for; any other consumer name runs as Unity
    /// Connection, the consumer outside the cluster every AuthZ token may reach.
    pub fn of_consumer(consumer: &str) -> Role {
        match consumer {
            "imp" => Role::ImAndPresence,
            "callmanager-sip" => Role::CallManagerSip,
            "expressway" => Role::Expressway,
            _ => Role::UnityConnection,
        }
    }

    /// As the report says it: "as IM and Presence".
    pub fn display_name(self) -> &'static str {
        match self {
            Role::UnityConnection => "Unity Connection",
            Role::ImAndPresence => "IM and Presence",
            Role::CallManagerSip => "CallManager's SIP registration",
            Role::Expressway => "Expressway-C",
        }
    }
}

/// The presentations of one run, shared with the nodes that play the watched role.
#[derive(Clone, Debug)]
pub struct Shadow {
    role: Role,
    presentations: Rc<RefCell<Vec<Presentation>>>,
}

impl Shadow {
    pub fn watching(role: Role) -> Shadow {
        Shadow { role, presentations: Rc::default() }
    }

    /// This shadow, for a node playing `role` (`None` for any other node).
    pub fn for_role(shadow: Option<&Shadow>, role: Role) -> Option<Shadow> {
        shadow.filter(|shadow| shadow.role == role).cloned()
    }

    /// Records one presentation (past [`PRESENTATIONS_MAX`] the run keeps counting nothing
    /// more: the comparison stops at the cap, which the report says).
    pub fn record(&self, presentation: Presentation) {
        let mut presentations = self.presentations.borrow_mut();
        if presentations.len() < PRESENTATIONS_MAX {
            presentations.push(presentation);
        }
    }

    pub fn presentations(&self) -> Vec<Presentation> {
        self.presentations.borrow().clone()
    }
}
