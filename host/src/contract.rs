//! The plugin contract's version and the rule for which components a host accepts.
//!
//! `wit/validator.wit` is package `authzlab:validator@<CONTRACT_VERSION>`; a component built
//! against it imports the contract's interfaces by versioned name
//! (`authzlab:validator/keyring@0.2.0`), so the version it was built for is in the component
//! itself. The rule is semver's, as WIT applies it to packages: a host accepts a component
//! built for the same major version (for `0.x`, the same minor), any patch; anything else is
//! refused at load with both versions and what to do, before wasmtime's own "import not
//! found" could confuse anyone.

/// The WIT package of the contract.
pub const CONTRACT_PACKAGE: &str = "authzlab:validator";
/// The contract version this host speaks; `wit/validator.wit` says the same (a test holds it).
pub const CONTRACT_VERSION: &str = "0.3.0";

/// A `major.minor.patch` version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    /// `1.2.3`; pre-release and build suffixes are not used by the contract and refused.
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.split('.');
        let mut next = || parts.next().and_then(|part| part.parse::<u64>().ok());
        let version = Version { major: next()?, minor: next()?, patch: next()? };
        parts.next().is_none().then_some(version)
    }

    /// Whether a host speaking `self` accepts a component built for `built`.
    pub fn accepts(self, built: Version) -> bool {
        if self.major == 0 {
            built.major == 0 && built.minor == self.minor
        } else {
            built.major == self.major
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The host's contract version.
pub fn host_version() -> Version {
    Version::parse(CONTRACT_VERSION).expect("CONTRACT_VERSION is a version")
}

/// The contract version a component's imports name (`authzlab:validator/<interface>@<v>`),
/// if it imports any part of the contract; the first versioned import decides.
pub fn built_for<'a>(import_names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    import_names.into_iter().find_map(|name| {
        let rest = name.strip_prefix(CONTRACT_PACKAGE)?.strip_prefix('/')?;
        let (_interface, version) = rest.split_once('@')?;
        Some(version.to_string())
    })
}

/// What a plugin author does about a component the host refuses.
pub fn advice(host: Version, built: Option<Version>) -> String {
    match built {
        Some(built) if built > host => format!(
            "it needs a newer authzlab (one that speaks {CONTRACT_PACKAGE}@{built}), or rebuild it with the SDK of this one (wit/validator.wit, @{host})"
        ),
        _ => format!("rebuild it against this authzlab's wit/validator.wit (@{host}) with plugins/sdk"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_semver_as_wit_applies_it() {
        let host = Version::parse("0.1.0").unwrap();
        assert!(host.accepts(Version::parse("0.1.0").unwrap()));
        assert!(host.accepts(Version::parse("0.1.7").unwrap()), "any patch");
        assert!(!host.accepts(Version::parse("0.2.0").unwrap()), "0.x: the minor is breaking");
        assert!(!host.accepts(Version::parse("1.1.0").unwrap()));
        let one = Version::parse("1.4.0").unwrap();
        assert!(
            one.accepts(Version::parse("1.0.3").unwrap()) && one.accepts(Version::parse("1.9.0").unwrap())
        );
        assert!(!one.accepts(Version::parse("2.0.0").unwrap()));
        assert_eq!(Version::parse("0.1"), None);
        assert_eq!(Version::parse("0.1.0-rc1"), None);
        assert_eq!(Version::parse("0.1.0.0"), None);
    }

    #[test]
    fn the_version_comes_from_the_contract_imports_only() {
        let imports =
            ["wasi:io/streams@0.2.6", "authzlab:validator/keyring@0.2.0", "authzlab:validator/types@0.2.0"];
        assert_eq!(built_for(imports), Some("0.2.0".to_string()));
        assert_eq!(built_for(["wasi:cli/environment@0.2.6"]), None);
        assert_eq!(built_for(["authzlab:validatorx/keyring@0.2.0"]), None);
    }

    /// The WIT file and the host agree on the version they speak.
    #[test]
    fn the_wit_package_is_the_hosts_version() {
        let wit = include_str!("../../wit/validator.wit");
        assert!(wit.contains(&format!("package {CONTRACT_PACKAGE}@{CONTRACT_VERSION};")));
    }
}
