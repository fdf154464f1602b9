//! The `authzlab` binary, run as a user runs it: exit codes are a contract (0 held, 1 a check
//! failed, 2 bad input), output names what went wrong.

mod common;

use std::path::Path;

use common::{authzlab, plugin_check, repo, scratch, text, write};
use sha2::{Digest, Sha256};

#[test]
fn run_tells_the_story_and_certifies_the_trace() {
    let trace = scratch("trace.jsonl");
    let output =
        authzlab(&["run", "scenarios/signing-key-regenerated.toml", "--trace", trace.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("Result: PASS"), "{stdout}");
    assert!(stdout.contains("Failed to get valid access token from refresh token, maybe server issue."));
    assert!(stdout.contains("Replay: authzlab run scenarios/signing-key-regenerated.toml --seed 7"));
    let written = std::fs::read(&trace).unwrap();
    // The first line is the header; the certificate is the SHA-256 of the event lines.
    let header_end = written.iter().position(|byte| *byte == b'\n').unwrap() + 1;
    assert!(written.starts_with(b"{\"authzlab_trace\":1,"), "{}", text(&written[..header_end]));
    let hash = hex::encode(Sha256::digest(&written[header_end..]));
    assert!(stdout.contains(&format!("sha256 {hash}")), "the printed hash is the trace's events'");
    let lines = text(&written[header_end..]).lines().count();
    assert!(stdout.contains(&format!("Trace: {lines} events")));
    assert!(!text(&written).contains("eyJ"), "no raw token in the trace file");
}

/// `replay` runs again what the header names: identical with the certificate; a trace
/// altered at one event is reported there with both versions (exit 1); a trace whose
/// scenario changed since is refused, naming it (exit 2).
#[test]
fn replay_certifies_a_trace_finds_the_altered_event_and_refuses_a_changed_scenario() {
    let trace = scratch("replayed.jsonl");
    let output = authzlab(&[
        "run",
        "scenarios/signing-key-regenerated.toml",
        "--timeline",
        "none",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let hash = text(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Trace: ").map(str::to_string))
        .unwrap();
    let hash = hash.rsplit(' ').next().unwrap().to_string();
    let output = authzlab(&["replay", trace.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!("identical (sha256 {hash}, ")),
        "{}",
        text(&output.stdout)
    );

    let recorded = text(&std::fs::read(&trace).unwrap()).to_string();
    let mut lines: Vec<String> = recorded.lines().map(str::to_string).collect();
    lines[40] = lines[40].replacen("\"t_ms\":", "\"t_ms\":1", 1);
    let altered = scratch("altered.jsonl");
    std::fs::write(&altered, lines.join("\n") + "\n").unwrap();
    let output = authzlab(&["replay", altered.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("differs at event 40; before it, both have:"), "{stdout}");
    assert!(stdout.contains("  recorded  {\"t_ms\":1"), "{stdout}");

    lines[0] = lines[0].replacen("\"scenario_sha256\":\"", "\"scenario_sha256\":\"00", 1);
    let stale = scratch("stale.jsonl");
    std::fs::write(&stale, lines.join("\n") + "\n").unwrap();
    let output = authzlab(&["replay", stale.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr)
        .contains("scenarios/signing-key-regenerated.toml has changed since the trace was written"));
}

#[test]
fn a_malformed_scenario_exits_2_naming_file_line_and_field() {
    let scenario = scratch("bad.toml");
    std::fs::write(&scenario, "name = \"x\"\nduration = \"6h\"\n\n[[step]]\nat = \"2h5\"\naction = \"regenerate-key\"\nkey = \"signing\"\n").unwrap();
    let output = authzlab(&["run", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("{}:5:6: step[0].at", scenario.display())), "{stderr}");
    assert!(stderr.contains("try \"2h5m\""), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_missing_scenario_exits_2() {
    let output = authzlab(&["run", "scenarios/no-such-file.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("scenarios/no-such-file.toml: cannot read"));
}

#[test]
fn a_failing_expectation_exits_1_and_prints_the_replay_command() {
    let scenario = scratch("fails.toml");
    std::fs::write(
        &scenario,
        "name = \"expects the impossible\"\nduration = \"10m\"\nseed = 3\n\
         [cluster]\nunity = { validator = \"unity-connection\" }\n\
         [[clients]]\nkind = \"jabber\"\ncount = 1\n\
         [[expect]]\nevent = \"key-regenerated\"\n",
    )
    .unwrap();
    let output = authzlab(&["run", scenario.to_str().unwrap(), "--timeline", "none"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("FAIL line 9: key-regenerated"), "{}", text(&output.stdout));
    assert!(text(&output.stderr).contains("--seed 3"));
}

#[test]
fn plugin_check_passes_the_reference_validator() {
    let output = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, "tests/vectors/unity-connection.json");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 failed"), "{stdout}");
    assert!(stdout.contains("tampered-jwe-tag"));
    assert!(!stdout.contains("depend on earlier calls"), "{stdout}");
}

/// A component that remembers the tokens it accepted gets some cases wrong; the check also
/// says why, naming each case whose verdict changed when the cases ran last first on a fresh
/// instance.
#[test]
fn plugin_check_says_when_verdicts_depend_on_earlier_calls() {
    let output = authzlab(&["plugin", "check", authzlab_plugins::CACHING.path]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("your plugin's verdicts depend on earlier calls"), "{stdout}");
    assert!(stdout.contains("  expired: accept in order, reject:expired last first"), "{stdout}");
    assert!(!stdout.contains("valid-access-token: "), "a case that does not change is not named: {stdout}");
}

#[test]
fn plugin_check_exits_1_on_a_plugin_that_disagrees() {
    let output = plugin_check(authzlab_plugins::FAULTY.path, "tests/vectors/unity-connection.json");
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("MISMATCH"));
}

/// What a component logs is printed under its case, and a panic's message under its fault.
#[test]
fn plugin_check_prints_what_the_plugin_said() {
    let mut vectors: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/vectors/unity-connection.json")).unwrap())
            .unwrap();
    vectors["cases"] = serde_json::json!([
        { "name": "says-things", "kind": "access", "token": "log c2VjcmV0LXRva2VuLXRleHQ", "now": 1_767_571_200u64,
          "expect": "reject:denied", "native": "reject:malformed" },
        { "name": "panics", "kind": "access", "token": "panic", "now": 1_767_571_200u64,
          "expect": "reject:malformed" },
    ]);
    let file = scratch("said.json");
    std::fs::write(&file, vectors.to_string()).unwrap();
    let output = plugin_check(authzlab_plugins::FAULTY.path, file.to_str().unwrap());
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "the panic is a mismatch: {stdout}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
    assert!(stdout.contains("└ said (info): presented log <token>\n"), "{stdout}");
    assert!(stdout.contains("└ said (stderr): to stderr: <token>\n"), "{stdout}");
    assert!(stdout.contains("└ component plugin-fault: trapped: wasm trap: wasm `unreachable` instruction executed; its stderr: thread"), "{stdout}");
    assert!(stdout.contains("not served here"), "{stdout}");
    assert!(!stdout.contains("c2VjcmV0LXRva2Vu"), "{stdout}");
}

#[test]
fn plugin_check_on_a_file_that_is_not_a_component_exits_2() {
    let junk = scratch("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let output = plugin_check(junk.to_str().unwrap(), "tests/vectors/unity-connection.json");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("plugin junk"), "{}", text(&output.stderr));
}

#[test]
fn a_trace_is_not_half_written_when_the_directory_is_missing() {
    let target = Path::new("/nonexistent-dir/trace.jsonl");
    let output =
        authzlab(&["run", "scenarios/signing-key-regenerated.toml", "--trace", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/nonexistent-dir/trace.jsonl: cannot write the trace"));
    assert!(!target.exists());
}

#[test]
fn a_scenario_can_load_a_validator_from_a_wasm_file() {
    let scenario = scratch("own-plugin.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"my own validator\"\nduration = \"15m\"\n\
             [cluster]\nunity = {{ validator = {:?} }}\n\
             [params]\nrefresh_login_flow = true\n\
             [[clients]]\nkind = \"jabber\"\ncount = 1\n\
             [[expect]]\nevent = \"voicemail-login-accepted\"\nnode = \"unity\"\n",
            authzlab_plugins::UNITY_CONNECTION.path
        ),
    )
    .unwrap();
    let output = authzlab(&["run", scenario.to_str().unwrap(), "--timeline", "none"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
}

#[test]
fn an_unknown_validator_exits_2_and_lists_the_built_in_ones() {
    let scenario = scratch("unknown-plugin.toml");
    std::fs::write(
        &scenario,
        "name = \"x\"\nduration = \"1m\"\n[cluster]\nunity = { validator = \"unity-conection\" }\n",
    )
    .unwrap();
    let output = authzlab(&["run", scenario.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("\"unity-conection\"") && stderr.contains("unity-connection"), "{stderr}");
}

#[test]
fn events_lists_every_event_with_its_fields() {
    let output = authzlab(&["events"]);
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    for kind in authzlab::trace::catalogue::CATALOGUE.iter().map(|spec| spec.kind) {
        assert!(stdout.contains(&format!("\n{kind}\n")), "{kind} missing:\n{stdout}");
    }
    assert!(stdout.contains("kid?"), "optional fields are marked");
    assert!(stdout.contains("exp") && stdout.contains("integer"));
}

/// A run killed mid-way leaves the requested trace name as it was: the trace is written to a
/// temporary file beside it and renamed into place only when the run completes.
#[test]
fn a_run_killed_mid_way_leaves_no_trace_under_the_requested_name() {
    let destination = scratch("killed/trace.jsonl");
    let dir = destination.parent().unwrap().to_path_buf();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&destination, "the previous run's trace\n").unwrap();
    let scenario = common::write(
        "killed.toml",
        "name = \"long enough to kill\"\nduration = \"30d\"\n[[clients]]\nkind = \"jabber\"\ncount = 2\n",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authzlab"))
        // Stepping through quiet time keeps the run going for minutes.
        .args(["run", scenario.to_str().unwrap(), "--no-skip", "--trace", destination.to_str().unwrap()])
        .env("AUTHZLAB_CACHE_DIR", common::cache_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The temporary file appears before the run starts; kill the run once it is under way.
    let temporary = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".tmp"))
    };
    for _ in 0..600 {
        if temporary().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(temporary().is_some(), "the run opened its temporary trace");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the run was still going when killed");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&destination).unwrap(), "the previous run's trace\n");
}

/// The same scenario and seed give the same trace in two separate processes. Nothing
/// process-wide (tokio's unseeded RNG, hash seeds, addresses) may reach the trace: it once
/// did through the order in which subscribers' key-sync tasks woke (a `tokio::sync::watch`),
/// which a 1 ms tick with several subscribers makes visible in event times.
#[test]
fn the_same_seed_gives_the_same_trace_in_separate_processes() {
    let scenario = common::write(
        "processes.toml",
        "name = \"crowd at 1 ms\"\nduration = \"20m\"\ntick = \"1ms\"\n\
         [cluster]\ncucm_subscribers = 3\nunity = { validator = \"unity-connection\" }\n\
         [params]\naccess_token_expiry = \"5m\"\n[[clients]]\nkind = \"jabber\"\ncount = 20\n\
         [[step]]\nat = \"10m\"\naction = \"regenerate-key\"\nkey = \"signing\"\n\
         [[step]]\nat = \"15m\"\naction = \"regenerate-key\"\nkey = \"encryption\"\n",
    );
    let hash = |extra: &[&str]| {
        let mut args = vec!["run", scenario.to_str().unwrap(), "--seed", "11", "--timeline", "none"];
        args.extend_from_slice(extra);
        let output = authzlab(&args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        stdout.lines().find(|line| line.starts_with("Trace: ")).unwrap().to_string()
    };
    let first = hash(&[]);
    assert_eq!(hash(&[]), first);
    assert_eq!(hash(&[]), first);
    assert_eq!(hash(&["--no-skip"]), first, "stepping gives the same trace too");
}

/// `authzlab bench` measures every figure of the "scale with events" issue in one run. At
/// `--quick` scale (small runs, seconds) it must print each with its measured ratio, each
/// ratio a positive number, and the benched runs must have held their checks (exit 0).
#[test]
fn bench_prints_every_figure_with_its_ratio() {
    let output = authzlab(&["bench", "--quick"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let ratio_of = |figure: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(figure))
            .unwrap_or_else(|| panic!("{figure}:\n{stdout}"));
        let after = line.split(" = ").nth(1).unwrap_or_else(|| panic!("no ratio: {line}"));
        after.split_whitespace().next().unwrap().trim_end_matches('x').parse().unwrap()
    };
    for figure in [
        "WASM component / native",
        "native validation / bare OpenSSL RS256 verify",
        "busy 2 h, 10 clients: wall / crypto",
        "peak RSS, sparse 2 d / 1 d",
    ] {
        let ratio = ratio_of(figure);
        assert!(ratio > 0.0 && ratio.is_finite(), "{figure}: {ratio}");
    }
    for figure in [
        "sparse 2 d, 2 clients: wall time, skipping",
        "  without skipping",
        "  stepping / skipping",
        "  RS256 sign",
        "seeds/s",
    ] {
        assert!(stdout.lines().any(|line| line.starts_with(figure)), "{figure}:\n{stdout}");
    }
    // The floor under the sparse and the busy run, and the busy run's ratio at that floor.
    for figure in ["  floor: crypto + steps at an idle step's cost", "  the rest: our own work"] {
        let rows = stdout.lines().filter(|line| line.starts_with(figure)).count();
        assert_eq!(rows, 2, "{figure}:\n{stdout}");
    }
    let at_floor = stdout
        .lines()
        .find_map(|line| line.strip_prefix("  wall / crypto at the floor"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no floor ratio:\n{stdout}"));
    assert!(at_floor >= 1.0 && at_floor.is_finite(), "wall can be no less than crypto: {at_floor}");
    assert!(stdout.contains("4 held every check"), "{stdout}");
}

/// `plugin bench --perf-map` leaves, where it says, wasmtime's map of the component's
/// compiled functions (`0x<start> <size> <name>`, in hex; a stripped component's names are
/// `wasm[0]::function[N]`), which `perf report` reads to name the guest's own code.
#[test]
fn plugin_bench_writes_the_perf_map_it_names() {
    let component = authzlab_plugins::UNITY_CONNECTION.path;
    let output = authzlab(&["plugin", "bench", component, "--seconds", "0.1", "--perf-map"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let map = stdout
        .lines()
        .find_map(|line| line.strip_prefix("perf map"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no perf map line:\n{stdout}"));
    let contents = std::fs::read_to_string(map).unwrap_or_else(|e| panic!("{map}: {e}"));
    let _ = std::fs::remove_file(map);
    let functions = contents
        .lines()
        .filter(|line| {
            let mut fields = line.splitn(3, ' ');
            let hex = |field: Option<&str>| {
                field.is_some_and(|f| u64::from_str_radix(f.trim_start_matches("0x"), 16).is_ok())
            };
            hex(fields.next()) && hex(fields.next()) && fields.next().is_some_and(|name| !name.is_empty())
        })
        .count();
    assert!(functions > 10, "{functions} functions in {map}:\n{contents}");
    // Without the switch, no map.
    let plain = authzlab(&["plugin", "bench", component, "--seconds", "0.1"]);
    assert!(!text(&plain.stdout).contains("perf map"), "{}", text(&plain.stdout));
}

#[test]
fn bench_without_its_seed_scenario_exits_2_naming_it() {
    let output = authzlab(&["bench", "--quick", "--seeds-of", "scenarios/missing.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("scenarios/missing.toml"), "{}", text(&output.stderr));
}

/// A plugin author tests a policy of their own without a scenario: `token keys` writes keys
/// (never over an existing file) and prints their JWK Set; `token mint` makes tokens with
/// chosen claims; a vectors file with those keys holds a `reject:denied` case whose `native`
/// says what the policy-free reference gives. Expressway-C's validator (only the UC scope
/// passes the edge) passes it; Unity Connection's, which has no scope rule, fails that case.
#[test]
fn an_author_tests_a_policy_of_their_own_with_minted_tokens() {
    let keys = scratch("author-keys.json");
    let _ = std::fs::remove_file(&keys);
    let made = authzlab(&["token", "keys", "--out", keys.to_str().unwrap(), "--seed", "5"]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    let jwks: serde_json::Value = serde_json::from_slice(&made.stdout).expect("a JWK Set on stdout");
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2), "{jwks}");
    let written = std::fs::read(&keys).unwrap();
    let again = authzlab(&["token", "keys", "--out", keys.to_str().unwrap(), "--seed", "6"]);
    assert_eq!(again.status.code(), Some(2), "an existing keys file is kept");
    assert!(
        text(&again.stderr)
            .contains("author-keys.json: a file is already there, and `token keys` never replaces one"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&keys).unwrap(), written);
    let issuer = serde_json::from_slice::<serde_json::Value>(&written).unwrap()["issuer"].clone();

    let mint = |name: &str, claims: &str| {
        let claims = write(name, claims);
        let args = ["token", "mint", "--kind", "access", "--keys", keys.to_str().unwrap()];
        let output = authzlab(&[&args[..], &["--claims", claims.to_str().unwrap()]].concat());
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout).trim().to_string()
    };
    let plain = mint("claims-plain.json", "{}");
    let voicemail = mint("claims-scope.json", r#"{"sub": "mallory", "scope": "voicemail:read"}"#);
    let now = 1_767_225_600 + 60;
    let vectors = serde_json::json!({
        "format": "authzlab-vectors/1",
        "issuer": issuer,
        "keys": jwks,
        "cases": [
            { "name": "minted", "kind": "access", "token": plain, "now": now, "expect": "accept",
              "claims": { "sub": "alice", "client_id": "jabber-1" } },
            { "name": "voicemail-scope-at-the-edge", "kind": "access", "token": voicemail, "now": now,
              "consumer": "expressway", "expect": "reject:denied", "native": "accept" },
        ]
    });
    let vectors = write("author-vectors.json", vectors.to_string());
    let edge = plugin_check(authzlab_plugins::EXPRESSWAY.path, vectors.to_str().unwrap());
    assert_eq!(edge.status.code(), Some(0), "{}", text(&edge.stdout));
    assert!(text(&edge.stdout).contains("2 passed, 0 failed"), "{}", text(&edge.stdout));
    let unity = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, vectors.to_str().unwrap());
    assert_eq!(unity.status.code(), Some(1), "{}", text(&unity.stdout));
    assert!(text(&unity.stdout).contains("1 passed, 1 failed"), "{}", text(&unity.stdout));

    let bad = write("claims-list.json", "[1, 2]");
    let refused = authzlab(&["token", "mint", "--kind", "refresh", "--claims", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("claims-list.json: the claims must be one JSON object"));
}

/// `plugin new --into DIR` outside the guest workspace makes a crate that builds where it
/// stands (offline: the lock pins what the repository's plugins were built with) and whose
/// component passes `plugin check` as it is. The build shares the guest workspace's target
/// directory, so the dependencies compiled for the shipped plugins are reused.
#[test]
fn a_plugin_made_outside_the_repository_builds_where_it_stands_and_passes_the_check() {
    let into = scratch("standalone-plugins");
    let _ = std::fs::remove_dir_all(&into);
    std::fs::create_dir_all(&into).unwrap();
    let name = format!("standalone-{}", std::process::id());
    let made = authzlab(&["plugin", "new", &name, "--into", into.to_str().unwrap()]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    assert!(text(&made.stdout).contains("cargo build --release"), "{}", text(&made.stdout));
    let crate_dir = into.join(&name);
    let target = repo().join("plugins/target");
    let built = std::process::Command::new("cargo")
        .args(["build", "--release", "--offline"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .expect("cargo runs");
    assert!(built.status.success(), "{}", text(&built.stderr));
    let release = target.join("wasm32-wasip2/release");
    let component = release.join(format!("{}.wasm", name.replace('-', "_")));
    let checked = authzlab(&["plugin", "check", component.to_str().unwrap()]);
    for leftover in std::fs::read_dir(&release).unwrap().flatten() {
        if leftover.file_name().to_string_lossy().contains(&name.replace('-', "_")) {
            let _ = std::fs::remove_file(leftover.path());
        }
    }
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stdout));
    assert!(text(&checked.stdout).contains(&format!("(serves {name})")), "{}", text(&checked.stdout));
}
