//! The CallManager release a scenario's cluster runs, and what each release brought.
//!
//! The documents date these features (docs/domain.md "Releases"): the refresh login flow
//! with CUCM 12.0 (document 000), SIP OAuth for Jabber with 12.5 and for phones with 14,
//! "OAuth Access Token for Devices" and the read-only "Cluster SIPOAuth Mode" parameter with
//! 14 (document 002), Device > Expressway-C with 12.5(1)SU1 (document 004), and the proxy
//! TFTP's phone-edge-trust rule with 14SU1 (document 002). A scenario names its release;
//! parsing refuses a setting or step the release does not have, and the nodes answer as
//! that release would.

use serde::Deserialize;

/// A CallManager release, oldest first: comparisons read "from this release on".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub enum Release {
    /// Before 12.0: AuthZ offers the implicit grant only, opaque access tokens kept in the
    /// issuing node's memory and validated elsewhere in proxy mode; no enterprise parameter
    /// for the refresh login flow. Spelled `old`: the documents name no release before 12.0.
    Old,
    /// 12.0: the refresh login flow (authorization-code grant, refresh tokens, AuthZ keys).
    R12_0,
    /// 12.5: SIP OAuth registration for Jabber, on the SIP OAuth ports and through the edge.
    R12_5,
    /// 12.5(1)SU1: the Device > Expressway-C page.
    R12_5Su1,
    /// 14: SIP OAuth for phones, "OAuth Access Token for Devices", "Enable OAuth
    /// Authentication" in the phone security profile, and "Cluster SIPOAuth Mode" shown as
    /// a read-only enterprise parameter.
    R14,
    /// 14SU1: with proxy TFTP, the off-cluster Tomcat root CA goes into the proxy's
    /// phone-edge-trust. The newest release the documents describe, and the default.
    R14Su1,
}

impl Release {
    /// Every release, oldest first.
    pub const ALL: [Release; 6] =
        [Release::Old, Release::R12_0, Release::R12_5, Release::R12_5Su1, Release::R14, Release::R14Su1];
    /// The release a scenario runs when it names none: the newest (`new` names it too).
    pub const NEWEST: Release = Release::R14Su1;

    /// How scenario files and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Release::Old => "old",
            Release::R12_0 => "12.0",
            Release::R12_5 => "12.5",
            Release::R12_5Su1 => "12.5SU1",
            Release::R14 => "14",
            Release::R14Su1 => "14SU1",
        }
    }

    /// The release a scenario file names: a release above, or `new` for the newest.
    pub fn named(name: &str) -> Option<Release> {
        if name == "new" {
            return Some(Release::NEWEST);
        }
        Release::ALL.into_iter().find(|release| release.name() == name)
    }

    /// "OAuth with Refresh Login Flow" exists: the authorization-code grant, refresh tokens,
    /// the AuthZ signing and encryption keys.
    pub fn has_refresh_login_flow(self) -> bool {
        self >= Release::R12_0
    }

    /// SIP OAuth registration (Jabber): the SIP OAuth ports, `utils sipOAuth-mode`, and the
    /// edge's CEOAuth zones.
    pub fn has_sip_oauth(self) -> bool {
        self >= Release::R12_5
    }

    /// The Device > Expressway-C page, where an administrator adds or edits Expressway-C's
    /// X.509 names by hand.
    pub fn has_expressway_c_page(self) -> bool {
        self >= Release::R12_5Su1
    }

    /// Phones with SIP OAuth: "OAuth Access Token for Devices" and the phone security
    /// profile's "Enable OAuth Authentication".
    pub fn has_phone_oauth(self) -> bool {
        self >= Release::R14
    }

    /// "Cluster SIPOAuth Mode" shown as a read-only enterprise parameter, updated by
    /// `utils sipOAuth-mode`.
    pub fn shows_sip_oauth_parameter(self) -> bool {
        self >= Release::R14
    }

    /// What a refusal tells the author: `feature` came with `release`, this cluster runs
    /// another.
    pub fn too_old(self, feature: &str, release: Release) -> String {
        format!("{feature} came with release {}; cluster.release is {:?}", release.name(), self.name())
    }
}

impl TryFrom<String> for Release {
    type Error = String;

    fn try_from(name: String) -> Result<Release, String> {
        Release::named(&name).ok_or_else(|| {
            let names: Vec<&str> = Release::ALL.iter().map(|release| release.name()).collect();
            format!(
                "unknown release {name:?}: one of {}, or \"new\" (= {})",
                names.join(", "),
                Release::NEWEST.name()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_release_has_what_came_with_it_and_before() {
        let has = |release: Release| {
            [
                release.has_refresh_login_flow(),
                release.has_sip_oauth(),
                release.has_expressway_c_page(),
                release.has_phone_oauth(),
                release.shows_sip_oauth_parameter(),
            ]
        };
        assert_eq!(has(Release::Old), [false; 5]);
        assert_eq!(has(Release::R12_0), [true, false, false, false, false]);
        assert_eq!(has(Release::R12_5), [true, true, false, false, false]);
        assert_eq!(has(Release::R12_5Su1), [true, true, true, false, false]);
        assert_eq!(has(Release::R14), [true; 5]);
        assert_eq!(has(Release::R14Su1), [true; 5]);
    }

    #[test]
    fn names_read_back_and_new_is_the_newest() {
        for release in Release::ALL {
            assert_eq!(Release::named(release.name()), Some(release));
        }
        assert_eq!(Release::named("new"), Some(Release::R14Su1));
        assert_eq!(Release::named("12.5su1"), None);
        let refused = Release::try_from("13".to_string()).unwrap_err();
        assert!(refused.contains("\"13\"") && refused.contains("12.5SU1"), "{refused}");
    }
}
