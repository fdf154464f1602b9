//! What several event kinds say alike about tokens, read from the typed [`Happening`]: the
//! access tokens AuthZ issued, the ones consumers accepted, the refusals that name a key.
//!
//! Checks read these views instead of looking fields up by name, so renaming or retyping a
//! field of any of these events stops the build here rather than leaving a check that holds
//! without judging anything. The tests below hold each view to the catalogue's roles.

use super::catalogue::Happening;

/// An access token AuthZ issued (sign-in, implicit grant or refresh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuedAccessToken<'a> {
    pub user: &'a str,
    pub client: &'a str,
    pub access_tid: &'a str,
    /// UNIX seconds.
    pub access_exp: u64,
    /// The checksum of the key that signed it; none for an opaque token.
    pub signing_key: Option<&'a str>,
    /// The refresh token it came with or from; none in the implicit grant.
    pub refresh_tid: Option<&'a str>,
    /// The refresh token's validity, when it was issued with this access token.
    pub refresh_exp: Option<u64>,
}

/// An access token a consumer accepted ([`Role::AcceptsAccessToken`](super::catalogue::Role)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptedAccessToken<'a> {
    pub user: &'a str,
    pub client: &'a str,
    pub tid: &'a str,
    /// The token's expiry, UNIX seconds.
    pub exp: u64,
}

/// A token refused, with the reason and the key id the token named (for an unknown key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRefusal<'a> {
    pub reason: &'a str,
    pub kid: Option<&'a str>,
}

impl Happening {
    /// The access token this event issued, if it issued one.
    pub fn issued_access_token(&self) -> Option<IssuedAccessToken<'_>> {
        match self {
            Happening::TokensIssued {
                user,
                client,
                access_tid,
                access_exp,
                refresh_tid,
                refresh_exp,
                signing_key,
                ..
            } => Some(IssuedAccessToken {
                user,
                client,
                access_tid,
                access_exp: *access_exp,
                signing_key: Some(signing_key),
                refresh_tid: Some(refresh_tid),
                refresh_exp: Some(*refresh_exp),
            }),
            Happening::AccessTokenIssued { user, client, access_tid, access_exp, signing_key, .. } => {
                Some(IssuedAccessToken {
                    user,
                    client,
                    access_tid,
                    access_exp: *access_exp,
                    signing_key: signing_key.as_deref(),
                    refresh_tid: None,
                    refresh_exp: None,
                })
            }
            Happening::AccessTokenRefreshed {
                user,
                client,
                refresh_tid,
                access_tid,
                access_exp,
                signing_key,
                ..
            } => Some(IssuedAccessToken {
                user,
                client,
                access_tid,
                access_exp: *access_exp,
                signing_key: Some(signing_key),
                refresh_tid: Some(refresh_tid),
                refresh_exp: None,
            }),
            _ => None,
        }
    }

    /// The access token this event accepted, if it is an acceptance.
    pub fn accepted_access_token(&self) -> Option<AcceptedAccessToken<'_>> {
        match self {
            Happening::SipRegistered { user, client, tid, exp, .. }
            | Happening::EdgeRequestAccepted { user, client, tid, exp, .. }
            | Happening::UdsRequestAccepted { user, client, tid, exp, .. }
            | Happening::PerfmonRequestAccepted { user, client, tid, exp, .. }
            | Happening::ImLoginAccepted { user, client, tid, exp, .. }
            | Happening::VoicemailLoginAccepted { user, client, tid, exp, .. } => {
                Some(AcceptedAccessToken { user, client, tid, exp: *exp })
            }
            _ => None,
        }
    }

    /// The refusal this event records, if it refused a token.
    pub fn token_refusal(&self) -> Option<TokenRefusal<'_>> {
        match self {
            Happening::SipRegisterRejected { reason, kid, .. }
            | Happening::EdgeRequestRejected { reason, kid, .. }
            | Happening::RefreshRejected { reason, kid, .. }
            | Happening::UdsRequestRejected { reason, kid, .. }
            | Happening::PerfmonRequestRejected { reason, kid, .. }
            | Happening::ImLoginRejected { reason, kid, .. }
            | Happening::VoicemailLoginRejected { reason, kid, .. } => {
                Some(TokenRefusal { reason, kid: kid.as_deref() })
            }
            _ => None,
        }
    }

    /// The signing and encryption key checksums this event says a node now holds or serves
    /// (a sync, a fetch, a serve, a pull, Tomcat's restart).
    pub fn key_pair(&self) -> Option<(&str, &str)> {
        match self {
            Happening::KeysSynced { signing_key, encryption_key }
            | Happening::KeysServed { signing_key, encryption_key, .. }
            | Happening::KeysFetched { signing_key, encryption_key, .. }
            | Happening::KeysPulled { signing_key, encryption_key, .. } => {
                Some((signing_key, encryption_key))
            }
            Happening::ServiceRestarted {
                signing_key: Some(signing_key),
                encryption_key: Some(encryption_key),
                ..
            } => Some((signing_key, encryption_key)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::trace::catalogue::{Role, CATALOGUE};

    use super::*;

    /// The views and the catalogue agree: every acceptance role has its view, every event
    /// naming a key id is a refusal, every event with an access token's expiry issued one.
    #[test]
    fn each_view_covers_exactly_the_kinds_the_catalogue_gives_its_fields() {
        for spec in CATALOGUE {
            let blank = Happening::sketch(spec.kind, &[]);
            assert_eq!(
                blank.accepted_access_token().is_some(),
                spec.plays(Role::AcceptsAccessToken),
                "{}",
                spec.kind
            );
            assert_eq!(blank.token_refusal().is_some(), spec.field("kid").is_some(), "{}", spec.kind);
            assert_eq!(
                blank.issued_access_token().is_some(),
                spec.field("access_exp").is_some(),
                "{}",
                spec.kind
            );
            let holds_keys = spec.field("signing_key").is_some() && spec.field("encryption_key").is_some();
            assert!(blank.key_pair().is_none() || holds_keys, "{}", spec.kind);
        }
    }

    #[test]
    fn a_restart_without_keys_holds_none_and_one_with_keys_does() {
        let plain = Happening::sketch("service-restarted", &[("service", "tomcat".into())]);
        assert_eq!(plain.key_pair(), None);
        let tomcat = Happening::sketch(
            "service-restarted",
            &[("service", "tomcat".into()), ("signing_key", "s".into()), ("encryption_key", "e".into())],
        );
        assert_eq!(tomcat.key_pair(), Some(("s", "e")));
    }
}
