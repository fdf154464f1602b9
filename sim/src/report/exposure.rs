//! The exposure window of each revocation. Revoking refresh tokens does not recall the
//! access tokens already issued: they stay valid until their own `exp` (docs/domain.md "Lifetimes").
//! For each revocation the report shows when it committed, until when the session's access
//! tokens stay valid, and when one was last accepted, read from the trace as it streams.

use std::collections::BTreeMap;

use crate::clock::format_elapsed;
use crate::trace::{Event, Happening, Observe};

/// Revocations a report follows; later ones are counted, not followed.
pub const REVOCATIONS_FOLLOWED_MAX: usize = 1_000;

/// One revocation's window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    pub user: String,
    /// The device, when only its tokens were revoked.
    pub device: Option<String>,
    /// When the scenario step asked for it.
    pub requested_ms: u64,
    /// When the publisher committed it (`tokens-revoked`), and how many it revoked.
    pub committed: Option<(u64, u64)>,
    /// The latest `exp` of an access token issued to the session before the commit.
    pub valid_until_s: Option<u64>,
    /// The last acceptance of such a token after the commit: when, and where.
    pub last_accepted: Option<(u64, String)>,
}

/// Follows every revocation of a run.
#[derive(Clone, Debug, Default)]
pub struct Exposures {
    /// Latest access-token `exp` issued per (user, device), so far.
    latest_exp: BTreeMap<(String, String), u64>,
    followed: Vec<Exposure>,
    unfollowed: u64,
}

impl Exposures {
    pub fn windows(&self) -> &[Exposure] {
        &self.followed
    }

    pub fn unfollowed(&self) -> u64 {
        self.unfollowed
    }

    /// The report's lines, one per revocation.
    pub fn lines(&self, epoch_s: u64) -> Vec<String> {
        let at = |unix_s: u64| format_elapsed(unix_s.saturating_sub(epoch_s) * 1000);
        self.followed
            .iter()
            .map(|window| {
                let whose = match &window.device {
                    Some(device) => format!("{} on {device}", window.user),
                    None => format!("{} (every device)", window.user),
                };
                let Some((committed_ms, revoked)) = window.committed else {
                    return format!(
                        "{}  {whose}: asked for, never committed",
                        format_elapsed(window.requested_ms)
                    );
                };
                let valid = match window.valid_until_s {
                    Some(exp) => {
                        format!("access tokens issued before stay valid until {} (exp {exp})", at(exp))
                    }
                    None => "no access token was outstanding".to_string(),
                };
                let last = match &window.last_accepted {
                    Some((t_ms, node)) => format!("last accepted at {} by {node}", format_elapsed(*t_ms)),
                    None => "none accepted after the revocation".to_string(),
                };
                format!(
                    "{}  {whose}: {revoked} refresh token(s) revoked; {valid}; {last}",
                    format_elapsed(committed_ms)
                )
            })
            .collect()
    }
}

impl Observe for Exposures {
    fn observe(&mut self, event: &Event, happening: &Happening, _line: &str) {
        if let Some(issued) = happening.issued_access_token() {
            // Only tokens issued with or for a refresh token belong to a session a revocation ends.
            if issued.refresh_tid.is_some() {
                let owner = (issued.user.to_string(), issued.client.to_string());
                let latest = self.latest_exp.entry(owner).or_insert(0);
                *latest = (*latest).max(issued.access_exp);
            }
            return;
        }
        if let Some(accepted) = happening.accepted_access_token() {
            for window in &mut self.followed {
                let session = window.user == accepted.user
                    && window.device.as_deref().is_none_or(|only| only == accepted.client);
                // A token of the revoked session: issued before the commit, so its `exp`
                // is at most the latest then outstanding.
                let old = window.valid_until_s.is_some_and(|until| accepted.exp <= until);
                if window.committed.is_some() && session && old {
                    window.last_accepted = Some((event.t_ms, event.node.clone()));
                }
            }
            return;
        }
        match happening {
            Happening::Step { action, user, client, .. } if action == "revoke" => {
                if self.followed.len() >= REVOCATIONS_FOLLOWED_MAX {
                    self.unfollowed += 1;
                    return;
                }
                self.followed.push(Exposure {
                    user: user.clone().unwrap_or_default(),
                    device: client.clone(),
                    requested_ms: event.t_ms,
                    committed: None,
                    valid_until_s: None,
                    last_accepted: None,
                });
            }
            Happening::TokensRevoked { user, revoked, .. } => {
                // The publisher commits revocations in the order they were asked for.
                let Some(window) = self
                    .followed
                    .iter_mut()
                    .find(|window| window.committed.is_none() && &window.user == user)
                else {
                    return;
                };
                window.committed = Some((event.t_ms, *revoked));
                window.valid_until_s = self
                    .latest_exp
                    .iter()
                    .filter(|((owner, device), _)| {
                        owner == user && window.device.as_ref().is_none_or(|only| only == device)
                    })
                    .map(|(_, exp)| *exp)
                    .max();
            }
            _ => {}
        }
    }
}
