//! Why a token was refused: the one list of reasons every `*-rejected` event may give, each
//! with what it means for the people involved. The trace's field domain, the story's
//! explanation and the nodes' own refusals all come from [`Reason`], so a node cannot record
//! a reason the story cannot explain, and two nodes cannot spell one refusal two ways.

macro_rules! reasons {
    ($( #[doc = $meaning:literal] $variant:ident = $name:literal, )*) => {
        /// Why a token was refused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Reason {
            $( #[doc = $meaning] $variant, )*
        }

        impl Reason {
            /// Every reason, in the order the catalogue lists them.
            pub const ALL: &[Reason] = &[ $( Reason::$variant, )* ];
            /// Every reason's name, in the same order: the domain of the `reason` field.
            pub const NAMES: &[&str] = &[ $( $name, )* ];

            /// Its kebab-case name in the trace and on the wire.
            pub fn name(self) -> &'static str {
                match self {
                    $( Reason::$variant => $name, )*
                }
            }

            /// What it means, in a few words.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( Reason::$variant => $meaning.trim_ascii(), )*
                }
            }
        }
    };
}

reasons! {
    // The validator's rejections (`Rejection` in the plugin contract, kebab-case).
    /// not a token of the expected shape
    Malformed = "malformed",
    /// an algorithm other than the pinned one
    UnsupportedAlgorithm = "unsupported-algorithm",
    /// the token is signed with a key this node does not hold
    UnknownSigningKey = "unknown-signing-key",
    /// the signature does not match
    BadSignature = "bad-signature",
    /// the token is encrypted with a key this node does not hold
    UnknownEncryptionKey = "unknown-encryption-key",
    /// the token's claims do not decrypt
    DecryptionFailed = "decryption-failed",
    /// the token has expired
    Expired = "expired",
    /// the token is from the future (clock skew?)
    NotYetValid = "not-yet-valid",
    /// the token comes from another cluster
    WrongIssuer = "wrong-issuer",
    /// a refresh token was offered as an access token, or the reverse
    WrongTokenType = "wrong-token-type",
    /// an administrator revoked it
    Revoked = "revoked",
    /// the validator's own policy refused it
    Denied = "denied",
    /// the validator plugin failed
    PluginFault = "plugin-fault",
    // The node's own refusals, before or after any validator runs.
    /// no token was presented
    NoToken = "no-token",
    /// the node holds no keys yet
    NoKeys = "no-keys",
    /// Expressway-C's "Authorize by OAuth token with refresh" is off
    RefreshAuthorizationOff = "refresh-authorization-off",
    /// OAuth services are not enabled on this consumer
    OauthDisabled = "oauth-disabled",
    /// AuthZ has no record of this refresh token
    NotInTable = "not-in-table",
    /// its issuer has no record of this opaque token
    UnknownToken = "unknown-token",
    /// the node that issued this opaque token did not answer
    IssuerUnreachable = "issuer-unreachable",
    /// over MRA a phone gets its tokens by activation code only
    ActivationCodeRequired = "activation-code-required",
    /// the refresh login flow is disabled on this cluster
    RefreshLoginFlowDisabled = "refresh-login-flow-disabled",
    /// this cluster's AuthZ predates the refresh login flow
    ImplicitGrantOnly = "implicit-grant-only",
    /// the implicit grant issues tokens only with SSO
    ImplicitGrantNeedsSso = "implicit-grant-needs-sso",
}

impl Reason {
    /// The reason called `name`, if there is one.
    pub fn named(name: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|reason| reason.name() == name)
    }

    /// Why a consumer refuses before validating: no token presented, or no keys to check one.
    pub fn missing(has_keys: bool, has_token: bool) -> Option<Reason> {
        match (has_keys, has_token) {
            (_, false) => Some(Reason::NoToken),
            (false, true) => Some(Reason::NoKeys),
            (true, true) => None,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        for (reason, name) in Reason::ALL.iter().zip(Reason::NAMES) {
            assert_eq!(reason.name(), *name);
            assert_eq!(Reason::named(name), Some(*reason));
            assert!(!reason.meaning().is_empty());
        }
        assert_eq!(Reason::named("no-keys-or-token"), None, "one spelling per refusal");
    }

    #[test]
    fn a_missing_token_is_told_before_missing_keys() {
        assert_eq!(Reason::missing(false, false), Some(Reason::NoToken));
        assert_eq!(Reason::missing(true, false), Some(Reason::NoToken));
        assert_eq!(Reason::missing(false, true), Some(Reason::NoKeys));
        assert_eq!(Reason::missing(true, true), None);
    }
}
