//! Conformance vectors (`authzlab-vectors/1`, docs/architecture.md "Vectors file"): tokens with the keys
//! that check them and the verdict each must get. `authzlab plugin check` runs a file through
//! a component and through the native reference validator; both must match every case.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::input::{bounded_vec, read_bounded, InputKind, ReadError};
use crate::keyring::{Keyring, KeyringError};
use crate::plugin::Plugin;
use crate::weakening::{Checks, Weakening};
use crate::{reference, Claims, GuestOutput, Request, TokenKind, Verdict};

/// The only format this reader understands.
pub const FORMAT: &str = "authzlab-vectors/1";
/// Cases one file may hold: a bound, so a hostile file cannot make a run endless.
pub const CASES_MAX: usize = 10_000;

/// A vectors file as written on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorsFile {
    pub format: String,
    /// The cluster id (`iss`) the tokens must come from.
    pub issuer: String,
    /// A JWK Set (RFC 7517): the keys the consumer holds.
    pub keys: Value,
    #[serde(deserialize_with = "bounded_vec::<_, _, CASES_MAX>")]
    pub cases: Vec<Case>,
}

/// One token and the verdict it must get.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// `access` or `refresh`: what the consumer expects to be handed.
    pub kind: Kind,
    pub token: String,
    /// The consumer's clock, UNIX seconds.
    pub now: u64,
    #[serde(default = "default_consumer")]
    pub consumer: String,
    /// `accept` or `reject:<rejection in kebab-case>`.
    pub expect: String,
    /// What the native reference validator must give when it is not `expect`: a case that
    /// tests the plugin's own policy (`expect = "reject:denied"` for a user it refuses)
    /// says here what the reference, which has no policy, gives (`accept`). Absent: `expect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native: Option<String>,
    /// When present, a subset of the accepted claims (`iss`, `sub`, `client_id`, `scope`,
    /// `tid`, `iat`, `exp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
}

fn default_consumer() -> String {
    "unity-connection".to_string()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Access,
    Refresh,
}

/// The expectations a reader accepts for `expect`.
pub const EXPECTATIONS: &[&str] = &[
    "accept",
    "reject:malformed",
    "reject:unsupported-algorithm",
    "reject:unknown-signing-key",
    "reject:bad-signature",
    "reject:unknown-encryption-key",
    "reject:decryption-failed",
    "reject:expired",
    "reject:not-yet-valid",
    "reject:wrong-issuer",
    "reject:wrong-token-type",
    "reject:revoked",
    "reject:denied",
];

/// Why a vectors file cannot be used; each names the file and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum VectorsError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{file}:{line}:{column}: {message}")]
    Json { file: String, line: usize, column: usize, message: String },
    #[error("{file}: format is {found:?}; this reader understands {FORMAT:?}")]
    Format { file: String, found: String },
    #[error("{file}: keys: {source}")]
    Keys { file: String, source: Box<KeyringError> },
    #[error("{file}: case {case:?}: expect {found:?} is not one of: {}", EXPECTATIONS.join(", "))]
    Expect { file: String, case: String, found: String },
    #[error("{file}: {count} cases; a file may hold at most {CASES_MAX}")]
    TooMany { file: String, count: usize },
}

/// A checked vectors file: its cases and the keyring built from its keys.
pub struct Vectors {
    pub cases: Vec<Case>,
    pub keyring: Arc<Keyring>,
}

impl Vectors {
    /// Reads (at most [`VECTORS_BYTES_MAX`](crate::input::VECTORS_BYTES_MAX)) and checks a file.
    pub fn load(path: &Path) -> Result<Vectors, VectorsError> {
        let bytes = read_bounded(path, InputKind::Vectors)?;
        Vectors::parse(&bytes, &path.display().to_string())
    }

    /// Parses and checks a vectors file's bytes (JSON, UTF-8); `file` names it in errors.
    pub fn parse(text: impl AsRef<[u8]>, file: &str) -> Result<Vectors, VectorsError> {
        let parsed: VectorsFile = serde_json::from_slice(text.as_ref()).map_err(|e| VectorsError::Json {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        })?;
        Vectors::from_file(parsed, file)
    }

    pub fn from_file(parsed: VectorsFile, file: &str) -> Result<Vectors, VectorsError> {
        if parsed.format != FORMAT {
            return Err(VectorsError::Format { file: file.to_string(), found: parsed.format });
        }
        if parsed.cases.len() > CASES_MAX {
            return Err(VectorsError::TooMany { file: file.to_string(), count: parsed.cases.len() });
        }
        for case in &parsed.cases {
            let unknown = [Some(&case.expect), case.native.as_ref()]
                .into_iter()
                .flatten()
                .find(|expect| !EXPECTATIONS.contains(&expect.as_str()));
            if let Some(found) = unknown {
                return Err(VectorsError::Expect {
                    file: file.to_string(),
                    case: case.name.clone(),
                    found: found.clone(),
                });
            }
        }
        let keyring = Keyring::from_jwk_set(parsed.issuer, &parsed.keys)
            .map_err(|source| VectorsError::Keys { file: file.to_string(), source: Box::new(source) })?;
        Ok(Vectors { cases: parsed.cases, keyring: Arc::new(keyring) })
    }

    /// The case named `name` (names are what a report shows; the first such case).
    pub fn case(&self, name: &str) -> Option<&Case> {
        self.cases.iter().find(|case| case.name == name)
    }

    /// Runs every case through `plugin` and through the native reference validator.
    pub fn run(&self, plugin: &mut Plugin) -> Vec<Outcome> {
        self.cases.iter().map(|case| self.run_case(plugin, case)).collect()
    }

    /// The weakened copies of the reference validator these cases do not catch: each passes
    /// every case although one of its checks is weaker than the contract's. An empty list
    /// means a plugin with any one of those weaknesses fails a case here.
    pub fn uncaught_weakenings(&self) -> Vec<Weakening> {
        Weakening::ALL
            .into_iter()
            .filter(|weakening| {
                self.cases.iter().all(|case| {
                    let verdict = Verdict::from(reference::validate_with(
                        &self.keyring,
                        &case.request(),
                        Checks(Some(*weakening)),
                    ));
                    meets(&verdict, case.native_expect(), case.claims.as_ref())
                })
            })
            .collect()
    }

    /// The cases again, last first, through `fresh` (a new instance of the same component):
    /// each whose verdict differs from the one `forward` (the cases in order, on another
    /// instance) recorded. A validator's verdict may depend on the token, the keys and the
    /// clock only; a difference here means it kept something from earlier calls (a cache of
    /// accepted tokens, say).
    pub fn order_dependence(&self, fresh: &mut Plugin, forward: &[Outcome]) -> Vec<OrderChange> {
        let mut changes: Vec<OrderChange> = self
            .cases
            .iter()
            .zip(forward)
            .rev()
            .filter_map(|(case, outcome)| {
                let reversed = fresh.validate(self.keyring.clone(), &case.request());
                (reversed != outcome.component).then(|| OrderChange {
                    case: case.name.clone(),
                    in_order: outcome.component.clone(),
                    reversed,
                })
            })
            .collect();
        changes.reverse();
        changes
    }

    /// Runs one case through `plugin` and through the native reference validator.
    pub fn run_case(&self, plugin: &mut Plugin, case: &Case) -> Outcome {
        let request = case.request();
        let component = plugin.validate(self.keyring.clone(), &request);
        Outcome {
            case: case.name.clone(),
            expected: case.expect.clone(),
            expected_native: case.native_expect().to_string(),
            expected_claims: case.claims.clone(),
            component,
            fuel: plugin.last_fuel_used(),
            said: plugin.take_output(),
            native: Verdict::from(reference::validate(&self.keyring, &request)),
        }
    }
}

impl Case {
    /// What the native reference validator must give.
    pub fn native_expect(&self) -> &str {
        self.native.as_deref().unwrap_or(&self.expect)
    }

    pub fn request(&self) -> Request {
        Request {
            token: self.token.clone(),
            kind: match self.kind {
                Kind::Access => TokenKind::Access,
                Kind::Refresh => TokenKind::Refresh,
            },
            now: self.now,
            consumer: self.consumer.clone(),
        }
    }
}

/// A case whose verdict changed with the order the cases ran in.
pub struct OrderChange {
    pub case: String,
    /// The verdict with the cases in file order.
    pub in_order: Verdict,
    /// The verdict with the cases last first, on a fresh instance.
    pub reversed: Verdict,
}

/// One case's verdicts.
pub struct Outcome {
    pub case: String,
    pub expected: String,
    /// What the native reference must give: the case's `native`, or else `expected`.
    pub expected_native: String,
    pub expected_claims: Option<Map<String, Value>>,
    pub component: Verdict,
    /// Fuel the component spent on the case (its deterministic CPU clock).
    pub fuel: u64,
    pub native: Verdict,
    /// What the component logged or wrote to stderr on the case.
    pub said: GuestOutput,
}

impl Outcome {
    pub fn component_ok(&self) -> bool {
        meets(&self.component, &self.expected, self.expected_claims.as_ref())
    }

    pub fn native_ok(&self) -> bool {
        meets(&self.native, &self.expected_native, self.expected_claims.as_ref())
    }

    pub fn passed(&self) -> bool {
        self.component_ok() && self.native_ok()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, component {}, native {}",
            self.case, self.expected, self.component, self.native
        )
    }
}

/// Does `verdict` meet `expected` (and, when accepted, carry every expected claim)?
fn meets(verdict: &Verdict, expected: &str, claims: Option<&Map<String, Value>>) -> bool {
    if verdict.name() != expected {
        return false;
    }
    match (verdict, claims) {
        (Verdict::Accepted(accepted), Some(wanted)) => {
            let accepted = claims_json(accepted);
            wanted.iter().all(|(name, value)| accepted.get(name) == Some(value))
        }
        _ => true,
    }
}

/// Accepted claims under their token names, as a vectors file writes them.
pub fn claims_json(claims: &Claims) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("iss".into(), claims.issuer.clone().into());
    map.insert("sub".into(), claims.subject.clone().into());
    map.insert("client_id".into(), claims.client_id.clone().into());
    map.insert("scope".into(), claims.scope.join(" ").into());
    map.insert("tid".into(), claims.token_id.clone().into());
    map.insert("iat".into(), claims.issued_at.into());
    map.insert("exp".into(), claims.expires_at.into());
    map
}
