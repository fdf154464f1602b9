//! The unity-connection component and the native reference validator reach the same verdict
//! on every conformance vector, and that verdict is the one the vector expects.
//!
//! How: `tests/vectors/unity-connection.json` is the built-in suite
//! (`authzlab::conformance::suite`, made from the token service with a fixed seed, so anyone
//! can see how each hostile token was made) written out, and compared with it here; `AUTHZLAB_UPDATE_VECTORS=1 cargo test -p authzlab-tests --test conformance`
//! rewrites it. Each case is then run through both validators.

mod common;

use std::path::PathBuf;

use authzlab::conformance::suite::{build_vectors, parts, written_vectors, VECTOR_SEED};
use authzlab::seeds::Seeds;
use authzlab::tokens::{Lifetimes, TokenService};
use authzlab_host::vectors::Vectors;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

fn vectors_path() -> PathBuf {
    common::repo().join("tests/vectors/unity-connection.json")
}

#[test]
fn committed_vectors_are_the_generated_ones() {
    let generated = serde_json::to_string_pretty(&written_vectors()).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var_os("AUTHZLAB_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).expect("tests/vectors/unity-connection.json exists");
    assert!(committed == generated, "{} is stale: rerun with AUTHZLAB_UPDATE_VECTORS=1", path.display());
}

/// The consumers' plugins built with the same SDK (IM and Presence, CallManager's SIP check,
/// the Expressway edge) agree with the native reference on every vector too (every valid
/// vector carries the Unified Communications scope their policies ask for).
#[test]
fn every_consumer_component_agrees_with_every_vector() {
    let vectors = Vectors::load(&vectors_path()).expect("the committed vectors load");
    for (artifact, consumer) in [
        (authzlab_plugins::IMP, "imp"),
        (authzlab_plugins::CALLMANAGER_SIP, "callmanager-sip"),
        (authzlab_plugins::EXPRESSWAY, "expressway"),
    ] {
        let mut plugin = common::load(artifact);
        assert_eq!(plugin.info().consumer, consumer);
        let outcomes = vectors.run(&mut plugin);
        let failures: Vec<String> = outcomes.iter().filter(|o| !o.passed()).map(|o| o.to_string()).collect();
        assert!(failures.is_empty(), "{consumer} mismatches:\n{}", failures.join("\n"));
    }
}

#[test]
fn component_and_native_validator_agree_with_every_vector() {
    let vectors = Vectors::load(&vectors_path()).expect("the committed vectors load");
    let mut plugin = common::load(authzlab_plugins::UNITY_CONNECTION);
    let outcomes = vectors.run(&mut plugin);
    assert!(outcomes.len() >= 20, "all the issue's cases are present");
    let failures: Vec<String> = outcomes.iter().filter(|o| !o.passed()).map(|o| o.to_string()).collect();
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
    for outcome in &outcomes {
        assert_eq!(outcome.component, outcome.native, "{}: the two validators disagree", outcome.case);
    }
    // The negative space: a vector that expects the wrong verdict is caught.
    let mut wrong = vectors;
    wrong.cases.truncate(1);
    wrong.cases[0].expect = "reject:expired".to_string();
    assert!(!wrong.run(&mut plugin)[0].passed());
}

/// The built-in suite catches every weakened copy of the reference (a plugin that skips any
/// one of those checks fails a case); without its refresh-token cases, the issue's plugin
/// (refresh tokens with a 2^40 s leeway) would pass, which is why they are there.
#[test]
fn the_suite_catches_every_weakened_reference_and_would_miss_one_without_its_refresh_cases() {
    use authzlab_host::weakening::Weakening;
    let suite = Vectors::from_file(build_vectors(), "the built-in suite").unwrap();
    assert_eq!(suite.uncaught_weakenings(), Vec::<Weakening>::new());
    let mut fewer = build_vectors();
    fewer.cases.retain(|case| !case.name.starts_with("refresh-"));
    let fewer = Vectors::from_file(fewer, "without refresh cases").unwrap();
    assert_eq!(fewer.uncaught_weakenings(), vec![Weakening::RefreshLeewayUnbounded]);
}

#[test]
fn every_named_case_is_covered() {
    let names: Vec<String> = build_vectors().cases.into_iter().map(|case| case.name).collect();
    for required in [
        "valid-access-token",
        "refresh-expired",
        "refresh-expired-within-leeway",
        "refresh-tampered-signature",
        "refresh-unknown-signing-kid",
        "refresh-wrong-issuer",
        "bare-claims-in-the-jwe",
        "nested-jwt-tampered-signature",
        "expired",
        "not-yet-valid",
        "tampered-signature",
        "unknown-signing-kid",
        "unknown-encryption-kid",
        "tampered-jwe-tag",
        "alg-none",
        "hs256-keyed-with-rsa-public-key",
        "wrong-ctyp",
        "truncated",
        "non-base64",
        "refresh-token-as-access-token",
        "access-token-as-refresh-token",
        "expired-within-leeway",
        "issued-1s-beyond-leeway",
        "kid-with-path",
        "kid-with-sql",
        "kid-with-control-characters",
        "alg-None",
        "alg-nOnE",
        "rs256-over-a-jwe-that-is-not-dir",
        "jwe-where-a-jws-belongs",
        "jws-where-a-jwe-belongs",
        "zip-in-jws-header",
        "zip-in-jwe-header",
        "crit-in-jws-header",
        "crit-in-jwe-header",
        "jwk-header-not-followed",
        "jku-header-not-followed",
        "x5u-header-not-followed",
        "tampered-jwe-tag",
        "tampered-jwe-iv",
        "tampered-jwe-ciphertext",
        "wrong-cty",
        "duplicate-claim-member",
        "duplicate-header-member",
        "deeply-nested-claims",
        "one-mebibyte-token",
        "empty",
    ] {
        assert!(names.iter().any(|name| name == required), "missing case {required}");
    }
}

#[test]
fn a_bad_vectors_file_names_the_file_and_the_problem() {
    let error = Vectors::parse("{ \"format\": \"authzlab-vectors/1\", ", "broken.json").err().unwrap();
    assert!(error.to_string().starts_with("broken.json:1:"), "{error}");
    let wrong_format = r#"{"format":"other/2","issuer":"x","keys":{"keys":[]},"cases":[]}"#;
    let error = Vectors::parse(wrong_format, "v.json").err().unwrap().to_string();
    assert!(error.contains("other/2") && error.contains("authzlab-vectors/1"), "{error}");
    let bad_expect = r#"{"format":"authzlab-vectors/1","issuer":"x","keys":{"keys":[]},
        "cases":[{"name":"a","kind":"access","token":"t","now":1,"expect":"reject:nope"}]}"#;
    let error = Vectors::parse(bad_expect, "v.json").err().unwrap().to_string();
    assert!(error.contains("reject:nope") && error.contains("case \"a\""), "{error}");
}

/// SplitMix64: a seeded stream for mutations, so a failing case names its seed and replays.
struct Mutations(u64);

impl Mutations {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One edit of the kinds a network, a bug or an attacker makes.
    fn mutate(&mut self, token: &str) -> String {
        let mut bytes = token.as_bytes().to_vec();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
        if bytes.is_empty() {
            return (alphabet[self.below(alphabet.len())] as char).to_string();
        }
        let at = self.below(bytes.len());
        match self.below(5) {
            0 => bytes[at] = alphabet[self.below(alphabet.len())],
            1 => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, alphabet[self.below(alphabet.len())]),
            3 => bytes.truncate(at),
            _ => {
                let end = (at + 1 + self.below(40)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        String::from_utf8(bytes).expect("edits use ASCII only")
    }
}

/// A verdict with every payload but `malformed`'s free text, which two validators may word
/// differently (the contract compares the rejection, kid, alg, exp and claims, not prose).
fn comparable(verdict: &authzlab_host::Verdict) -> String {
    match verdict {
        authzlab_host::Verdict::Rejected(authzlab_host::Rejection::Malformed(_)) => {
            "reject:malformed".to_string()
        }
        other => format!("{other:?}"),
    }
}

/// Mutated tokens per CI run; `AUTHZLAB_DIFFERENTIAL_ROUNDS=1000000` runs a longer search
/// (README, "Writing a validator plugin").
const DIFFERENTIAL_ROUNDS_DEFAULT: usize = 10_000;

/// Differential testing: tokens of both kinds mutated (headers, parts, claims, the JWE
/// inside re-signed so that edits reach past the signature) get the same verdict class from
/// the native reference and from every reference plugin.
#[test]
fn mutated_tokens_get_the_same_verdict_from_every_validator() {
    let rounds = std::env::var("AUTHZLAB_DIFFERENTIAL_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(DIFFERENTIAL_ROUNDS_DEFAULT);
    let vectors = Vectors::load(&vectors_path()).unwrap();
    let mut plugins: Vec<_> = [
        authzlab_plugins::UNITY_CONNECTION,
        authzlab_plugins::IMP,
        authzlab_plugins::CALLMANAGER_SIP,
        authzlab_plugins::EXPRESSWAY,
    ]
    .into_iter()
    .map(common::load)
    .collect();
    // The service that minted the vectors, rebuilt from its seed: it re-signs mutated
    // payloads so that edits inside the JWE get past the signature check.
    let signer = TokenService::new(&Seeds::new(VECTOR_SEED), Lifetimes::defaults());
    let seeds = ["valid-access-token", "valid-refresh-token", "tampered-jwe-tag", "zip-in-jwe-header"];
    let mut mutations = Mutations(0x5eed);
    let mut verdicts = std::collections::BTreeMap::new();
    for (round, name) in (0..rounds).map(|round| (round, seeds[round % seeds.len()])) {
        let case = vectors.case(name).unwrap();
        let mut request = case.request();
        // Every fourth round, one from the other kind's side: a token of one kind offered as the other.
        if round % 4 == 3 {
            request.kind = match request.kind {
                authzlab_host::TokenKind::Access => authzlab_host::TokenKind::Refresh,
                authzlab_host::TokenKind::Refresh => authzlab_host::TokenKind::Access,
            };
        }
        let inner = round % 2 == 1 && name != "valid-refresh-token";
        let payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(&request.token)[1]).unwrap()).unwrap();
        let mut target =
            if inner { payload["private"].as_str().unwrap().to_string() } else { request.token.clone() };
        // One to three edits; several edits reach past the first failing check.
        for _ in 0..=mutations.below(3) {
            target = mutations.mutate(&target);
        }
        request.token = if inner {
            signer.sign(&serde_json::to_vec(&json!({ "private": target })).unwrap())
        } else {
            target
        };
        let native =
            authzlab_host::Verdict::from(authzlab_host::reference::validate(&vectors.keyring, &request));
        for plugin in &mut plugins {
            let component = plugin.validate(vectors.keyring.clone(), &request);
            assert_eq!(
                comparable(&component),
                comparable(&native),
                "round {round} from {name}, plugin {}: token {:?}",
                plugin.name(),
                request.token
            );
        }
        *verdicts.entry(native.name()).or_insert(0) += 1;
    }
    // The mutations reach several checks, not just the parser.
    for reached in ["reject:bad-signature", "reject:malformed", "reject:decryption-failed"] {
        assert!(verdicts.contains_key(reached), "{reached} not reached: {verdicts:?}");
    }
    assert!(verdicts.len() >= 5, "verdicts reached: {verdicts:?}");
}

/// The SDK decodes base64url sixteen characters at a time inside a component (wasm SIMD:
/// range compares per character class, then a shuffle), and finds the dots between parts the
/// same way. Every printable ASCII character and two non-ASCII ones, at each of a block's
/// sixteen places in the signature, get the verdict the alphabet says they must (a base64url
/// character changes the signature: `bad-signature`; anything else is `malformed`), from the
/// component and from the native reference alike. The edges of each class (`@` `[` `` ` ``
/// `{` `/` `:` `,` `.` `^` `=`) are what a wrong compare would let through.
#[test]
fn every_character_at_every_place_of_a_decoded_block_is_judged_as_the_alphabet_says() {
    let vectors = Vectors::load(&vectors_path()).unwrap();
    let valid = vectors.case("valid-access-token").expect("the suite has a valid access token");
    let mut plugin = common::load(authzlab_plugins::UNITY_CONNECTION);
    let signature_at = valid.request().token.rfind('.').unwrap() + 1;
    let printable = (0x20u8..0x7f).map(char::from);
    let mut judged = 0;
    for replacement in printable.chain(['\u{e9}', '\u{20ac}']) {
        for place in 16..32 {
            let mut request = valid.request();
            let at = signature_at + place;
            let original = request.token[at..].chars().next().unwrap();
            if original == replacement {
                continue;
            }
            request.token.replace_range(at..at + 1, replacement.encode_utf8(&mut [0; 4]));
            let expected = if replacement.is_ascii_alphanumeric() || replacement == '-' || replacement == '_'
            {
                "reject:bad-signature"
            } else {
                "reject:malformed"
            };
            let native =
                authzlab_host::Verdict::from(authzlab_host::reference::validate(&vectors.keyring, &request));
            let component = plugin.validate(vectors.keyring.clone(), &request);
            assert_eq!(native.name(), expected, "native, {replacement:?} at {place}");
            assert_eq!(component.name(), expected, "component, {replacement:?} at {place}");
            assert_eq!(comparable(&component), comparable(&native), "{replacement:?} at {place}");
            judged += 1;
        }
    }
    assert!(judged > 95 * 15, "{judged} tokens judged");
}

/// The SDK reads an access token's payload without the JSON parser when it is exactly
/// `{"private":"<compact JWE>"}`, checking sixteen characters at a time inside a component
/// (wasm SIMD), and gives every other payload to the parser. Both ways must give the
/// parser's verdict: payloads of other shapes (whitespace, an escape, a second member, the
/// member twice, another name), and every printable ASCII character and two non-ASCII ones
/// at each of a block's sixteen places in the JWE's ciphertext, each payload properly signed.
/// A base64url character there changes the ciphertext (`decryption-failed`); a dot adds a
/// part and anything else is not base64url (`malformed`).
#[test]
fn an_access_payload_read_without_the_json_parser_gets_the_parsers_verdict() {
    let vectors = Vectors::load(&vectors_path()).unwrap();
    let valid = vectors.case("valid-access-token").expect("the suite has a valid access token");
    let mut plugin = common::load(authzlab_plugins::UNITY_CONNECTION);
    let signer = TokenService::new(&Seeds::new(VECTOR_SEED), Lifetimes::defaults());
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts(&valid.request().token)[1]).unwrap()).unwrap();
    let jwe = payload["private"].as_str().unwrap().to_string();
    let mut judge = |payload: &[u8], expected: &str, what: &str| {
        let mut request = valid.request();
        request.token = signer.sign(payload);
        let native =
            authzlab_host::Verdict::from(authzlab_host::reference::validate(&vectors.keyring, &request));
        let component = plugin.validate(vectors.keyring.clone(), &request);
        assert_eq!(native.name(), expected, "native, {what}");
        assert_eq!(comparable(&component), comparable(&native), "{what}");
    };

    let escaped_first = format!(r#"{{"private":"\u{:04x}{}"}}"#, jwe.as_bytes()[0], &jwe[1..]);
    for (what, payload, expected) in [
        ("the minted shape", format!(r#"{{"private":"{jwe}"}}"#), "accept"),
        ("a space after the brace", format!(r#"{{ "private":"{jwe}"}}"#), "accept"),
        ("a newline at the end", format!("{{\"private\":\"{jwe}\"}}\n"), "accept"),
        ("an escaped first character", escaped_first, "accept"),
        ("a second member", format!(r#"{{"private":"{jwe}","x":1}}"#), "accept"),
        ("the member twice", format!(r#"{{"private":"{jwe}","private":"{jwe}"}}"#), "reject:malformed"),
        ("another name", format!(r#"{{"privatE":"{jwe}"}}"#), "reject:malformed"),
        ("a longer name", format!(r#"{{"private_":"{jwe}"}}"#), "reject:malformed"),
        ("an empty JWE", r#"{"private":""}"#.to_string(), "reject:malformed"),
        ("text after the object", format!(r#"{{"private":"{jwe}"}}x"#), "reject:malformed"),
        ("no closing brace", format!(r#"{{"private":"{jwe}""#), "reject:malformed"),
    ] {
        judge(payload.as_bytes(), expected, what);
    }

    let ciphertext_at = jwe.match_indices('.').nth(2).unwrap().0 + 1;
    let printable = (0x20u8..0x7f).map(char::from);
    let mut judged = 0;
    for replacement in printable.chain(['\u{e9}', '\u{20ac}']) {
        for place in 32..48 {
            let at = ciphertext_at + place;
            if jwe[at..].starts_with(replacement) {
                continue;
            }
            let mut text = jwe.clone();
            text.replace_range(at..at + 1, replacement.encode_utf8(&mut [0; 4]));
            let alphabet = replacement.is_ascii_alphanumeric() || replacement == '-' || replacement == '_';
            let expected = if alphabet { "reject:decryption-failed" } else { "reject:malformed" };
            // serde_json writes `{"private":"..."}` with `"` and `\` escaped, the rest as is.
            let payload = serde_json::to_vec(&json!({ "private": text })).unwrap();
            judge(&payload, expected, &format!("{replacement:?} at {place} of the ciphertext"));
            judged += 1;
        }
    }
    assert!(judged > 95 * 15, "{judged} payloads judged");

    // The same JWE with one character written as a JSON escape, at each of a block's
    // sixteen places: the parser reads the JWE unchanged (`accept`), so a check that missed
    // the backslash in any lane would hand the escape on as text and fail.
    for place in 32..48 {
        let at = ciphertext_at + place;
        let escaped = format!("{}\\u{:04x}{}", &jwe[..at], jwe.as_bytes()[at], &jwe[at + 1..]);
        let payload = format!(r#"{{"private":"{escaped}"}}"#);
        judge(payload.as_bytes(), "accept", &format!("an escape at {place} of the ciphertext"));
    }
}

/// The built-in suite (`authzlab plugin check` without `--vectors`, the 1 MiB token
/// included): all four reference plugins, the starter (`plugins/template`, built by this
/// test's build from a clean clone, as `authzlab plugin new` copies it) and the native
/// reference reach every expected verdict, and each component reports the contract it was
/// built for and its SHA-256.
#[test]
fn the_built_in_suite_passes_every_reference_plugin_and_the_starter() {
    let suite = Vectors::from_file(build_vectors(), "the built-in suite").unwrap();
    assert!(suite.cases.iter().any(|case| case.token.len() > 1 << 20), "the mebibyte token runs here");
    for artifact in [
        authzlab_plugins::UNITY_CONNECTION,
        authzlab_plugins::IMP,
        authzlab_plugins::CALLMANAGER_SIP,
        authzlab_plugins::EXPRESSWAY,
        authzlab_plugins::TEMPLATE,
    ] {
        let mut plugin = common::load(artifact);
        assert_eq!(plugin.contract(), authzlab_host::contract::CONTRACT_VERSION);
        assert_eq!(plugin.sha256().len(), 64);
        let failures: Vec<String> =
            suite.run(&mut plugin).iter().filter(|o| !o.passed()).map(|o| o.to_string()).collect();
        assert!(failures.is_empty(), "{}: {}", artifact.name, failures.join("\n"));
    }
}

/// `plugin check --scenarios`: the starter agrees with the native reference at every token
/// Unity is shown across key regenerations, a revocation and clock skew; a component that
/// refuses everything is caught at its first presentation in every scenario.
#[test]
fn over_time_the_starter_agrees_everywhere_and_a_wrong_component_is_caught_at_its_first_token() {
    use authzlab::conformance::shadow::Role;
    use authzlab::conformance::time_aware;
    let unity = Role::UnityConnection;
    let scores =
        time_aware::run(std::path::Path::new(authzlab_plugins::TEMPLATE.path), unity, common::plugins())
            .unwrap();
    assert_eq!(scores.len(), time_aware::SCENARIOS.len());
    for score in &scores {
        assert!(score.passed(), "{score:?}");
        assert!(score.presentations >= 50, "{score:?}");
    }
    // Clock skew beyond the leeway makes both validators refuse fresh tokens for a while.
    let beyond = scores.iter().find(|score| score.scenario == "consumer-clock-beyond-leeway").unwrap();
    assert!(beyond.accepted < beyond.presentations, "{beyond:?}");
    let wrong =
        time_aware::run(std::path::Path::new(authzlab_plugins::FAULTY.path), unity, common::plugins())
            .unwrap();
    for score in &wrong {
        let difference = score.first_difference.as_deref().unwrap_or_else(|| panic!("{score:?}"));
        assert!(difference.contains("component reject:denied, native accept"), "{difference}");
    }
}

/// `plugin check --scenarios` runs a plugin where it is written to run: the reference
/// plugins for IM and Presence, CallManager's SIP registration and Expressway-C each agree with
/// the native reference at every token their consumer is shown in that consumer's scenarios;
/// the faulty one, run in each of those roles, is caught there.
#[test]
fn over_time_each_plugin_runs_as_the_consumer_it_serves() {
    use authzlab::conformance::shadow::Role;
    use authzlab::conformance::time_aware;
    let roles = [
        (authzlab_plugins::IMP, Role::ImAndPresence),
        (authzlab_plugins::CALLMANAGER_SIP, Role::CallManagerSip),
        (authzlab_plugins::EXPRESSWAY, Role::Expressway),
    ];
    for (artifact, role) in roles {
        let plugin = common::load(artifact);
        assert_eq!(Role::of_consumer(&plugin.info().consumer), role, "{}", artifact.name);
        let scores = time_aware::run(std::path::Path::new(artifact.path), role, common::plugins()).unwrap();
        assert_eq!(scores.len(), time_aware::scenarios_for(role).len());
        for score in &scores {
            assert!(score.passed(), "{}: {score:?}", artifact.name);
        }
        let wrong =
            time_aware::run(std::path::Path::new(authzlab_plugins::FAULTY.path), role, common::plugins())
                .unwrap();
        assert!(wrong.iter().all(|score| score.first_difference.is_some()), "{role:?}: {wrong:?}");
    }
}

/// The native reference beside a consumer's plugin changes nothing in the run: same trace
/// hash, for Unity and for IM and Presence alike.
#[test]
fn a_shadowed_run_replays_exactly_as_one_without() {
    use authzlab::conformance::shadow::{Role, Shadow};
    for (file, role) in [
        ("scenarios/signing-key-regenerated.toml", Role::UnityConnection),
        ("scenarios/key-mismatch-and-fix.toml", Role::ImAndPresence),
    ] {
        let scenario = authzlab::scenario::Scenario::load(&common::repo().join(file)).unwrap();
        let plain = authzlab::cluster::run(&scenario, 7, common::plugins()).unwrap();
        let shadow = Shadow::watching(role);
        let options = authzlab::cluster::RunOptions { shadow: Some(shadow.clone()), ..Default::default() };
        let shadowed = authzlab::cluster::run_with(&scenario, 7, common::plugins(), options).unwrap();
        assert_eq!(plain.trace.hash, shadowed.trace.hash, "{file}");
        assert!(!shadow.presentations().is_empty(), "{file}");
    }
}
