//! Deliberately weakened copies of the native reference validator, to measure the
//! conformance suite itself: a weakening the suite's cases do not catch is a bug a plugin
//! could have and still pass every case. `authzlab plugin check` reports the figure, and a
//! test holds the built-in suite to catching every weakening listed here.

use crate::{TokenKind, CLOCK_LEEWAY_S};

/// One check of the reference made weaker, and only that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakening {
    /// Refresh tokens get a clock leeway of 2^40 s: they skip every clock check.
    RefreshLeewayUnbounded,
    /// Access tokens get a clock leeway of 2^40 s.
    AccessLeewayUnbounded,
    /// The leeway is one second longer than the contract's.
    LeewayOneSecondLonger,
    /// `iat` is never checked (a token from the future passes).
    NoIssueTimeCheck,
    /// `iss` is never compared with the trusted issuer.
    NoIssuerCheck,
    /// The claims' `ctyp` is never compared with the kind asked for.
    NoTokenTypeCheck,
    /// The nested JWT inside the JWE is read without verifying its signature.
    NoNestedSignatureCheck,
    /// `zip` and `crit` headers are ignored instead of refused.
    NoExtensionRefusal,
    /// The JWE's `cty` is not checked.
    NoCtyCheck,
}

impl Weakening {
    pub const ALL: [Weakening; 9] = [
        Weakening::RefreshLeewayUnbounded,
        Weakening::AccessLeewayUnbounded,
        Weakening::LeewayOneSecondLonger,
        Weakening::NoIssueTimeCheck,
        Weakening::NoIssuerCheck,
        Weakening::NoTokenTypeCheck,
        Weakening::NoNestedSignatureCheck,
        Weakening::NoExtensionRefusal,
        Weakening::NoCtyCheck,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Weakening::RefreshLeewayUnbounded => "refresh tokens skip the clock (leeway 2^40 s)",
            Weakening::AccessLeewayUnbounded => "access tokens skip the clock (leeway 2^40 s)",
            Weakening::LeewayOneSecondLonger => "leeway one second longer",
            Weakening::NoIssueTimeCheck => "no iat check",
            Weakening::NoIssuerCheck => "no iss check",
            Weakening::NoTokenTypeCheck => "no ctyp check",
            Weakening::NoNestedSignatureCheck => "nested JWT unverified",
            Weakening::NoExtensionRefusal => "zip and crit ignored",
            Weakening::NoCtyCheck => "no JWE cty check",
        }
    }
}

/// What the reference checks: all of it, or all but one weakened check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks(pub Option<Weakening>);

/// A leeway large enough to wave every clock through.
const UNBOUNDED_LEEWAY_S: u64 = 1 << 40;

impl Checks {
    /// The contract's checks, all of them.
    pub const FULL: Checks = Checks(None);

    fn weakened(self, weakening: Weakening) -> bool {
        self.0 == Some(weakening)
    }

    /// The clock leeway for a token of `kind`.
    pub fn leeway_s(self, kind: TokenKind) -> u64 {
        match (self.0, kind) {
            (Some(Weakening::RefreshLeewayUnbounded), TokenKind::Refresh)
            | (Some(Weakening::AccessLeewayUnbounded), TokenKind::Access) => UNBOUNDED_LEEWAY_S,
            (Some(Weakening::LeewayOneSecondLonger), _) => CLOCK_LEEWAY_S + 1,
            _ => CLOCK_LEEWAY_S,
        }
    }

    pub fn issue_time(self) -> bool {
        !self.weakened(Weakening::NoIssueTimeCheck)
    }

    pub fn issuer(self) -> bool {
        !self.weakened(Weakening::NoIssuerCheck)
    }

    pub fn token_type(self) -> bool {
        !self.weakened(Weakening::NoTokenTypeCheck)
    }

    pub fn nested_signature(self) -> bool {
        !self.weakened(Weakening::NoNestedSignatureCheck)
    }

    pub fn extensions(self) -> bool {
        !self.weakened(Weakening::NoExtensionRefusal)
    }

    pub fn cty(self) -> bool {
        !self.weakened(Weakening::NoCtyCheck)
    }
}
