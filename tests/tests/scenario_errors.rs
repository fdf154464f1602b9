//! A malformed scenario file gets an error naming the file, line, column and field, and no
//! panic. Each test writes the mistake a person would make and reads the message they get.

use std::path::Path;

use authzlab::certs::{CertificateName, Identity, Service};

use authzlab::scenario::{Scenario, ScenarioError};

const GOOD: &str = r#"name = "ok"
duration = "1h"

[[step]]
at = "30m"
action = "regenerate-key"
key = "signing"
"#;

fn error(text: &str) -> (usize, usize, String, String) {
    match Scenario::parse(text, Path::new("scenarios/x.toml")) {
        Err(ScenarioError::Invalid { file, line, column, field, message }) => {
            assert_eq!(file, "scenarios/x.toml");
            (line, column, field, message)
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn the_good_file_parses() {
    let scenario = Scenario::parse(GOOD, Path::new("scenarios/x.toml")).unwrap();
    assert_eq!(scenario.steps.len(), 1);
}

#[test]
fn unknown_action() {
    let (line, column, field, message) = error(&GOOD.replace("regenerate-key", "regenerate-keys"));
    assert_eq!((line, column), (6, 10));
    assert_eq!(field, "step[0].action");
    assert!(message.contains("regenerate-keys") && message.contains("regenerate-key"), "{message}");
}

#[test]
fn bad_duration() {
    let (line, column, field, message) = error(&GOOD.replace("\"30m\"", "\"2h5\""));
    assert_eq!((line, column), (5, 6));
    assert_eq!(field, "step[0].at");
    assert!(message.contains("try \"2h5m\""), "{message}");
}

#[test]
fn missing_field() {
    let (line, _, field, message) = error(&GOOD.replace("name = \"ok\"\n", ""));
    assert_eq!(line, 1);
    assert!(field == "scenario" || field.is_empty(), "{field}");
    assert!(message.contains("missing field `name`"), "{message}");
}

#[test]
fn regenerate_key_without_a_key() {
    let (line, _, field, message) = error(&GOOD.replace("key = \"signing\"\n", ""));
    assert_eq!(line, 6);
    assert_eq!(field, "step[0].key");
    assert!(message.contains("signing") && message.contains("encryption"), "{message}");
}

#[test]
fn misspelt_key_is_not_ignored() {
    let (line, _, field, message) = error(&GOOD.replace("action =", "acton ="));
    assert_eq!(line, 6);
    assert!(field.starts_with("step[0]"), "{field}");
    assert!(message.contains("acton"), "{message}");
}

#[test]
fn lifetime_out_of_documented_bounds() {
    let text = format!("{GOOD}\n[params]\naccess_token_expiry = \"1441m\"\n");
    let (line, column, field, message) =
        error(&text.replace("[[step]]\nat = \"30m\"\naction = \"regenerate-key\"\nkey = \"signing\"\n", ""));
    assert_eq!(field, "params.access_token_expiry");
    assert_eq!(column, 23);
    assert!(line > 1);
    assert!(message.contains("1 to 1440"), "{message}");
    let text = "name = \"x\"\nduration = \"1h\"\n[params]\nrefresh_token_expiry = \"91d\"\n";
    let (line, _, field, message) = error(text);
    assert_eq!((line, field.as_str()), (4, "params.refresh_token_expiry"));
    assert!(message.contains("1 to 90"), "{message}");
}

#[test]
fn step_after_the_end_of_the_run() {
    let (line, _, field, message) = error(&GOOD.replace("\"30m\"", "\"2h\""));
    assert_eq!((line, field.as_str()), (5, "step[0].at"));
    assert!(message.contains("not before the end of the run"), "{message}");
}

#[test]
fn not_toml_at_all() {
    let (line, _, _, message) = error("name = \"x\"\nduration = \n");
    assert_eq!(line, 2);
    assert!(!message.is_empty());
}

#[test]
fn bad_expectation_window() {
    let text = format!("{GOOD}\n[[expect]]\nwithin = \"2h..1h\"\nevent = \"x\"\n");
    let (line, _, field, message) = error(&text);
    assert_eq!((line, field.as_str()), (10, "expect[0].within"));
    assert!(message.contains("ends before it starts"), "{message}");
}

#[test]
fn an_epoch_past_year_9999_is_refused_not_overflowed() {
    let (line, column, field, message) = error(&format!("epoch = {}\n{GOOD}", i64::MAX));
    assert_eq!((line, column, field.as_str()), (1, 9, "epoch"));
    assert!(message.contains("year 9999"), "{message}");
    // Past TOML's own integer range the TOML parser refuses it, at the same place.
    let (line, column, _, _) = error(&format!("epoch = {}\n{GOOD}", u64::MAX));
    assert_eq!((line, column), (1, 9));
}

/// Seeded edits of the shipped scenario (SplitMix64, so a failure names the round and
/// replays): every one parses or gives a located error; none panics.
#[test]
fn mangled_scenario_files_never_panic_the_parser() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/signing-key-regenerated.toml");
    let original = std::fs::read_to_string(path).unwrap();
    let mut state: u64 = 0x5ce7_a210;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as usize
    };
    let pieces =
        ["\"", "=", "[", "]", "[[", "\n", "0", "99999999999999999999", "-1", "h", "ms", "..", "{", "}", "#"];
    let mut errors = 0;
    for round in 0..2000 {
        let mut text = original.clone().into_bytes();
        for _ in 0..1 + next() % 4 {
            // A truncation and a removal can leave nothing to edit.
            if text.is_empty() {
                break;
            }
            let at = next() % text.len();
            match next() % 3 {
                0 => {
                    text.remove(at);
                }
                1 => {
                    let piece = pieces[next() % pieces.len()].as_bytes();
                    text.splice(at..at, piece.iter().copied());
                }
                _ => text.truncate(at.max(1)),
            }
        }
        let Ok(text) = String::from_utf8(text) else { continue };
        match Scenario::parse(&text, Path::new("scenarios/x.toml")) {
            Ok(_) => {}
            Err(ScenarioError::Invalid { line, column, .. }) => {
                assert!(line >= 1 && column >= 1, "round {round}: line {line} column {column}");
                errors += 1;
            }
            Err(other) => panic!("round {round}: {other}"),
        }
    }
    assert!(errors > 500, "the edits do break files ({errors} errors)");
}

/// An `absent = true` expectation with a misspelled event held whatever the run did: a
/// check that could not fail. Now the parser refuses it where it stands, with the real name.
#[test]
fn a_misspelled_event_is_refused_with_the_name_it_meant() {
    let text = format!("{GOOD}\n[[expect]]\nevent = \"voicemail-login-rejectd\"\nabsent = true\n");
    let (line, column, field, message) = error(&text);
    assert_eq!((line, column, field.as_str()), (10, 9, "expect[0].event"));
    assert!(message.contains("no event \"voicemail-login-rejectd\" exists"), "{message}");
    assert!(message.contains("did you mean \"voicemail-login-rejected\"?"), "{message}");
}

#[test]
fn a_field_its_event_does_not_carry_is_refused() {
    let text = format!("{GOOD}\n[[expect]]\nevent = \"voicemail-login-rejected\"\nreasn = \"expired\"\n");
    let (line, _, field, message) = error(&text);
    assert_eq!((line, field.as_str()), (9, "expect[0].reasn"));
    assert!(message.contains("did you mean \"reason\"?"), "{message}");
    assert!(message.contains("its fields: client, reason, kid, detail"), "{message}");

    let text = format!("{GOOD}\n[[expect]]\nevent = \"tokens-issued\"\naccess_exp = \"soon\"\n");
    let (_, _, field, message) = error(&text);
    assert_eq!(field, "expect[0].access_exp");
    assert!(message.contains("is an integer"), "{message}");
}

#[test]
fn every_expectation_in_the_shipped_scenarios_names_a_real_event_and_field() {
    for entry in
        std::fs::read_dir(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")).unwrap()
    {
        let path = entry.unwrap().path();
        let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!scenario.expectations.is_empty(), "{}", path.display());
    }
}

/// A cluster with alice on two devices and bob on one, and one revoke step to get wrong.
fn revoking(step: &str) -> String {
    format!(
        "name = \"r\"\nduration = \"3h\"\n\
         [[clients]]\nkind = \"jabber\"\nuser = \"alice\"\ncount = 2\n\
         [[clients]]\nkind = \"jabber\"\nuser = \"bob\"\ncount = 1\n\
         [[step]]\nat = \"1h\"\naction = \"revoke\"\n{step}"
    )
}

#[test]
fn a_revocation_names_a_user_who_signs_in_and_that_users_device() {
    let parsed =
        Scenario::parse(&revoking("user = \"alice\"\nclient = \"jabber-2\"\n"), Path::new("x.toml")).unwrap();
    assert_eq!(
        parsed.steps[0].action,
        authzlab::scenario::Action::Revoke { user: "alice".into(), device: Some("jabber-2".into()) }
    );
    let devices: Vec<(String, String)> = parsed.devices().into_iter().map(|d| (d.name, d.user)).collect();
    assert_eq!(devices[2], ("jabber-3".to_string(), "bob".to_string()));

    let (line, column, field, message) = error(&revoking("user = \"alcie\"\n"));
    assert_eq!((line, column, field.as_str()), (14, 8, "step[0].user"));
    assert!(message.contains("did you mean \"alice\"") && message.contains("alice, alice, bob"), "{message}");

    let (line, _, field, message) = error(&revoking("user = \"alice\"\nclient = \"jabber-3\"\n"));
    assert_eq!((line, field.as_str()), (15, "step[0].client"));
    assert_eq!(message, "jabber-3 is bob's device, not alice's");

    let (_, _, field, message) = error(&revoking("user = \"alice\"\nclient = \"jabber-9\"\n"));
    assert_eq!(field, "step[0].client");
    assert!(message.contains("clients here: jabber-1, jabber-2, jabber-3"), "{message}");

    let (line, _, field, message) = error(&revoking(""));
    assert_eq!((line, field.as_str()), (13, "step[0].user"), "points at the action");
    assert!(message.starts_with("revoke needs `user"), "{message}");

    let (_, _, field, message) = error(&revoking("user = \"a&client_id=x\"\n"));
    assert_eq!(field, "step[0].user");
    assert!(message.contains("'&' is not allowed"), "{message}");

    let (_, _, field, message) = error(&revoking("user = \"alice\"\nkey = \"signing\"\n"));
    assert_eq!((field.as_str(), message.as_str()), ("step[0].key", "revoke takes no `key`"));
    let (_, _, field, message) =
        error(&GOOD.replace("key = \"signing\"", "key = \"signing\"\nuser = \"alice\""));
    assert_eq!((field.as_str(), message.as_str()), ("step[0].user", "regenerate-key takes no `user`"));
}

#[test]
fn an_expiry_timer_set_out_of_its_documented_bounds_names_the_bounds() {
    let step = |value: &str| {
        GOOD.replace(
            "action = \"regenerate-key\"\nkey = \"signing\"",
            &format!("action = \"set-param\"\nparam = \"access_token_expiry\"\nvalue = \"{value}\""),
        )
    };
    let parsed = Scenario::parse(&step("15m"), Path::new("x.toml")).unwrap();
    assert_eq!(
        parsed.steps[0].action,
        authzlab::scenario::Action::SetExpiry {
            timer: authzlab::tokens::ExpiryTimer::AccessTokenExpiry,
            value_s: 900
        }
    );
    let (line, column, field, message) = error(&step("1441m"));
    assert_eq!((line, column, field.as_str()), (8, 9, "step[0].value"));
    assert!(message.contains("must be 1 to 1440 whole minutes"), "{message}");
    let refresh = step("91d").replace("access_token_expiry", "refresh_token_expiry");
    let (_, _, field, message) = error(&refresh);
    assert_eq!(field, "step[0].value");
    assert!(message.contains("must be 1 to 90 whole days"), "{message}");
    let (_, _, field, message) = error(&step("15m").replace("access_token_expiry", "access_token_expiri"));
    assert_eq!(field, "step[0].param");
    assert!(message.contains("access_token_expiry"), "names the real ones: {message}");
}

/// docs/domain.md "Lifetimes": "OAuth with Refresh Login Flow" is Disabled by default; a
/// `set-param` step switches it, with a boolean, and a timer still takes a duration.
#[test]
fn the_refresh_login_flow_is_disabled_by_default_and_a_step_switches_it() {
    let parsed = Scenario::parse(GOOD, Path::new("x.toml")).unwrap();
    assert!(!parsed.refresh_login_flow, "Disabled by default");
    assert_eq!(parsed.cluster.release, authzlab::scenario::Release::NEWEST);
    assert!(!parsed.cluster.sso);
    let step = |param: &str, value: &str| {
        GOOD.replace(
            "action = \"regenerate-key\"\nkey = \"signing\"",
            &format!("action = \"set-param\"\nparam = \"{param}\"\nvalue = {value}"),
        )
    };
    let parsed = Scenario::parse(&step("refresh_login_flow", "true"), Path::new("x.toml")).unwrap();
    assert_eq!(parsed.steps[0].action, authzlab::scenario::Action::SetRefreshLoginFlow(true));
    let (line, column, field, message) = error(&step("refresh_login_flow", "\"yes\""));
    assert_eq!((line, column, field.as_str()), (8, 9, "step[0].value"));
    assert!(message.contains("`true` (Enabled) or `false` (Disabled)"), "{message}");
    let (_, _, field, message) = error(&step("access_token_expiry", "true"));
    assert_eq!(field, "step[0].value");
    assert!(message.contains("access_token_expiry is a duration"), "{message}");
    let (_, _, field, message) = error(&step("refresh_login_flows", "true"));
    assert_eq!(field, "step[0].param");
    assert!(message.contains("refresh_login_flow"), "names the real ones: {message}");
}

/// An old cluster's AuthZ predates the refresh login flow and its keys: the parameter, its
/// step and a key regeneration are refused there, each naming why.
#[test]
fn an_old_cluster_has_no_refresh_login_flow_and_no_keys_to_regenerate() {
    let old = "name = \"o\"\nduration = \"1h\"\n[cluster]\nrelease = \"old\"\nsso = true\n";
    let parsed = Scenario::parse(old, Path::new("x.toml")).unwrap();
    assert_eq!(parsed.cluster.release, authzlab::scenario::Release::Old);
    assert!(parsed.cluster.sso);

    let (line, _, field, message) = error(&format!("{old}[params]\nrefresh_login_flow = true\n"));
    assert_eq!((line, field.as_str()), (7, "params.refresh_login_flow"));
    assert!(message.contains("offers only the implicit grant"), "{message}");

    let flow_step =
        "[[step]]\nat = \"30m\"\naction = \"set-param\"\nparam = \"refresh_login_flow\"\nvalue = true\n";
    let (line, _, field, message) = error(&format!("{old}{flow_step}"));
    assert_eq!((line, field.as_str()), (9, "step[0].param"));
    assert!(message.contains("cluster.release = \"old\""), "{message}");

    let (line, _, field, message) = error(&format!("{old}{}", &GOOD[GOOD.find("[[step]]").unwrap()..]));
    assert_eq!((line, field.as_str()), (8, "step[0].action"));
    assert!(message.contains("no AuthZ signing or encryption key"), "{message}");

    let (_, _, field, message) = error(&old.replace("\"old\"", "\"ancient\""));
    assert_eq!(field, "cluster.release");
    assert!(message.contains("new") && message.contains("old"), "{message}");
}

/// docs/domain.md "Releases": each release refuses what came after it, naming the field, the
/// release it needs and the one the cluster runs; from that release on the same text parses.
#[test]
fn each_release_refuses_what_came_after_it() {
    let cluster = |release: &str, extra: &str| {
        format!(
            "name = \"r\"\nduration = \"1h\"\n[cluster]\nrelease = \"{release}\"\n{extra}\n\
             [params]\nrefresh_login_flow = true\n[[clients]]\nkind = \"phone\"\ncount = 1\n"
        )
    };
    let step =
        |action: &str, fields: &str| format!("[[step]]\nat = \"30m\"\naction = \"{action}\"\n{fields}\n");
    let edge = "sip = { oauth = true }\nexpressway = {}";
    // (text, field, the release it needs, the one before it)
    let cases = [
        (cluster("{r}", "sip = { oauth = true }"), "cluster.sip.oauth", "12.5", "12.0"),
        (cluster("{r}", "sip = { phone_oauth_port = 6090 }"), "cluster.sip.phone_oauth_port", "12.5", "12.0"),
        (
            cluster("{r}", "sip = {}") + &step("sip-oauth-mode", "value = true"),
            "step[0].action",
            "12.5",
            "12.0",
        ),
        (cluster("{r}", "sip = {}\nexpressway = {}"), "cluster.expressway", "12.5", "12.0"),
        (
            cluster("{r}", edge)
                + &step("save-expressway-c-entry", "host = \"e.example\"\nnames = [\"e.example\"]"),
            "step[0].action",
            "12.5SU1",
            "12.5",
        ),
        (
            cluster("{r}", "sip = { device_tokens = \"explicit\" }"),
            "cluster.sip.device_tokens",
            "14",
            "12.5SU1",
        ),
        (
            cluster("{r}", "sip = { oauth = true }")
                + &step("set-security-profile", "oauth_authentication = true"),
            "step[0].action",
            "14",
            "12.5SU1",
        ),
    ];
    for (text, field, needs, before) in cases {
        let refused = text.replace("{r}", before);
        let (_, _, got, message) = error(&refused);
        assert_eq!(got, field, "{refused}");
        assert!(
            message.contains(&format!("came with release {needs}; cluster.release is \"{before}\"")),
            "{field}: {message}"
        );
        let parsed = Scenario::parse(&text.replace("{r}", needs), Path::new("x.toml"));
        assert!(parsed.is_ok(), "{field} from {needs}: {parsed:?}");
    }
    // Phones through the edge need 14 as well.
    let remote = cluster("12.5SU1", edge).replace("count = 1\n", "count = 1\nsite = \"remote\"\n");
    let (_, _, field, message) = error(&remote);
    assert_eq!(field, "clients[0].site");
    assert!(message.contains("came with release 14"), "{message}");
    // `new` is the newest release; an unknown one names them all.
    let parsed = Scenario::parse(&cluster("new", edge), Path::new("x.toml")).unwrap();
    assert_eq!(parsed.cluster.release, authzlab::scenario::Release::R14Su1);
    let (_, _, field, message) = error(&cluster("13", ""));
    assert_eq!(field, "cluster.release");
    assert!(message.contains("12.5SU1") && message.contains("\"new\""), "{message}");
}

/// Old Jabber and RTMT are client kinds of their own; RTMT's devices are `rtmt-N`, numbered
/// with the others.
#[test]
fn old_clients_and_rtmt_are_kinds_with_their_own_device_names() {
    let text = "name = \"k\"\nduration = \"1h\"\n\
                [[clients]]\nkind = \"jabber\"\ncount = 1\n\
                [[clients]]\nkind = \"jabber-legacy\"\ncount = 1\n\
                [[clients]]\nkind = \"rtmt\"\ncount = 2\n";
    let parsed = Scenario::parse(text, Path::new("x.toml")).unwrap();
    let devices: Vec<(String, authzlab::scenario::ClientKind)> =
        parsed.devices().into_iter().map(|d| (d.name, d.kind)).collect();
    use authzlab::scenario::ClientKind::*;
    assert_eq!(
        devices,
        [
            ("jabber-1".to_string(), Jabber),
            ("jabber-2".to_string(), JabberLegacy),
            ("rtmt-3".to_string(), Rtmt),
            ("rtmt-4".to_string(), Rtmt)
        ]
    );
    assert!(Jabber.knows_refresh_flow() && !JabberLegacy.knows_refresh_flow() && !Rtmt.knows_refresh_flow());
    let (_, _, field, message) = error(&text.replace("count = 2\n", "count = 2\nstart = \"1h\"\n"));
    assert_eq!(field, "clients[2].start");
    assert!(message.contains("not before the end of the run (1h)"), "{message}");
    let started =
        Scenario::parse(&text.replace("count = 2\n", "count = 2\nstart = \"30m\"\n"), Path::new("x.toml"));
    let starts: Vec<_> = started.unwrap().devices().into_iter().map(|d| d.start).collect();
    assert_eq!(
        starts,
        [None, None, Some(std::time::Duration::from_secs(1800)), Some(std::time::Duration::from_secs(1800))]
    );
    let (_, _, field, message) = error(&text.replace("\"rtmt\"", "\"rtmt-legacy\""));
    assert_eq!(field, "clients[2].kind");
    assert!(message.contains("rtmt") && message.contains("jabber-legacy"), "{message}");
}

/// Fault steps name hosts of this scenario (or, for `skew`, a client device), with a
/// suggestion when a name is near one; each takes only its own fields.
#[test]
fn fault_steps_name_real_nodes_and_take_their_own_fields() {
    let base = "name = \"f\"\nduration = \"1h\"\n[cluster]\nunity = { validator = \"unity-connection\" }\n\
                [[clients]]\nkind = \"jabber\"\ncount = 1\n[[step]]\nat = \"10m\"\n";
    let parse = |step: &str| Scenario::parse(&format!("{base}{step}"), Path::new("x.toml"));
    use authzlab::scenario::Action;
    let step = |text: &str| parse(text).unwrap().steps[0].action.clone();
    assert_eq!(
        step("action = \"partition\"\nbetween = [\"cucm-pub\", \"site-campus\"]\noneway = true\n"),
        Action::Partition { a: "cucm-pub".into(), b: "site-campus".into(), oneway: true }
    );
    assert_eq!(step("action = \"crash\"\nnode = \"unity\"\n"), Action::Crash("unity".into()));
    assert_eq!(
        step("action = \"skew\"\nnode = \"jabber-1\"\noffset = \"-1m30s\"\ndrift_ppm = -50\n"),
        Action::Skew { node: "jabber-1".into(), offset_ms: -90_000, drift_ppm: -50 }
    );
    assert_eq!(
        step("action = \"link\"\nbetween = [\"unity\", \"cucm-pub\"]\nlatency = \"250ms\"\nloss = 0.01\n"),
        Action::Link {
            a: "unity".into(),
            b: "cucm-pub".into(),
            latency: Some(std::time::Duration::from_millis(250)),
            loss_ppm: Some(10_000)
        }
    );
    let error = |step: &str| error(&format!("{base}{step}"));
    let (line, _, field, message) = error("action = \"crash\"\nnode = \"cucm-sub-2\"\n");
    assert_eq!((line, field.as_str()), (11, "step[0].node"));
    assert!(message.contains("did you mean \"cucm-sub-1\"") && message.contains("site-campus"), "{message}");
    let (_, _, field, message) = error("action = \"partition\"\nbetween = [\"cucm-pub\"]\n");
    assert_eq!(field, "step[0].between");
    assert!(message.contains("two different"), "{message}");
    let (_, _, field, message) = error("action = \"skew\"\nnode = \"unity\"\noffset = \"25h\"\n");
    assert_eq!((field.as_str(), message.as_str()), ("step[0].offset", "is at most a day either way"));
    let (_, _, field, _) = error("action = \"skew\"\nnode = \"unity\"\noffset = \"5\"\n");
    assert_eq!(field, "step[0].offset");
    let (_, _, field, message) =
        error("action = \"link\"\nbetween = [\"unity\", \"cucm-pub\"]\nloss = 1.0\n");
    assert_eq!(field, "step[0].loss");
    assert!(message.contains("0 up to"), "{message}");
    let (_, _, field, message) = error("action = \"crash\"\nnode = \"unity\"\nbetween = [\"a\", \"b\"]\n");
    assert_eq!((field.as_str(), message.as_str()), ("step[0].between", "crash takes no `between`"));
    let (_, _, field, message) = error("action = \"skew\"\nnode = \"unity\"\n");
    assert_eq!(field, "step[0].offset");
    assert!(message.contains("offset") && message.contains("drift_ppm"), "{message}");
}

/// A negative scenario names the invariants it expects violated; a name that is no
/// invariant is refused with the nearest one.
#[test]
fn violates_names_real_invariants() {
    let parsed = Scenario::parse(
        &format!("violates = [\"crash_loses_no_committed_row\"]\n{GOOD}"),
        Path::new("x.toml"),
    )
    .unwrap();
    assert_eq!(parsed.violates, ["crash_loses_no_committed_row"]);
    let (line, _, field, message) =
        error(&format!("violates = [\"no_token_lifetime_out_of_bound\"]\n{GOOD}"));
    assert_eq!((line, field.as_str()), (1, "violates"));
    assert!(message.contains("did you mean \"no_token_lifetime_out_of_bounds\""), "{message}");
}

/// IM and Presence nodes come from the scenario: `imp-pub` and `imp-sub-N`, each a host that
/// fault steps may name; too many are refused with the bound.
#[test]
fn imp_nodes_come_from_the_scenario() {
    let text = |imp: &str| format!("name = \"i\"\nduration = \"1h\"\n[cluster]\nimp = {imp}\n");
    let parsed = Scenario::parse(&text("{ subscribers = 2 }"), Path::new("x.toml")).unwrap();
    let imp = parsed.cluster.imp.clone().unwrap();
    assert_eq!((imp.subscribers, imp.validator.as_str()), (2, "imp"));
    assert_eq!(imp.nodes(), ["imp-pub", "imp-sub-1", "imp-sub-2"]);
    assert_eq!(parsed.hosts(), ["cucm-pub", "cucm-sub-1", "imp-pub", "imp-sub-1", "imp-sub-2"]);
    assert!(
        Scenario::parse(&text("{}"), Path::new("x.toml")).unwrap().cluster.imp.unwrap().nodes()
            == ["imp-pub"]
    );
    let (line, _, field, message) = error(&text("{ subscribers = 5 }"));
    assert_eq!((line, field.as_str(), message.as_str()), (4, "cluster.imp.subscribers", "must be 0 to 4"));
    let (_, _, field, _) = error(&text("{ subscriber = 1 }"));
    assert!(field.starts_with("cluster.imp"), "{field}");
}

/// The regeneration command on another node than the publisher, and `restart-service`:
/// Tomcat on CallManager and IM and Presence nodes, the other services on IM and Presence
/// nodes only.
#[test]
fn node_commands_name_cli_nodes_and_services() {
    let base = "name = \"c\"\nduration = \"1h\"\n[cluster]\nimp = {}\nunity = { validator = \"unity-connection\" }\n\
                [[step]]\nat = \"10m\"\n";
    use authzlab::scenario::Action;
    let step = |text: &str| {
        Scenario::parse(&format!("{base}{text}"), Path::new("x.toml")).unwrap().steps[0].action.clone()
    };
    assert_eq!(
        step("action = \"regenerate-key\"\nkey = \"signing\"\nnode = \"imp-pub\"\n"),
        Action::PullKeys { node: "imp-pub".into(), kind: authzlab::tokens::KeyKind::Signing }
    );
    assert_eq!(
        step("action = \"regenerate-key\"\nkey = \"signing\"\nnode = \"cucm-pub\"\n"),
        Action::RegenerateKey(authzlab::tokens::KeyKind::Signing)
    );
    assert_eq!(
        step("action = \"restart-service\"\nnode = \"cucm-pub\"\nservice = \"tomcat\"\n"),
        Action::RestartService { node: "cucm-pub".into(), service: Service::Tomcat }
    );
    assert_eq!(
        step("action = \"restart-service\"\nnode = \"imp-pub\"\nservice = \"xcp-router\"\n"),
        Action::RestartService { node: "imp-pub".into(), service: Service::XcpRouter }
    );
    let error = |text: &str| error(&format!("{base}{text}"));
    let (_, _, field, message) = error("action = \"regenerate-key\"\nkey = \"signing\"\nnode = \"unity\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("not a CallManager or IM and Presence node"), "{message}");
    let (_, _, field, message) =
        error("action = \"restart-service\"\nnode = \"cucm-sub-1\"\nservice = \"xcp-router\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("acts on an IM and Presence node") && message.contains("imp-pub"), "{message}");
    let (_, _, field, message) =
        error("action = \"restart-service\"\nnode = \"imp-pub\"\nservice = \"xcp-routr\"\n");
    assert_eq!(field, "step[0].service");
    assert!(message.contains("did you mean \"xcp-router\""), "{message}");
    let (_, _, field, _) = error("action = \"restart-service\"\nservice = \"tomcat\"\n");
    assert_eq!(field, "step[0].node");
}

/// Certificate and service steps: what each takes, and a mistake in each names its field.
#[test]
fn certificate_steps_name_an_identity_or_a_trust_certificate_on_an_imp_node() {
    use authzlab::scenario::Action;
    // Without IM and Presence nodes there is no Presence Redundancy Group; the devices'
    // trust and the CA-signed Tomcat certificate concern the CallManager nodes too.
    let bare = "name = \"c\"\nduration = \"1h\"\n[[step]]\nat = \"10m\"\n";
    let (_, _, field, message) = error(&format!("{bare}action = \"set-high-availability\"\nvalue = true\n"));
    assert_eq!(field, "step[0].action");
    assert!(message.contains("[cluster.imp]"), "{message}");
    for (action, parsed) in [
        ("push-client-trust", Action::PushClientTrust),
        ("install-ca-signed-tomcat", Action::InstallCaSignedTomcat),
    ] {
        let scenario =
            Scenario::parse(&format!("{bare}action = \"{action}\"\n"), Path::new("x.toml")).unwrap();
        assert_eq!(scenario.steps[0].action, parsed);
    }
    let base =
        "name = \"c\"\nduration = \"1h\"\n[cluster]\nimp = { subscribers = 1 }\n[[step]]\nat = \"10m\"\n";
    let step = |text: &str| {
        Scenario::parse(&format!("{base}{text}"), Path::new("x.toml")).unwrap().steps[0].action.clone()
    };
    assert_eq!(
        step("action = \"regenerate-certificate\"\nnode = \"imp-sub-1\"\ncertificate = \"cup-xmpp-s2s\"\n"),
        Action::RegenerateCertificate { node: "imp-sub-1".into(), identity: Identity::CupXmppS2s }
    );
    assert_eq!(
        step("action = \"delete-certificate\"\nnode = \"imp-pub\"\ncertificate = \"ipsec-trust/imp-sub-1.pem\"\n"),
        Action::DeleteCertificate {
            node: "imp-pub".into(),
            certificate: CertificateName::Trust { store: Identity::Ipsec, host: "imp-sub-1".into() }
        }
    );
    assert_eq!(
        step("action = \"set-high-availability\"\nvalue = false\n"),
        Action::SetHighAvailability(false)
    );
    assert_eq!(step("action = \"push-client-trust\"\n"), Action::PushClientTrust);
    let error = |text: &str| error(&format!("{base}{text}"));
    let (line, _, field, message) =
        error("action = \"regenerate-certificate\"\nnode = \"imp-pub\"\ncertificate = \"authz\"\n");
    assert_eq!((line, field.as_str()), (9, "step[0].certificate"));
    assert!(message.contains("not an identity certificate"), "{message}");
    let (_, _, field, message) =
        error("action = \"regenerate-certificate\"\nnode = \"cucm-pub\"\ncertificate = \"cup-xmpp\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("IM and Presence node"), "{message}");
    // Every CallManager node holds ipsec.pem; DRF Primary runs on the CallManager publisher.
    assert_eq!(
        step("action = \"regenerate-certificate\"\nnode = \"cucm-pub\"\ncertificate = \"ipsec\"\n"),
        Action::RegenerateCertificate { node: "cucm-pub".into(), identity: Identity::Ipsec }
    );
    assert_eq!(
        step("action = \"regenerate-certificate\"\nnode = \"cucm-sub-1\"\ncertificate = \"ipsec\"\n"),
        Action::RegenerateCertificate { node: "cucm-sub-1".into(), identity: Identity::Ipsec }
    );
    let (_, _, field, message) =
        error("action = \"restart-service\"\nnode = \"imp-pub\"\nservice = \"drf-primary\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("the CallManager publisher"), "{message}");
    assert_eq!(step("action = \"show-ipsec-trust\"\n"), Action::ShowIpsecTrust);
    let (_, _, field, message) = error("action = \"show-ipsec-trust\"\nnode = \"imp-pub\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("takes no `node`"), "{message}");
    let (_, _, field, message) =
        error("action = \"delete-certificate\"\nnode = \"imp-pub\"\ncertificate = \"tomcat-trust/\"\n");
    assert_eq!(field, "step[0].certificate");
    assert!(message.contains("<host>.pem"), "{message}");
    let (_, _, field, _) = error("action = \"regenerate-certificate\"\nnode = \"imp-pub\"\n");
    assert_eq!(field, "step[0].certificate");
    let (_, _, field, message) =
        error("action = \"stop-service\"\nnode = \"imp-pub\"\nservice = \"tomcat\"\n");
    assert_eq!(field, "step[0].service");
    assert!(message.contains("restart-service"), "{message}");
    // Certificate Change Notification runs on the CallManager nodes only; a CallManager node
    // deletes trust certificates too.
    assert_eq!(
        step(
            "action = \"stop-service\"\nnode = \"cucm-pub\"\nservice = \"certificate-change-notification\"\n"
        ),
        Action::StopService { node: "cucm-pub".into(), service: Service::CertificateChangeNotification }
    );
    let (_, _, field, message) = error(
        "action = \"stop-service\"\nnode = \"imp-pub\"\nservice = \"certificate-change-notification\"\n",
    );
    assert_eq!(field, "step[0].node");
    assert!(message.contains("a CallManager node") && message.contains("cucm-pub"), "{message}");
    assert_eq!(
        step("action = \"delete-certificate\"\nnode = \"cucm-pub\"\ncertificate = \"tomcat-trust/imp-pub.pem\"\n"),
        Action::DeleteCertificate {
            node: "cucm-pub".into(),
            certificate: CertificateName::Trust { store: Identity::Tomcat, host: "imp-pub".into() }
        }
    );
    let (_, _, field, message) = error("action = \"set-high-availability\"\nvalue = \"off\"\n");
    assert_eq!((field.as_str(), message.as_str()), ("step[0].value", "is true or false"));
    let (_, _, field, message) = error("action = \"push-client-trust\"\nnode = \"imp-pub\"\n");
    assert_eq!(field, "step[0].node");
    assert!(message.contains("takes no `node`"), "{message}");
}

/// A validator that is neither built in nor a `.wasm` file is refused at its line, saying
/// where authzlab looked and which file name would load a component from beside the scenario.
#[test]
fn an_unknown_validator_says_where_it_looked_and_how_to_name_a_file() {
    let text = "name = \"v\"\nduration = \"1h\"\n[cluster]\nunity = { validator = \"my-validator\" }\n";
    let unknown = Scenario::parse(text, Path::new("scenarios/v.toml")).unwrap_err().to_string();
    assert!(unknown.starts_with("scenarios/v.toml:4:23: cluster.unity.validator: "), "{unknown}");
    assert!(unknown.contains("looked among its built-ins (unity-connection, imp,"), "{unknown}");
    assert!(unknown.contains("\"my-validator.wasm\" would be scenarios/my-validator.wasm"), "{unknown}");
    let close = text.replace("my-validator", "unity-conection");
    let close = Scenario::parse(&close, Path::new("v.toml")).unwrap_err().to_string();
    assert!(close.contains("(did you mean \"unity-connection\"?)"), "{close}");
    let sip = "name = \"v\"\nduration = \"1h\"\n[params]\nrefresh_login_flow = true\n[cluster]\nsip = { validator = \"sip\" }\n";
    let (_, _, field, _) = error(sip);
    assert_eq!(field, "cluster.sip.validator");
    let file = text.replace("my-validator", "mine.wasm");
    assert!(Scenario::parse(&file, Path::new("v.toml")).is_ok(), "a .wasm name is read when the run starts");
}

/// `configure-unity` needs Unity Connection and at least one of its two settings.
#[test]
fn unity_settings_steps_say_what_they_need() {
    use authzlab::scenario::Action;
    let base = "name = \"u\"\nduration = \"1h\"\n[cluster]\nunity = { validator = \"unity-connection\", oauth = false }\n[[step]]\nat = \"10m\"\naction = \"configure-unity\"\n";
    let parsed = Scenario::parse(&format!("{base}oauth = true\n"), Path::new("u.toml")).unwrap();
    assert_eq!(parsed.steps[0].action, Action::ConfigureUnity { authz_server: None, oauth: Some(true) });
    assert!(parsed.cluster.unity_setup.authz_server && !parsed.cluster.unity_setup.oauth);
    let (_, _, field, message) = error(base);
    assert_eq!(field, "step[0].authz_server");
    assert!(message.contains("`authz_server`, `oauth` or both"), "{message}");
    let (_, _, field, message) = error(&format!("{base}oauth = \"yes\"\n"));
    assert_eq!(field, "step[0].oauth");
    assert!(message.contains("boolean") || message.contains("bool"), "{message}");
    let bare = "name = \"u\"\nduration = \"1h\"\n[[step]]\nat = \"10m\"\naction = \"configure-unity\"\noauth = true\n";
    let (_, _, field, message) = error(bare);
    assert_eq!(field, "step[0].action");
    assert!(message.contains("[cluster.unity]"), "{message}");
}

/// `[cluster.sip]` and `[cluster.expressway]`: ports in the documents' range, SIP OAuth only
/// with the refresh login flow, the edge only with SIP and a tick its requests fit in,
/// remote devices only with the edge, phones only with SIP.
#[test]
fn sip_and_edge_settings_are_checked_where_they_are_written() {
    let sip = "name = \"s\"\nduration = \"1h\"\n\n[params]\nrefresh_login_flow = true\n\n[cluster]\n";
    let (line, _, field, message) = error(&format!("{sip}sip = {{ phone_oauth_port = 80 }}\n"));
    assert_eq!((line, field.as_str()), (8, "cluster.sip.phone_oauth_port"));
    assert!(message.contains("80 is outside 1024-49151"), "{message}");
    let (_, _, field, message) = error(&format!("{sip}sip = {{ mra_oauth_port = 5090 }}\n"));
    assert_eq!(field, "cluster.sip.mra_oauth_port");
    assert!(message.contains("differ"), "{message}");
    // A port the subscriber already serves would never reach CallManager: named, refused.
    let (_, _, field, message) = error(&format!("{sip}sip = {{ phone_oauth_port = 8443 }}\n"));
    assert_eq!(field, "cluster.sip.phone_oauth_port");
    assert!(message.contains("8443 is already served by Cisco Tomcat"), "{message}");
    let (_, _, _, message) = error(&format!("{sip}sip = {{ mra_oauth_port = 6970 }}\n"));
    assert!(message.contains("6970 is already served by Cisco TFTP"), "{message}");
    let no_flow = "name = \"s\"\nduration = \"1h\"\n\n[cluster]\nsip = { oauth = true }\n";
    let (line, _, field, message) = error(no_flow);
    assert_eq!((line, field.as_str()), (5, "cluster.sip.oauth"));
    assert!(message.contains("Refresh Login Flow"), "{message}");
    let (_, _, field, message) = error(&format!("{sip}expressway = {{}}\n"));
    assert_eq!(field, "cluster.expressway");
    assert!(message.contains("[cluster.sip]"), "{message}");
    let slow = format!("{sip}sip = {{}}\nexpressway = {{}}\n")
        .replace("duration = \"1h\"", "duration = \"1h\"\ntick = \"1s\"");
    let (line, _, field, message) = error(&slow);
    assert_eq!((line, field.as_str()), (3, "tick"));
    assert!(message.contains("with the edge"), "{message}");
    let (_, _, field, message) =
        error(&format!("{sip}expressway = {{ san = [\"bad name\"] }}\nsip = {{}}\n"));
    assert_eq!(field, "cluster.expressway.san");
    assert!(message.contains("not a DNS name"), "{message}");
    let remote = format!("{sip}sip = {{}}\n\n[[clients]]\nkind = \"jabber\"\ncount = 1\nsite = \"remote\"\n");
    let (_, _, field, message) = error(&remote);
    assert_eq!(field, "clients[0].site");
    assert!(message.contains("[cluster.expressway]"), "{message}");
    let phones = format!("{sip}sso = false\n\n[[clients]]\nkind = \"phone\"\ncount = 1\n");
    let (_, _, field, message) = error(&phones);
    assert_eq!(field, "clients[0].kind");
    assert!(message.contains("[cluster.sip]"), "{message}");
    let fine = format!("{sip}sip = {{ oauth = true }}\nexpressway = {{ san = [\"expc.example.com\"] }}\n\n[[clients]]\nkind = \"phone\"\ncount = 1\nsite = \"remote\"\n");
    let scenario = Scenario::parse(&fine, Path::new("scenarios/x.toml")).unwrap();
    assert_eq!(scenario.cluster.expressway.as_ref().unwrap().san, ["expc.example.com"]);
    assert!(scenario.hosts().contains(&"site-remote".into()));
    // configure-expressway changes either setting, or both, and names one when it has none.
    let step =
        |text: &str| format!("{fine}\n[[step]]\nat = \"10m\"\naction = \"configure-expressway\"\n{text}");
    let parsed = Scenario::parse(&step("trusts_callmanager = true\n"), Path::new("x.toml")).unwrap();
    assert_eq!(
        parsed.steps[0].action,
        authzlab::scenario::Action::ConfigureExpressway {
            oauth_with_refresh: None,
            trusts_callmanager: Some(true)
        }
    );
    let (_, _, field, message) = error(&step(""));
    assert_eq!(field, "step[0].oauth_with_refresh");
    assert!(message.contains("trusts_callmanager"), "{message}");
}

/// `save-expressway-c-entry`'s `domain` is a dotted DNS name other than the cluster's own, and
/// reaches the action as typed.
#[test]
fn an_expressway_c_entry_domain_is_another_dns_domain() {
    let base = "name = \"s\"\nduration = \"1h\"\n\n[params]\nrefresh_login_flow = true\n\n[cluster]\nrelease = \"12.5SU1\"\nsip = {}\nexpressway = {}\n\n[[step]]\nat = \"10m\"\naction = \"save-expressway-c-entry\"\nhost = \"expc.edge.example.net\"\nnames = [\"expc.edge.example.net\"]\n";
    let parsed =
        Scenario::parse(&format!("{base}domain = \"edge.example.net\"\n"), Path::new("x.toml")).unwrap();
    assert_eq!(
        parsed.steps[0].action,
        authzlab::scenario::Action::SaveExpresswayEntry {
            host: "expc.edge.example.net".to_string(),
            names: vec!["expc.edge.example.net".to_string()],
            domain: Some("edge.example.net".to_string()),
        }
    );
    for (domain, says) in [
        ("example.com", "not the cluster's (example.com)"),
        ("localdomain", "a dotted name"),
        ("edge example.net", "not a DNS name"),
    ] {
        let (line, _, field, message) = error(&format!("{base}domain = \"{domain}\"\n"));
        assert_eq!((line, field.as_str()), (17, "step[0].domain"), "{domain}");
        assert!(message.contains(says), "{domain}: {message}");
    }
}

/// Proxy TFTP: from release 14SU1 only; its phone-edge-trust setting only with it; an upload
/// on `proxy-tftp` only when the cluster has one, and only into phone-edge-trust.
#[test]
fn a_proxy_tftp_comes_with_14su1_and_takes_phone_edge_trust_uploads() {
    let base = |release: &str, sip: &str| {
        format!("name = \"s\"\nduration = \"1h\"\n\n[params]\nrefresh_login_flow = true\n\n[cluster]\nrelease = \"{release}\"\nsip = {{ oauth = true{sip} }}\n")
    };
    let proxy = ", proxy_tftp = true, proxy_phone_edge_trust = false";
    let parsed = Scenario::parse(&base("14SU1", proxy), Path::new("x.toml")).unwrap();
    let sip = parsed.cluster.sip.as_ref().unwrap();
    assert_eq!(sip.proxy_tftp, Some(authzlab::scenario::ProxyTftp { roots_copied: false }));
    assert!(parsed.hosts().contains(&authzlab::node_id::NodeId::PROXY_TFTP));
    let (line, _, field, message) = error(&base("14", proxy));
    assert_eq!((line, field.as_str()), (9, "cluster.sip.proxy_tftp"));
    assert!(message.contains("came with release 14SU1"), "{message}");
    let (_, _, field, message) = error(&base("14SU1", ", proxy_phone_edge_trust = true"));
    assert_eq!(field, "cluster.sip.proxy_phone_edge_trust");
    assert!(message.contains("proxy_tftp = true"), "{message}");
    let upload = |sip: &str, certificate: &str| {
        format!(
            "{}\n[[step]]\nat = \"10m\"\naction = \"upload-certificate\"\nnode = \"proxy-tftp\"\ncertificate = \"{certificate}\"\n",
            base("14SU1", sip)
        )
    };
    let parsed =
        Scenario::parse(&upload(proxy, "phone-edge-trust/cucm-pub.pem"), Path::new("x.toml")).unwrap();
    assert_eq!(
        parsed.steps[0].action,
        authzlab::scenario::Action::UploadCertificate {
            node: authzlab::node_id::NodeId::PROXY_TFTP,
            certificate: CertificateName::PhoneEdgeTrust { host: "cucm-pub".to_string() },
        }
    );
    for (sip, certificate) in [("", "phone-edge-trust/cucm-pub.pem"), (proxy, "tomcat-trust/cucm-sub-1.pem")]
    {
        let (_, _, field, message) = error(&upload(sip, certificate));
        assert_eq!(field, "step[0].node", "{certificate}");
        assert!(message.contains("a CallManager subscriber") && message.contains("cucm-sub-1"), "{message}");
    }
}

/// The SIP steps: a CallManager restart only on a subscriber and only with SIP; a port out of
/// range is the administrator's mistake the run shows, not a file error; the edge steps only
/// with the edge.
#[test]
fn sip_steps_name_subscribers_and_need_their_cluster() {
    let base = "name = \"s\"\nduration = \"1h\"\n\n[params]\nrefresh_login_flow = true\n\n[cluster]\nsip = {}\n\n[[step]]\nat = \"10m\"\n";
    let (_, _, field, message) = error(&format!(
        "{base}action = \"restart-service\"\nnode = \"cucm-pub\"\nservice = \"callmanager\"\n"
    ));
    assert_eq!(field, "step[0].node");
    assert!(message.contains("a CallManager subscriber") && message.contains("cucm-sub-1"), "{message}");
    let no_sip =
        format!("{base}action = \"restart-service\"\nnode = \"cucm-sub-1\"\nservice = \"callmanager\"\n")
            .replace("sip = {}\n", "");
    let (_, _, field, message) = error(&no_sip);
    assert_eq!(field, "step[0].service");
    assert!(message.contains("[cluster.sip]"), "{message}");
    let scenario = Scenario::parse(
        &format!("{base}action = \"set-sip-ports\"\nnode = \"cucm-sub-1\"\nphone_port = 80\n"),
        Path::new("scenarios/x.toml"),
    )
    .unwrap();
    assert_eq!(scenario.steps[0].action.name(), "set-sip-ports");
    let (_, _, field, _) = error(&format!("{base}action = \"set-sip-ports\"\nnode = \"cucm-sub-1\"\n"));
    assert_eq!(field, "step[0].phone_port");
    let (_, _, field, message) = error(&format!("{base}action = \"refresh-expressway\"\n"));
    assert_eq!(field, "step[0].action");
    assert!(message.contains("[cluster.expressway]"), "{message}");
    let (_, _, field, message) = error(&format!("{base}action = \"sip-oauth-mode\"\nvalue = \"yes\"\n"));
    assert_eq!(field, "step[0].value");
    assert!(message.contains("true"), "{message}");
    let (_, _, field, message) =
        error(&format!("{base}action = \"sip-oauth-mode\"\nvalue = true\nsan = [\"x\"]\n"));
    assert_eq!(field, "step[0].san");
    assert!(message.contains("takes no `san`"), "{message}");
    // upload-certificate: into a subscriber's Tomcat-trust, only certificates the run has
    // (the edge CA only with the edge).
    let upload = |node: &str, certificate: &str| {
        format!("{base}action = \"upload-certificate\"\nnode = \"{node}\"\ncertificate = \"{certificate}\"\n")
    };
    let scenario =
        Scenario::parse(&upload("cucm-sub-1", "tomcat-trust/cucm-sub-1.pem"), Path::new("x.toml")).unwrap();
    assert_eq!(scenario.steps[0].action.name(), "upload-certificate");
    for certificate in
        ["tomcat-trust/Enterprise Root CA.pem", "ipsec-trust/cucm-sub-1.pem", "tomcat-trust/nobody.pem"]
    {
        let (_, _, field, message) = error(&upload("cucm-sub-1", certificate));
        assert_eq!(field, "step[0].certificate", "{certificate}");
        assert_eq!(
            message,
            "can upload only tomcat-trust/cucm-sub-1.pem, phone-edge-trust/cucm-pub.pem, phone-edge-trust/cucm-sub-1.pem",
            "{certificate}"
        );
    }
    // phone-edge-trust takes any CallManager node's tomcat.pem, and nothing is deleted from it.
    for certificate in ["phone-edge-trust/cucm-pub.pem", "phone-edge-trust/cucm-sub-1.pem"] {
        let scenario = Scenario::parse(&upload("cucm-sub-1", certificate), Path::new("x.toml")).unwrap();
        assert_eq!(scenario.steps[0].action.step_fields()["certificate"], certificate);
    }
    let (_, _, field, message) = error(&upload("cucm-sub-1", "phone-edge-trust/imp-pub.pem"));
    assert_eq!(field, "step[0].certificate");
    assert!(message.contains("phone-edge-trust/cucm-pub.pem"), "{message}");
    let delete = format!("{base}action = \"delete-certificate\"\nnode = \"cucm-sub-1\"\ncertificate = \"phone-edge-trust/cucm-pub.pem\"\n");
    let (_, _, field, message) = error(&delete);
    assert_eq!(field, "step[0].certificate");
    assert!(message.contains("phone_edge_trust = false"), "{message}");
    let with_edge =
        upload("cucm-sub-1", "tomcat-trust/x.pem").replace("sip = {}\n", "sip = {}\nexpressway = {}\n");
    let (_, _, _, message) = error(&with_edge);
    assert!(message.contains("tomcat-trust/Enterprise Root CA.pem"), "{message}");
    let (_, _, field, message) = error(&upload("cucm-pub", "tomcat-trust/cucm-sub-1.pem"));
    assert_eq!(field, "step[0].node");
    assert!(message.contains("a CallManager subscriber"), "{message}");
}

/// The last epoch the parser accepts (year 9999) is refused, with the field, when the cluster
/// makes certificates that would have to outlive the year 9999 (the run stopped with an
/// unlocated "validity out of range" before).
#[test]
fn an_epoch_whose_certificates_would_outlive_the_year_9999_is_refused() {
    let imp =
        "name = \"late\"\nepoch = 253402300799\nduration = \"1h\"\n\n[cluster]\nimp = { subscribers = 1 }\n";
    let (line, _, field, message) = error(imp);
    assert_eq!((line, field.as_str()), (2, "epoch"));
    assert!(message.contains("ten years") && message.contains("9999-12-31"), "{message}");
    let latest: u64 = message.split("at most ").nth(1).unwrap().split(':').next().unwrap().parse().unwrap();
    let fits = imp.replace("253402300799", &latest.to_string());
    Scenario::parse(&fits, Path::new("x.toml")).unwrap();
    // Without certificates the year 9999 is fine.
    Scenario::parse("name = \"late\"\nepoch = 253402300799\nduration = \"1h\"\n", Path::new("x.toml"))
        .unwrap();
}

const PHONES: &str = r#"name = "phones"
duration = "1h"

[cluster]
sip = { oauth = true }

[params]
refresh_login_flow = true

[[clients]]
kind = "phone"
count = 1

[[clients]]
kind = "jabber"
count = 1

[[step]]
at = "10m"
action = "set-security-profile"
oauth_authentication = false

[[step]]
at = "20m"
action = "reset-phone"
client = "phone-1"
"#;

/// The profile's settings, a phone's model and the phone a reset names are each checked
/// where they are written.
#[test]
fn phone_security_steps_and_models_name_the_field() {
    assert!(Scenario::parse(PHONES, Path::new("scenarios/x.toml")).is_ok());
    let (line, _, field, message) = error(&PHONES.replace("client = \"phone-1\"", "client = \"jabber-2\""));
    assert_eq!((line, field.as_str()), (26, "step[1].client"));
    assert_eq!(message, "jabber-2 is not a phone of this run; phones here: phone-1");
    let (line, _, field, message) =
        error(&PHONES.replace("oauth_authentication = false", "device_security_mode = \"secure\""));
    assert_eq!((line, field.as_str()), (21, "step[0].device_security_mode"));
    assert_eq!(message, "is one of non-secure, authenticated, encrypted");
    let (_, _, field, message) = error(&PHONES.replace("oauth_authentication = false\n", ""));
    assert_eq!(field, "step[0].digest_authentication");
    assert!(
        message.contains("needs one or more of") && message.contains("oauth_authentication"),
        "{message}"
    );
    let (line, _, field, message) = error(
        &PHONES.replace("kind = \"jabber\"\ncount = 1", "kind = \"jabber\"\ncount = 1\nmodel = \"8845\""),
    );
    assert_eq!((line, field.as_str()), (17, "clients[1].model"));
    assert_eq!(message, "only a phone has a model");
    let (_, _, field, message) = error(
        &PHONES.replace("kind = \"phone\"\ncount = 1", "kind = \"phone\"\ncount = 1\nmodel = \"88 45\""),
    );
    assert_eq!(field, "clients[0].model");
    assert!(message.contains("3 to 8 letters or digits"), "{message}");
}

/// `reconfigure-sso` without SSO is refused where it is written, and the publisher's Tomcat
/// may be regenerated only when SSO names it.
#[test]
fn sso_steps_need_sso() {
    let (line, _, field, message) = error(
        &GOOD.replace("action = \"regenerate-key\"\nkey = \"signing\"", "action = \"reconfigure-sso\""),
    );
    assert_eq!((line, field.as_str()), (6, "step[0].action"));
    assert_eq!(message, "reconfigure-sso needs SSO: [cluster] sso = true");
    let tomcat = "action = \"regenerate-certificate\"\nnode = \"cucm-pub\"\ncertificate = \"tomcat\"";
    let (_, _, field, _) = error(&GOOD.replace("action = \"regenerate-key\"\nkey = \"signing\"", tomcat));
    assert_eq!(field, "step[0].node");
    let with_sso = GOOD.replace("[[step]]", "[cluster]\nsso = true\n\n[[step]]");
    assert!(Scenario::parse(
        &with_sso.replace("action = \"regenerate-key\"\nkey = \"signing\"", tomcat),
        Path::new("scenarios/x.toml")
    )
    .is_ok());
}

/// The CLI steps name what they read: a query or a log the documents give, refused with the
/// names it knows otherwise, and `read-log` takes no other field.
#[test]
fn cli_steps_name_a_query_or_a_log_the_documents_give() {
    let step = |fields: &str| format!("name = \"c\"\nduration = \"1h\"\n[[step]]\nat = \"10m\"\n{fields}\n");
    let parsed =
        Scenario::parse(&step("action = \"read-log\"\nlog = \"ssosp\""), Path::new("x.toml")).unwrap();
    assert_eq!(parsed.steps[0].action.step_fields()["log"], "ssosp");
    let (line, _, field, message) = error(&step("action = \"read-log\"\nlog = \"ssoapp\""));
    assert_eq!((line, field.as_str()), (6, "step[0].log"));
    assert!(message.contains("ssoApp, ssosp, certMgmt"), "{message}");
    let (_, _, field, message) = error(&step("action = \"read-log\""));
    assert_eq!(field, "step[0].log");
    assert!(message.contains("read-log needs `log`"), "{message}");
    let (_, _, field, _) =
        error(&step("action = \"read-log\"\nlog = \"ssosp\"\nquery = \"refreshtokendetails\""));
    assert_eq!(field, "step[0].query");
    let (_, _, field, message) = error(&step("action = \"run-sql\"\nquery = \"select *\""));
    assert_eq!(field, "step[0].query");
    assert!(message.contains("refreshtokendetails"), "{message}");
}
