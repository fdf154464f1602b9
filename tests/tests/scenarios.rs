//! Every scenario in `scenarios/` runs as a test and must pass; runs replay byte for byte.
//!
//! How: each scenario runs with its own seed; its story timeline is an insta snapshot (read
//! and checked by hand when accepted), and its expectations and invariants must all hold.
//! Determinism: the same seed twice gives the same trace hash, other seeds give others.

mod common;

use std::path::Path;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use authzlab::cluster::{self, Run, RunOptions};
use authzlab::scenario::Scenario;
use authzlab::trace::catalogue::EventKind;

/// Every scenario file and the test that runs it. A file missing here fails
/// `every_scenario_file_is_run`.
const SCENARIOS: &[&str] = &[
    "administrator-cli-answers.toml",
    "access-expiry-changed.toml",
    "clocks-behind-accept-expired.toml",
    "consumer-clock-beyond-leeway.toml",
    "consumer-clock-within-leeway.toml",
    "cucm-trust-deleted.toml",
    "cup-xmpp-regenerated-untrusted-on-jabber.toml",
    "encryption-key-regenerated.toml",
    "expressway-c-entry-by-hand.toml",
    "expressway-c-in-another-domain.toml",
    "expressway-oauth-with-refresh-off.toml",
    "expressway-reissued-san.toml",
    "imp-certificates-in-order.toml",
    "imp-certificates-out-of-order.toml",
    "imp-expired-trust-deleted.toml",
    "imp-node-misses-distribution.toml",
    "imp-restart-with-high-availability-on.toml",
    "isolated-subscriber-during-regeneration.toml",
    "key-mismatch-and-fix.toml",
    "mra-phone-activation-code.toml",
    "mra-trust-fixed-mid-run.toml",
    "new-client-on-old-cluster.toml",
    "old-client-on-new-cluster.toml",
    "partition-during-regeneration.toml",
    "logs-administrators-read.toml",
    "phone-edge-trust-missing.toml",
    "proxy-tftp-phone-edge-trust.toml",
    "phone-edge-trust-after-ca-signed-tomcat.toml",
    "phone-security-profile-oauth.toml",
    "sip-oauth-on-release-12-5.toml",
    "publisher-clock-ahead.toml",
    "publisher-crash-after-revocation.toml",
    "publisher-crash-during-batched-purge.toml",
    "publisher-crash-during-distribution.toml",
    "publisher-crash-during-purge.toml",
    "publisher-crash-during-refresh.toml",
    "purge-boundary.toml",
    "purge-large-table-batched.toml",
    "purge-large-table.toml",
    "refresh-login-flow-disabled.toml",
    "refresh-login-flow-enabled.toml",
    "refresh-expiry-changed.toml",
    "revoke-by-device.toml",
    "revoke-by-user.toml",
    "signing-key-regenerated.toml",
    "sip-oauth-enabled-without-restart.toml",
    "sip-oauth-refuses-digest-and-encrypted-config.toml",
    "sip-port-out-of-range.toml",
    "sso-after-tomcat-regeneration.toml",
    "show-keys-in-local-time.toml",
    "sip-register-forbidden-with-stale-keys.toml",
    "stale-tomcat-certificate-on-oauth-ports.toml",
    "tomcat-ca-signed-untrusted-on-jabber.toml",
    "unknown-ca-at-callmanager.toml",
    "unknown-ca-at-expressway.toml",
    "unity-not-configured.toml",
];

fn load(name: &str) -> Scenario {
    let path = common::repo().join("scenarios").join(name);
    // Paths in reports are relative to the repository, as a user types them.
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&text, &Path::new("scenarios").join(name)).unwrap()
}

fn run(scenario: &Scenario, seed: u64) -> Run {
    cluster::run(scenario, seed, common::plugins()).unwrap()
}

fn assert_passed(run: &Run) {
    let failures: Vec<String> = run.report.failures().map(|f| format!("{}: {}", f.name, f.detail)).collect();
    assert!(failures.is_empty(), "seed {}: {}", run.seed, failures.join("\n"));
}

/// Runs a scenario with its own seed: every check holds, the key-material check was not
/// vacuous, and the story matches its snapshot.
fn story(name: &str) -> String {
    let scenario = load(name);
    let run = run(&scenario, scenario.seed);
    assert_passed(&run);
    assert!(run.report.expectations.len() >= 2, "{name} says what must hold");
    // The boot keys, one more for each regeneration, and the SSO assertion key.
    let keys = 2
        + scenario.steps.iter().filter(|step| step.action.name() == "regenerate-key").count()
        + usize::from(scenario.cluster.sso);
    assert_every_key_was_searched(name, &run, keys);
    let mut story = run.timeline.lines().join("\n");
    // The story shows a routine event once per device; the grant flows' point is how often
    // they recur (IdP logins, proxy round trips), which the report's sign-in lines count.
    // A negative scenario's point is the violation it provokes: the first offending event.
    for outcome in run.report.invariants.iter().filter(|o| scenario.violates.contains(&o.name)) {
        story.push_str(&format!("\n\n{}: {}", outcome.name, outcome.detail));
    }
    let sign_ins = run.logins.lines();
    if !sign_ins.is_empty() {
        story.push_str("\n\nSign-ins\n");
        story.push_str(&sign_ins.join("\n"));
    }
    story
}

/// `keys` secret keys over a run (signing private key, encryption key, one per
/// regeneration), each at least as hex and as base64 (base64 and base64url coincide when
/// the text has no `+` or `/`, so the exact count depends on the key).
fn assert_every_key_was_searched(name: &str, run: &Run, keys: usize) {
    let check = run.report.invariants.iter().find(|i| i.name == "no_key_material_in_trace").unwrap();
    // Forms are learned as keys appear; all of the run's keys must have reached the check.
    let searched: usize = check
        .detail
        .split_once("events searched for ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{name}: {}", check.detail));
    assert!((2 * keys..=3 * keys).contains(&searched), "{name}: {}", check.detail);
}

#[test]
fn signing_key_regenerated() {
    insta::assert_snapshot!(story("signing-key-regenerated.toml"));
}

#[test]
fn encryption_key_regenerated() {
    insta::assert_snapshot!(story("encryption-key-regenerated.toml"));
}

#[test]
fn access_expiry_changed() {
    insta::assert_snapshot!(story("access-expiry-changed.toml"));
}

/// After the timer changes, every access token issued lives the new 15 minutes; every one
/// issued before lived the old hour. Read from the streamed trace: `access_exp` minus the
/// time of issue.
#[test]
fn a_changed_timer_applies_to_new_tokens_only() {
    let scenario = load("access-expiry-changed.toml");
    for seed in [scenario.seed, 1, 2] {
        let (run, text) = run_captured(&scenario, seed);
        assert_passed(&run);
        let mut lifetimes = Vec::new();
        let mut changed_at_ms = None;
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            let t_ms = event["t_ms"].as_u64().unwrap();
            match event["kind"].as_str().unwrap() {
                "expiry-changed" => changed_at_ms = Some(t_ms),
                "tokens-issued" | "access-token-refreshed" => {
                    let lifetime_s = event["access_exp"].as_u64().unwrap() - (scenario.epoch_s + t_ms / 1000);
                    lifetimes.push((changed_at_ms.is_some(), lifetime_s));
                }
                _ => {}
            }
        }
        assert!(changed_at_ms.is_some());
        assert!(lifetimes.iter().any(|(after, _)| *after) && lifetimes.iter().any(|(after, _)| !*after));
        for (after, lifetime_s) in lifetimes {
            assert_eq!(lifetime_s, if after { 900 } else { 3600 }, "seed {seed}");
        }
    }
}

#[test]
fn refresh_expiry_changed() {
    insta::assert_snapshot!(story("refresh-expiry-changed.toml"));
}

/// The refresh-token timer shortened to a day: every refresh token issued after the change
/// lives a day, every one before it 60 days; read from the streamed trace for three seeds.
#[test]
fn a_changed_refresh_timer_applies_to_new_refresh_tokens_only() {
    let scenario = load("refresh-expiry-changed.toml");
    for seed in [scenario.seed, 1, 2] {
        let (run, text) = run_captured(&scenario, seed);
        assert_passed(&run);
        let (mut before, mut after, mut changed) = (0, 0, false);
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            match event["kind"].as_str().unwrap() {
                "expiry-changed" => changed = true,
                "tokens-issued" => {
                    let issued_s = scenario.epoch_s + event["t_ms"].as_u64().unwrap() / 1000;
                    let lifetime_s = event["refresh_exp"].as_u64().unwrap() - issued_s;
                    assert_eq!(lifetime_s, if changed { 86_400 } else { 60 * 86_400 }, "seed {seed}: {line}");
                    *(if changed { &mut after } else { &mut before }) += 1;
                }
                _ => {}
            }
        }
        assert!(before >= 2 && after >= 2, "seed {seed}: {before} before, {after} after");
    }
}

#[test]
fn purge_boundary() {
    insta::assert_snapshot!(story("purge-boundary.toml"));
}

#[test]
fn purge_large_table() {
    insta::assert_snapshot!(story("purge-large-table.toml"));
}

#[test]
fn purge_large_table_batched() {
    insta::assert_snapshot!(story("purge-large-table-batched.toml"));
}

/// The two purges delete the same rows for the same CPU time; batching only spreads it.
#[test]
fn batching_spreads_the_purge_without_changing_what_it_deletes() {
    let one = run(&load("purge-large-table.toml"), 2);
    let batched = run(&load("purge-large-table-batched.toml"), 2);
    let (one, batched) = (&one.purges.purges[0], &batched.purges.purges[0]);
    assert_eq!((one.rows, one.took_ms, one.batches), (200_000, 1_000, 1));
    assert_eq!((batched.rows, batched.took_ms, batched.batches), (200_000, 1_000, 201));
    assert!(batched.t_ms > one.t_ms, "a tick between batches makes it last longer");
}

/// The refresh latency a big purge causes, for several seeds: in one DELETE, the ten clients
/// whose poll meets the purge each wait (up to its whole second); in batches, a refresh waits
/// at most one batch (5 ms), the target.
#[test]
fn refreshes_wait_for_one_big_delete_and_at_most_one_batch_when_batched() {
    let (one, batched) = (load("purge-large-table.toml"), load("purge-large-table-batched.toml"));
    for seed in [2, 1, 7] {
        let purges = run(&one, seed).purges;
        assert!(purges.waited >= 10, "seed {seed}: {} waited", purges.waited);
        assert!((100..=1_000).contains(&purges.longest_wait_ms), "seed {seed}: {}", purges.longest_wait_ms);
        let purges = run(&batched, seed).purges;
        assert!(purges.longest_wait_ms <= 5, "seed {seed}: {}", purges.longest_wait_ms);
    }
}

/// `show key authz` before and after the encryption key is regenerated: on every node the
/// encryption line (checksum and "last synced on") changes and the signing line does not,
/// and all CallManager nodes print the same lines once the push has arrived.
#[test]
fn show_keys_tells_which_key_changed_and_when_it_was_synced() {
    let scenario = load("encryption-key-regenerated.toml");
    let (run, text) = run_captured(&scenario, scenario.seed);
    assert_passed(&run);
    let mut shown: Vec<(u64, String, String, String)> = Vec::new();
    for line in text.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["kind"] == "keys-shown" {
            let field = |name: &str| event[name].as_str().unwrap().to_string();
            shown.push((
                event["t_ms"].as_u64().unwrap(),
                field("node"),
                field("signing"),
                field("encryption"),
            ));
        }
    }
    let (before, after): (Vec<_>, Vec<_>) = shown.iter().partition(|(t_ms, ..)| *t_ms < 7_200_000);
    assert_eq!((before.len(), after.len()), (2, 2), "publisher and subscriber, twice: {shown:?}");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.1, a.1);
        assert_eq!(b.2, a.2, "{}: the signing key did not change", b.1);
        assert_ne!(b.3, a.3, "{}: the encryption key did", b.1);
        assert!(b.3.ends_with("last synced on: 01/05/2026 00:00:00"), "{}", b.3);
        assert!(a.3.ends_with("last synced on: 01/05/2026 02:00:00"), "{}", a.3);
        let checksum = a.3.split_whitespace().nth(5).unwrap();
        assert_eq!(checksum.len(), 32, "{}", a.3);
    }
    assert_eq!((&before[0].2, &before[0].3), (&before[1].2, &before[1].3), "the nodes agree");
    assert_eq!((&after[0].2, &after[0].3), (&after[1].2, &after[1].3), "the nodes agree");
}

#[test]
fn revoke_by_device() {
    insta::assert_snapshot!(story("revoke-by-device.toml"));
}

#[test]
fn revoke_by_user() {
    insta::assert_snapshot!(story("revoke-by-user.toml"));
}

/// The exposure window each revocation leaves, as the report states it: committed at the
/// publisher just after the step, old access tokens valid until the latest one's expiry
/// (under an hour later), and the last acceptance inside that window.
#[test]
fn a_revocation_reports_its_exposure_window() {
    for name in ["revoke-by-device.toml", "revoke-by-user.toml"] {
        let scenario = load(name);
        for seed in [scenario.seed, 1, 2] {
            let run = run(&scenario, seed);
            assert_passed(&run);
            let [window] = run.exposures.windows() else { panic!("{name}: one revocation") };
            let (committed_ms, revoked) = window.committed.expect("committed");
            assert!((7_200_000..7_201_000).contains(&committed_ms), "{name} seed {seed}: {committed_ms}");
            assert!(revoked >= 1);
            let until_s = window.valid_until_s.expect("an access token was outstanding");
            let committed_s = scenario.epoch_s + committed_ms / 1000;
            assert!(until_s > committed_s && until_s <= committed_s + 3600, "{name} seed {seed}");
            let (last_ms, node) = window.last_accepted.clone().expect("the old token was used after");
            assert!(last_ms > committed_ms && scenario.epoch_s + last_ms / 1000 < until_s + 30, "{name}");
            assert_eq!(node, "unity");
        }
    }
}

#[test]
fn refresh_login_flow_disabled() {
    insta::assert_snapshot!(story("refresh-login-flow-disabled.toml"));
}

#[test]
fn refresh_login_flow_enabled() {
    insta::assert_snapshot!(story("refresh-login-flow-enabled.toml"));
}

#[test]
fn old_client_on_new_cluster() {
    insta::assert_snapshot!(story("old-client-on-new-cluster.toml"));
}

#[test]
fn new_client_on_old_cluster() {
    insta::assert_snapshot!(story("new-client-on-old-cluster.toml"));
}

/// The implicit grant's cost, read from the streamed trace for several seeds: a device with
/// no refresh token is back at the identity provider at every expiry (60-minute tokens over
/// four hours: four or five logins), a device with one logs in there once; every opaque
/// token is checked by asking its issuer (`proxy_ms` on the verdict) and no self-contained
/// token is.
#[test]
fn the_implicit_grant_sends_users_back_to_the_idp_and_opaque_tokens_through_proxy_mode() {
    for name in ["refresh-login-flow-disabled.toml", "old-client-on-new-cluster.toml"] {
        let scenario = load(name);
        for seed in [scenario.seed, 1, 2] {
            let (run, text) = run_captured(&scenario, seed);
            assert_passed(&run);
            let mut idp_logins = std::collections::BTreeMap::<String, u64>::new();
            let mut grant = std::collections::BTreeMap::<String, &'static str>::new();
            let mut format = std::collections::BTreeMap::<String, String>::new();
            let mut verdicts = 0;
            for line in text.lines() {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                let field = |name: &str| event[name].as_str().unwrap_or_default().to_string();
                match event["kind"].as_str().unwrap() {
                    "sso-login" => *idp_logins.entry(field("client")).or_default() += 1,
                    "tokens-issued" => {
                        grant.insert(field("client"), "code");
                        format.insert(field("access_tid"), "jwt".to_string());
                    }
                    "access-token-refreshed" => {
                        format.insert(field("access_tid"), "jwt".to_string());
                    }
                    "access-token-issued" => {
                        grant.insert(field("client"), "implicit");
                        format.insert(field("access_tid"), field("format"));
                    }
                    "uds-request-accepted" | "voicemail-login-accepted" | "perfmon-request-accepted" => {
                        verdicts += 1;
                        let opaque = format[&field("tid")] == "opaque";
                        assert_eq!(event.get("proxy_ms").is_some(), opaque, "{name} seed {seed}: {line}");
                    }
                    _ => {}
                }
            }
            assert!(verdicts > 10, "{name} seed {seed}: {verdicts} verdicts");
            assert!(!grant.is_empty());
            for (client, grant) in &grant {
                let logins = idp_logins[client];
                match *grant {
                    "implicit" => assert!((4..=5).contains(&logins), "{name} seed {seed}: {client} {logins}"),
                    _ => assert_eq!(logins, 1, "{name} seed {seed}: {client}"),
                }
            }
        }
    }
}

/// docs/domain.md: the implicit grant issued tokens only with SSO, so a cluster with the flow
/// disabled and no SSO signs nobody in; with the flow enabled the same cluster does.
#[test]
fn without_sso_the_implicit_grant_signs_nobody_in() {
    let text = |flow: bool| {
        format!(
            "name = \"no sso\"\nduration = \"20m\"\n[params]\nrefresh_login_flow = {flow}\n\
             [[clients]]\nkind = \"jabber\"\ncount = 1\n"
        )
    };
    let disabled = Scenario::parse(&text(false), Path::new("no-sso.toml")).unwrap();
    let (refused, trace) = run_captured(&disabled, 1);
    assert_passed(&refused);
    assert_eq!(refused.count(EventKind::LoggedIn), 0);
    assert!(refused.count(EventKind::LoginFailed) >= 2, "it keeps trying");
    assert!(trace.contains("\"reason\":\"implicit-grant-needs-sso\""), "{trace}");
    let enabled = Scenario::parse(&text(true), Path::new("no-sso.toml")).unwrap();
    let signed_in = run(&enabled, 1);
    assert_eq!((signed_in.count(EventKind::LoggedIn), signed_in.count(EventKind::LoginFailed)), (1, 0));
}

#[test]
fn imp_node_misses_distribution() {
    insta::assert_snapshot!(story("imp-node-misses-distribution.toml"));
}

/// `show key authz` on all four nodes tells the story: after the missed push, imp-sub-1's
/// encryption line differs from the other three (its signing line does not); after the
/// second distribution all four agree.
#[test]
fn show_keys_on_every_node_finds_the_one_that_missed_the_push() {
    let scenario = load("imp-node-misses-distribution.toml");
    let (run, text) = run_captured(&scenario, scenario.seed);
    assert_passed(&run);
    let mut shown = std::collections::BTreeMap::<(u64, String), (String, String)>::new();
    for line in text.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        if event["kind"] == "keys-shown" {
            let field = |name: &str| event[name].as_str().unwrap().to_string();
            shown.insert(
                (event["t_ms"].as_u64().unwrap(), field("node")),
                (field("signing"), field("encryption")),
            );
        }
    }
    let nodes = ["cucm-pub", "cucm-sub-1", "imp-pub", "imp-sub-1"];
    let at = |t_ms: u64| nodes.map(|node| shown[&(t_ms, node.to_string())].clone());
    let before = at(9_900_000);
    assert!(before.iter().all(|(signing, _)| signing == &before[0].0), "the signing key never changed");
    assert_eq!(before[0].1, before[1].1);
    assert_eq!(before[0].1, before[2].1);
    assert_ne!(before[0].1, before[3].1, "imp-sub-1 holds another encryption key");
    let after = at(11_100_000);
    assert!(after.iter().all(|keys| keys == &after[0]), "all four agree: {after:?}");
}

#[test]
fn key_mismatch_and_fix() {
    insta::assert_snapshot!(story("key-mismatch-and-fix.toml"));
}

/// Loaded versus on disk, read from `show key authz` and the XMPP verdicts for three seeds:
/// after the node's own regeneration its disk agrees with every other node, yet its logins
/// are refused until its Tomcat restarts, and accepted after.
#[test]
fn keys_on_disk_are_used_only_after_tomcat_restarts() {
    let scenario = load("key-mismatch-and-fix.toml");
    for seed in [scenario.seed, 1, 2] {
        let (run, text) = run_captured(&scenario, seed);
        assert_passed(&run);
        let mut signing_lines = std::collections::BTreeMap::<u64, Vec<String>>::new();
        let (mut refused_after_pull, mut accepted_after_restart) = (0, 0);
        for line in text.lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            let t_ms = event["t_ms"].as_u64().unwrap();
            match (event["kind"].as_str().unwrap(), event["node"].as_str().unwrap()) {
                ("keys-shown", _) => {
                    let checksum = event["signing"].as_str().unwrap().split_whitespace().nth(5).unwrap();
                    signing_lines.entry(t_ms).or_default().push(checksum.to_string());
                }
                ("im-login-rejected", "imp-sub-1") if (9_900_000..11_220_000).contains(&t_ms) => {
                    refused_after_pull += 1
                }
                ("im-login-accepted", "imp-sub-1") if t_ms >= 11_220_000 => accepted_after_restart += 1,
                _ => {}
            }
        }
        let before = &signing_lines[&9_600_000];
        assert_eq!(before.len(), 4);
        assert!(
            before[..3].iter().all(|c| c == &before[0]) && before[3] != before[0],
            "seed {seed}: {before:?}"
        );
        let after_pull = &signing_lines[&10_200_000];
        assert!(after_pull.iter().all(|c| c == &after_pull[0]), "seed {seed}: the disks agree");
        assert!(refused_after_pull >= 1, "seed {seed}: the running Tomcat still refuses");
        assert!(accepted_after_restart >= 1, "seed {seed}: accepted once restarted");
    }
}

#[test]
fn sip_oauth_enabled_without_restart() {
    insta::assert_snapshot!(story("sip-oauth-enabled-without-restart.toml"));
}

#[test]
fn sip_oauth_refuses_digest_and_encrypted_config() {
    insta::assert_snapshot!(story("sip-oauth-refuses-digest-and-encrypted-config.toml"));
}

/// The profile reaches a phone only through a reset, and its model decides whether it can use
/// OAuth at all; the profile page refuses OAuth without Encrypted and TLS.
#[test]
fn phone_security_profile_oauth() {
    insta::assert_snapshot!(story("phone-security-profile-oauth.toml"));
}

/// Release 12.5: SIP OAuth registers Jabber with its token; the phone, which gets no token
/// before 14, keeps registering on 5060; no read-only parameter shows the mode.
#[test]
fn sip_oauth_on_release_12_5() {
    insta::assert_snapshot!(story("sip-oauth-on-release-12-5.toml"));
}

/// Phone-edge-trust empty: the phone refuses Tomcat's certificate and gets no tokens until
/// the Tomcat certificates are uploaded there; Jabber is not affected.
#[test]
fn phone_edge_trust_missing() {
    insta::assert_snapshot!(story("phone-edge-trust-missing.toml"));
}

/// The multi-SAN Tomcat CSR made on the publisher, CA-signed, on every node: after the
/// restarts Jabber refuses it (UDS pop-up, UnknownCA on 5090) until the CA's root is pushed.
#[test]
fn tomcat_ca_signed_untrusted_on_jabber() {
    insta::assert_snapshot!(story("tomcat-ca-signed-untrusted-on-jabber.toml"));
}

/// After the CA-signed multi-SAN Tomcat, phones get no tokens until the Tomcat signer's root
/// is uploaded to phone-edge-trust.
#[test]
fn phone_edge_trust_after_ca_signed_tomcat() {
    insta::assert_snapshot!(story("phone-edge-trust-after-ca-signed-tomcat.toml"));
}

/// The publisher's CLI lists ssoApp.log, the ssosp logs and the certMgmt logs.
#[test]
fn logs_administrators_read() {
    insta::assert_snapshot!(story("logs-administrators-read.toml"));
}

/// Device > Expressway-C: an entry typed by hand (wrong, then edited) instead of a refresh.
#[test]
fn expressway_c_entry_by_hand() {
    insta::assert_snapshot!(story("expressway-c-entry-by-hand.toml"));
}

/// Proxy TFTP (14SU1): the phones read phone-edge-trust from the proxy, which needs this
/// cluster's Tomcat roots copied in before they get tokens.
#[test]
fn proxy_tftp_phone_edge_trust() {
    insta::assert_snapshot!(story("proxy-tftp-phone-edge-trust.toml"));
}

/// Expressway-C in another domain: its listed name counts on the MRA port only once its
/// entry holds the domain.
#[test]
fn expressway_c_in_another_domain() {
    insta::assert_snapshot!(story("expressway-c-in-another-domain.toml"));
}

/// SSO's metadata names the publisher's Tomcat certificate: a regeneration and restart break
/// every new SSO sign-in until SSO is configured again; refreshes need no SSO.
#[test]
fn sso_after_tomcat_regeneration() {
    insta::assert_snapshot!(story("sso-after-tomcat-regeneration.toml"));
}

#[test]
fn sip_port_out_of_range() {
    insta::assert_snapshot!(story("sip-port-out-of-range.toml"));
}

#[test]
fn stale_tomcat_certificate_on_oauth_ports() {
    insta::assert_snapshot!(story("stale-tomcat-certificate-on-oauth-ports.toml"));
}

#[test]
fn expressway_reissued_san() {
    insta::assert_snapshot!(story("expressway-reissued-san.toml"));
}

#[test]
fn unknown_ca_at_callmanager() {
    insta::assert_snapshot!(story("unknown-ca-at-callmanager.toml"));
}

#[test]
fn unknown_ca_at_expressway() {
    insta::assert_snapshot!(story("unknown-ca-at-expressway.toml"));
}

#[test]
fn mra_phone_activation_code() {
    insta::assert_snapshot!(story("mra-phone-activation-code.toml"));
}

/// A failed handshake in the trace carries rustls's own words, both sides: the side that
/// refused the certificate, rustls's `invalid peer certificate: UnknownIssuer` and the alert
/// it sent for it; the other side, `received fatal alert: UnknownCA`. Each way round.
#[test]
fn a_failed_handshake_carries_rustls_alert_each_way() {
    for (name, refuser, refused) in [
        ("unknown-ca-at-callmanager.toml", "cucm-sub-1", "expressway-c"),
        ("unknown-ca-at-expressway.toml", "expressway-c", "cucm-sub-1"),
    ] {
        let scenario = load(name);
        let (run, lines) = run_captured(&scenario, scenario.seed);
        assert_passed(&run);
        let failures: Vec<serde_json::Value> = lines
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|event| event["kind"] == "tls-handshake-failed")
            .collect();
        let at = |node: &str| {
            failures
                .iter()
                .find(|event| event["node"] == node)
                .unwrap_or_else(|| panic!("{name}: none at {node}"))
        };
        let (sent, received) = (at(refuser), at(refused));
        assert_eq!(sent["alert"], "UnknownCA", "{name}");
        assert_eq!(sent["sent"], true, "{name}");
        assert_eq!(sent["detail"], "invalid peer certificate: UnknownIssuer", "{name}");
        assert_eq!(received["alert"], "UnknownCA", "{name}");
        assert_eq!(received["sent"], false, "{name}");
        assert_eq!(received["detail"], "received fatal alert: UnknownCA", "{name}");
    }
}

#[test]
fn imp_certificates_in_order() {
    insta::assert_snapshot!(story("imp-certificates-in-order.toml"));
}

#[test]
fn imp_certificates_out_of_order() {
    insta::assert_snapshot!(story("imp-certificates-out-of-order.toml"));
}

#[test]
fn cup_xmpp_regenerated_untrusted_on_jabber() {
    insta::assert_snapshot!(story("cup-xmpp-regenerated-untrusted-on-jabber.toml"));
}

#[test]
fn imp_restart_with_high_availability_on() {
    insta::assert_snapshot!(story("imp-restart-with-high-availability-on.toml"));
}

#[test]
fn imp_expired_trust_deleted() {
    insta::assert_snapshot!(story("imp-expired-trust-deleted.toml"));
}

/// The order rule, read from the trace for three seeds each: regenerated in the documented
/// order, every DRF Local is shown the CallManager publisher's new `ipsec.pem` and trusts
/// it, and the serial check matches everywhere; with imp-sub-1 first, its IPSec-trust still
/// holds the publisher's previous serial (the one `certificate-regenerated` on cucm-pub
/// replaced), which the check shows before DRF refuses it, while imp-sub-2 trusts the new one.
#[test]
fn the_regeneration_order_decides_what_ipsec_trust_holds() {
    for (name, odd_one_out) in
        [("imp-certificates-in-order.toml", None), ("imp-certificates-out-of-order.toml", Some("imp-sub-1"))]
    {
        let scenario = load(name);
        for seed in [scenario.seed, 3, 4] {
            let (run, text) = run_captured(&scenario, seed);
            assert_passed(&run);
            let events: Vec<serde_json::Value> =
                text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
            let regenerated = events
                .iter()
                .find(|e| e["kind"] == "certificate-regenerated" && e["node"] == "cucm-pub")
                .expect("cucm-pub regenerates ipsec.pem");
            let (new, old) =
                (regenerated["serial"].as_str().unwrap(), regenerated["previous"].as_str().unwrap());
            assert_ne!(new, old);
            // The first serial check, before any DRF session.
            for node in ["cucm-sub-1", "imp-pub", "imp-sub-1", "imp-sub-2"] {
                let shown = events
                    .iter()
                    .find(|e| e["node"] == node && e["kind"] == "ipsec-trust-shown")
                    .unwrap_or_else(|| panic!("{name} seed {seed}: {node} is checked"));
                assert_eq!(shown["publisher_serial"], new, "{name} seed {seed} {node}");
                let expected = if odd_one_out == Some(node) { old } else { new };
                assert_eq!(shown["trusted_serial"], expected, "{name} seed {seed} {node}");
                assert_eq!(shown["matches"], odd_one_out != Some(node), "{name} seed {seed} {node}");
            }
            // The first DRF session of each node, after the restarts.
            for node in ["imp-pub", "imp-sub-1", "imp-sub-2"] {
                let first = events
                    .iter()
                    .find(|e| e["node"] == node && e["kind"].as_str().unwrap().starts_with("drf-"))
                    .unwrap_or_else(|| panic!("{name} seed {seed}: {node} opens a DRF session"));
                if odd_one_out == Some(node) {
                    assert_eq!(first["kind"], "drf-trust-mismatch", "{name} seed {seed} {node}");
                    assert_eq!(first["presented"], new);
                    assert_eq!(first["trusted"], old, "{name} seed {seed}: the publisher's old ipsec.pem");
                } else {
                    assert_eq!(first["kind"], "drf-connected", "{name} seed {seed} {node}");
                    assert_eq!(first["serial"], new);
                }
            }
        }
    }
}

#[test]
fn partition_during_regeneration() {
    insta::assert_snapshot!(story("partition-during-regeneration.toml"));
}

/// A subscriber cut off from every host misses the new key and refuses under the old one;
/// once it rejoins, a manual sync heals it.
#[test]
fn isolated_subscriber_during_regeneration() {
    insta::assert_snapshot!(story("isolated-subscriber-during-regeneration.toml"));
}

/// Expressway-C with "Authorize by OAuth token with refresh" off refuses a remote Jabber's
/// token-bearing requests until the setting is turned on.
#[test]
fn expressway_oauth_with_refresh_off() {
    insta::assert_snapshot!(story("expressway-oauth-with-refresh-off.toml"));
}

/// The CLI answers the documents quote: the refresh-token table (a revoked row's `state` is
/// 0), ClusterSIPOAuthMode and `show open ports` before and after SIP OAuth is enabled.
#[test]
fn administrator_cli_answers() {
    insta::assert_snapshot!(story("administrator-cli-answers.toml"));
}

/// On the CallManager nodes a trust deletion waits for Certificate Expiry Monitor and
/// Certificate Change Notification to stop, and reaches a service only when it restarts:
/// Expressway-C's CA deleted by mistake breaks the MRA port once CallManager restarts.
#[test]
fn cucm_trust_deleted() {
    insta::assert_snapshot!(story("cucm-trust-deleted.toml"));
}

/// Expressway-C made to trust CallManager's Tomcat mid-run: the zone comes back and the
/// next renewal registers through the edge.
#[test]
fn mra_trust_fixed_mid_run() {
    insta::assert_snapshot!(story("mra-trust-fixed-mid-run.toml"));
}

/// Unity Connection without its Authz Servers entry and OAuth services refuses voicemail
/// logins while Jabber's sign-in and refresh work; the two settings repair it.
#[test]
fn unity_not_configured() {
    insta::assert_snapshot!(story("unity-not-configured.toml"));
}

/// `show key authz` prints each key's last sync in the cluster's local time.
#[test]
fn show_keys_in_local_time() {
    insta::assert_snapshot!(story("show-keys-in-local-time.toml"));
}

/// A device registering with a token its node cannot validate is answered `SIP/2.0 403
/// Forbidden`, the documents' own line, until a second key push reaches the node.
#[test]
fn sip_register_forbidden_with_stale_keys() {
    insta::assert_snapshot!(story("sip-register-forbidden-with-stale-keys.toml"));
}

#[test]
fn publisher_crash_during_distribution() {
    insta::assert_snapshot!(story("publisher-crash-during-distribution.toml"));
}

#[test]
fn publisher_crash_during_refresh() {
    insta::assert_snapshot!(story("publisher-crash-during-refresh.toml"));
}

/// A crash in the middle of the purge's DELETE rolls it back whole; the next day's purge
/// finds every expired row.
#[test]
fn publisher_crash_during_purge() {
    insta::assert_snapshot!(story("publisher-crash-during-purge.toml"));
}

/// A crash in the middle of a batched purge keeps the committed batches and rolls back the
/// one under way; the next day's purge deletes exactly the rest.
#[test]
fn publisher_crash_during_batched_purge() {
    insta::assert_snapshot!(story("publisher-crash-during-batched-purge.toml"));
}

#[test]
fn publisher_crash_after_revocation() {
    insta::assert_snapshot!(story("publisher-crash-after-revocation.toml"));
}

#[test]
fn consumer_clock_within_leeway() {
    insta::assert_snapshot!(story("consumer-clock-within-leeway.toml"));
}

#[test]
fn consumer_clock_beyond_leeway() {
    insta::assert_snapshot!(story("consumer-clock-beyond-leeway.toml"));
}

#[test]
fn clocks_behind_accept_expired() {
    insta::assert_snapshot!(story("clocks-behind-accept-expired.toml"));
}

#[test]
fn publisher_clock_ahead() {
    insta::assert_snapshot!(story("publisher-clock-ahead.toml"));
}

/// The two negative scenarios: each invariant they name is violated, and the report names
/// the first offending event (node and time); without their fault (the skew steps taken
/// out) the same runs hold every invariant, so the scenario fails: it did not show what it
/// set out to show.
#[test]
fn negative_scenarios_report_the_first_offending_event_and_fail_without_their_fault() {
    for (name, invariant, first) in [
        ("clocks-behind-accept-expired.toml", "no_access_token_accepted_after_expiry", "unity at 01:"),
        ("publisher-clock-ahead.toml", "no_token_lifetime_out_of_bounds", "cucm-pub at 00:4"),
    ] {
        let scenario = load(name);
        assert_eq!(scenario.violates, [invariant]);
        for seed in [scenario.seed, 1] {
            let run = run(&scenario, seed);
            assert_passed(&run);
            let outcome = run.report.invariants.iter().find(|o| o.name == invariant).unwrap();
            let detail = outcome.detail.strip_prefix("violated, as the scenario expects: ").unwrap();
            assert!(detail.starts_with(first), "{name} seed {seed}: {detail}");
        }
        let mut healthy = scenario.clone();
        healthy.steps.retain(|step| step.action.name() != "skew");
        let run = run(&healthy, scenario.seed);
        assert!(!run.report.passed(), "{name}");
        let failure = run.report.failures().find(|o| o.name == invariant).expect("the named invariant fails");
        assert!(failure.detail.starts_with("expected to be violated"), "{}", failure.detail);
    }
}

/// A crash of the publisher: every refresh token committed before it is in the table when it
/// starts again, and the subscriber that missed the push gets the keys from the restarted
/// publisher; for three seeds.
#[test]
fn a_publisher_crash_loses_no_committed_row_and_the_keys_reach_every_node() {
    let scenario = load("publisher-crash-during-distribution.toml");
    for seed in [scenario.seed, 1, 2] {
        let run = run(&scenario, seed);
        assert_passed(&run);
        let crash = run.report.invariants.iter().find(|o| o.name == "crash_loses_no_committed_row").unwrap();
        assert_eq!(crash.judged, 1, "seed {seed}: one restart judged: {}", crash.detail);
        assert_eq!(run.count(EventKind::NodeRestarted), 1, "seed {seed}");
    }
}

#[test]
fn signing_key_regenerated_holds_for_other_seeds() {
    let scenario = load("signing-key-regenerated.toml");
    for seed in [1, 2, 3] {
        assert_passed(&run(&scenario, seed));
    }
}

/// A trace sink the test reads after the run.
#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The run and the JSON Lines it streamed.
fn run_captured(scenario: &Scenario, seed: u64) -> (Run, String) {
    let sink = Captured::default();
    let options = RunOptions { sink: Some(Box::new(sink.clone())), ..RunOptions::default() };
    let run = cluster::run_with(scenario, seed, common::plugins(), options).unwrap();
    let text = String::from_utf8(sink.0.take()).unwrap();
    (run, text)
}

/// Every scenario, run twice with its own seed in one process, gives the same trace: the
/// replay certificate holds for all of them (idle_skipping.rs also runs each with three
/// more seeds, stepped and skipped).
#[test]
fn every_scenario_replays_byte_for_byte() {
    for name in SCENARIOS {
        let scenario = load(name);
        let (first, second) = (run(&scenario, scenario.seed), run(&scenario, scenario.seed));
        assert_eq!(first.trace.hash, second.trace.hash, "{name}");
        assert_eq!(first.trace.events, second.trace.events, "{name}");
    }
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let scenario = load("signing-key-regenerated.toml");
    let (first, first_text) = run_captured(&scenario, 11);
    let (second, second_text) = run_captured(&scenario, 11);
    assert_eq!(first.trace.hash, second.trace.hash);
    assert_eq!(first_text, second_text);
    let other = run(&scenario, 12);
    assert_ne!(first.trace.hash, other.trace.hash, "the seed reaches the trace");
}

/// The streamed trace is the certified one: its bytes hash to the run's certificate, it
/// has one line per event, and every line is an event the catalogue knows.
#[test]
fn the_streamed_trace_is_what_the_hash_certifies() {
    let scenario = load("encryption-key-regenerated.toml");
    let (run, text) = run_captured(&scenario, scenario.seed);
    assert_eq!(authzlab::trace::hash(&text), run.trace.hash);
    assert_eq!(text.lines().count() as u64, run.trace.events);
    let mut counted = std::collections::BTreeMap::<String, u64>::new();
    for line in text.lines() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let kind = event["kind"].as_str().unwrap().to_string();
        assert!(authzlab::trace::catalogue::EventSpec::find(&kind).is_some(), "{kind}");
        *counted.entry(kind).or_default() += 1;
    }
    assert_eq!(counted, run.trace.counts);
    assert!(run.count(EventKind::KeysSynced) >= 2, "boot and after the regeneration");
}

#[test]
fn every_scenario_file_is_run() {
    let mut files: Vec<String> = std::fs::read_dir(common::repo().join("scenarios"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let mut known: Vec<String> = SCENARIOS.iter().map(|name| name.to_string()).collect();
    known.sort();
    assert_eq!(files, known, "add a test for each scenario file and list it in SCENARIOS");
}

#[test]
fn a_failed_expectation_fails_the_run_and_says_what_came_closest() {
    let mut scenario = load("signing-key-regenerated.toml");
    // The regeneration happens at 2h, so nothing before it may refuse a refresh token.
    let expectation = scenario
        .expectations
        .iter_mut()
        .find(|e| e.event == "refresh-rejected")
        .expect("the scenario expects refused refreshes");
    expectation.within = std::time::Duration::ZERO..std::time::Duration::from_secs(3600);
    let run = run(&scenario, scenario.seed);
    assert!(!run.report.passed());
    let failure = run.report.failures().next().unwrap();
    assert!(failure.detail.contains("no match") && failure.detail.contains("02:"), "{}", failure.detail);
}

/// "OAuth Access Token for Devices" on premises: implicit phones ask for their tokens as
/// registered devices, explicit ones onboard by activation code; both register with them.
#[test]
fn campus_phones_onboard_implicitly_or_by_activation_code_as_the_cluster_says() {
    for (tokens, grant) in [("implicit", "registered-device"), ("explicit", "activation-code")] {
        let text = format!(
            "name = \"phones\"\nduration = \"2h\"\n\n[cluster]\nsip = {{ oauth = true, device_tokens = \"{tokens}\" }}\n\n\
             [params]\nrefresh_login_flow = true\n\n[[clients]]\nkind = \"phone\"\ncount = 2\n"
        );
        let scenario = Scenario::parse(&text, Path::new("phones.toml")).unwrap();
        let (run, lines) = run_captured(&scenario, 3);
        assert_passed(&run);
        let events: Vec<serde_json::Value> =
            lines.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        let grants: Vec<&str> = events
            .iter()
            .filter(|event| event["kind"] == "logged-in")
            .map(|event| event["grant"].as_str().unwrap())
            .collect();
        assert_eq!(grants, [grant, grant], "{tokens}");
        assert!(run.count(EventKind::SipRegistered) >= 2, "{tokens}");
        assert_eq!(run.count(EventKind::RegistrationFailed), 0, "{tokens}");
    }
}

/// The CallManager page refuses a SIP OAuth port the subscriber already serves, naming the
/// service, and nothing is saved: the same scenario with Tomcat's and TFTP's ports typed.
#[test]
fn the_callmanager_page_refuses_a_port_another_service_serves() {
    let text = std::fs::read_to_string(common::repo().join("scenarios/sip-port-out-of-range.toml")).unwrap();
    let text = format!(
        "{text}
[[step]]
at = \"3h30m\"
action = \"set-sip-ports\"
node = \"cucm-sub-1\"
phone_port = 8443

[[step]]
at = \"3h31m\"
action = \"set-sip-ports\"
node = \"cucm-sub-1\"
mra_port = 6970

[[expect]]
within = \"3h30m..3h32m\"
event = \"sip-port-refused\"
count = 2

[[expect]]
within = \"3h30m..3h32m\"
event = \"sip-ports-set\"
absent = true
"
    );
    let scenario = Scenario::parse(&text, Path::new("scenarios/x.toml")).unwrap();
    let run = run(&scenario, scenario.seed);
    assert_passed(&run);
    let story = run.timeline.lines().join("\n");
    assert!(story.contains("refused port 8443 for cucm-sub-1: already served by Cisco Tomcat"), "{story}");
    assert!(story.contains("refused port 6970 for cucm-sub-1: already served by Cisco TFTP"), "{story}");
}

/// The command line's budget stops a run through the progress observer: the run ends with
/// the observer's reason and where it stopped, never with a verdict (exit 2).
#[test]
fn a_run_its_observer_stops_ends_with_the_reason_and_no_verdict() {
    let mut scenario = load("signing-key-regenerated.toml");
    // Stepping every tick, the observer is called every few thousand of them.
    scenario.skip_idle = false;
    let mut calls = 0;
    let mut stop_at_second_call = |_reached| {
        calls += 1;
        if calls < 2 {
            Ok(())
        } else {
            Err("over budget".to_string())
        }
    };
    let options = RunOptions { progress: Some(&mut stop_at_second_call), ..RunOptions::default() };
    let error =
        cluster::run_with(&scenario, scenario.seed, common::plugins(), options).err().expect("stopped");
    let message = error.to_string();
    assert!(message.starts_with("the run was stopped at "), "{message}");
    assert!(message.ends_with(": over budget"), "{message}");
}
