//! Nothing a user feeds `authzlab` crashes it: each test is one reproduction from the issue
//! "Nothing a user feeds it crashes it", run against the release-shaped binary as a hostile
//! user would. Every one asserts the exit code (0 held, 1 a check failed, 2 bad input; never
//! 101 or a signal) and the words the user reads.
//!
//! How: write the hostile file into a scratch directory, run the binary on it, read its
//! exit status and output.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{authzlab, authzlab_with, cache_dir, plugin_check, repo, scratch, shipped_vectors, text, write};

/// Exit 2 (bad input), no panic, and stderr says `needle`.
#[track_caller]
fn assert_refused(output: &Output, needle: &str) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stdout: {}\nstderr: {stderr}", text(&output.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    stderr
}

fn run_file(name: &str, contents: &str) -> Output {
    let path = write(name, contents);
    authzlab(&["run", path.to_str().unwrap(), "--timeline", "none"])
}

// ---- panics --------------------------------------------------------------------------------

#[test]
fn a_non_ascii_character_after_a_number_is_a_located_error() {
    for (duration, found) in [("5é", "'é'"), ("5٣", "'٣'")] {
        let output = run_file("non-ascii.toml", &format!("name=\"x\"\nduration=\"{duration}\"\n"));
        let stderr = assert_refused(&output, "non-ascii.toml:2:10: duration:");
        assert!(stderr.contains(found), "{stderr}");
    }
    let output = run_file(
        "non-ascii-window.toml",
        "name=\"x\"\nduration=\"1h\"\n[[expect]]\nevent=\"key-regenerated\"\nwithin=\"1é..2m\"\n",
    );
    assert_refused(&output, "expect[0].within");
}

/// 65 regenerations at one instant made 65 key pushes to one subscriber in one tick, past
/// turmoil's listener backlog of 64: a panic. The publisher now pushes only the newest keys.
#[test]
fn sixty_five_regenerations_at_one_instant_run() {
    let mut scenario = String::from("name = \"65 at once\"\nduration = \"10m\"\n");
    for _ in 0..65 {
        scenario.push_str("[[step]]\nat = \"5m\"\naction = \"regenerate-key\"\nkey = \"encryption\"\n");
    }
    scenario.push_str("[[expect]]\nevent = \"keys-synced\"\nnode = \"cucm-sub-1\"\nwithin = \"5m..6m\"\n");
    let output = run_file("sixty-five.toml", &scenario);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).contains("Result: PASS"));
}

/// 400 clients at a 10 s tick on 8 subscribers overflowed turmoil's listener backlog (a
/// panic). No request can finish at that tick, so it is now refused at parse time.
#[test]
fn four_hundred_clients_at_a_ten_second_tick_are_refused_not_a_panic() {
    let scenario = "name = \"crowd\"\nduration = \"1h\"\ntick = \"10s\"\n\
                    [cluster]\ncucm_subscribers = 8\n[[clients]]\nkind = \"jabber\"\ncount = 400\n";
    let output = run_file("crowd-10s.toml", scenario);
    assert_refused(&output, "crowd-10s.toml:3:8: tick: must be 1ms to 1s200ms");
}

/// Every client may connect to one server in the same tick; at the largest tick, the most
/// clients on the most subscribers must run, and every sign-in must succeed: with the refresh
/// login flow, and with the implicit grant, where every opaque token a subscriber or Unity
/// sees makes one more connection to the publisher (proxy mode) and every login one to the
/// identity provider.
#[test]
fn the_most_clients_at_the_largest_tick_run_and_sign_in() {
    for (name, grant) in [
        ("crowd.toml", "[params]\nrefresh_login_flow = true\n"),
        ("crowd-implicit.toml", "sso = true\n[params]\naccess_token_expiry = \"15m\"\n"),
    ] {
        let largest = authzlab::scenario::TICK_MAX.as_millis();
        let scenario = format!(
            "name = \"crowd\"\nduration = \"40m\"\ntick = \"{largest}ms\"\n\
             [cluster]\ncucm_subscribers = 8\nunity = {{ validator = \"unity-connection\" }}\n{grant}\
             [[clients]]\nkind = \"jabber\"\ncount = 500\n\
             [[expect]]\nevent = \"logged-in\"\n\
             [[expect]]\nevent = \"login-failed\"\nabsent = true\n"
        );
        let output = run_file(name, &scenario);
        assert_eq!(output.status.code(), Some(0), "{name}: {}{}", text(&output.stdout), text(&output.stderr));
    }
}

// ---- the precompile cache ------------------------------------------------------------------

/// A precompiled component whose bytes were damaged crashed the process (SIGSEGV or
/// SIGTRAP) when deserialized. Now the seal does not verify and the component is recompiled.
#[test]
fn a_damaged_cache_entry_is_recompiled_not_run() {
    let cache = scratch("damaged-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let cache_env = [("AUTHZLAB_CACHE_DIR", cache.to_str().unwrap())];
    let check = [
        "plugin",
        "check",
        authzlab_plugins::UNITY_CONNECTION.path,
        "--vectors",
        "tests/vectors/unity-connection.json",
    ];
    assert_eq!(authzlab_with(&check, &cache_env).status.code(), Some(0), "fills the cache");
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let end = bytes.len().min(0x32000);
    bytes[0x1000..end].fill(0);
    std::fs::write(&entries[0], &bytes).unwrap();

    let output = authzlab_with(&check, &cache_env);
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    assert_ne!(std::fs::read(&entries[0]).unwrap(), bytes, "the damaged entry was replaced");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn an_empty_cache_dir_variable_is_an_error_not_the_current_directory() {
    let output = authzlab_with(
        &[
            "plugin",
            "check",
            authzlab_plugins::UNITY_CONNECTION.path,
            "--vectors",
            "tests/vectors/unity-connection.json",
        ],
        &[("AUTHZLAB_CACHE_DIR", "")],
    );
    assert_refused(&output, "AUTHZLAB_CACHE_DIR is set but empty");
    let stray = std::fs::read_dir(repo())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "cwasm"));
    assert_eq!(stray.count(), 0, "nothing was written into the current directory");
}

// ---- unbounded reads -----------------------------------------------------------------------

#[test]
fn endless_files_are_refused_at_their_size_limit() {
    let output = authzlab(&["run", "/dev/zero"]);
    assert_refused(&output, "/dev/zero: the scenario file is larger than 4194304 bytes");
    let output = plugin_check("/dev/zero", "tests/vectors/unity-connection.json");
    assert_refused(&output, "/dev/zero: the component is larger than");
    let output = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, "/dev/zero");
    assert_refused(&output, "/dev/zero: the vectors file is larger than");
}

/// 10,001 expectations fit in the size limit; the count limit refuses the list itself, and
/// names it (it said `1:1: step` before).
#[test]
fn too_many_expectations_are_refused_naming_the_list() {
    let mut scenario = String::from("name = \"many\"\nduration = \"1h\"\n");
    for _ in 0..10_001 {
        scenario.push_str("[[expect]]\nevent = \"keys-synced\"\n");
    }
    let output = run_file("many.toml", &scenario);
    let stderr = assert_refused(&output, ": expect: more than 10000 entries");
    assert!(!stderr.contains(":1:1:"), "{stderr}");
}

// ---- silent multi-hour runs ----------------------------------------------------------------

#[test]
fn a_run_over_its_wall_time_budget_is_refused_with_the_estimate_and_the_way_out() {
    let scenario = "name = \"long\"\nduration = \"91d\"\ntick = \"1ms\"\n[cluster]\nunity = { validator = \"unity-connection\" }\n";
    let path = write("long.toml", scenario);
    // Stepped tick by tick, 91 days at 1 ms are 7.9 billion steps: hours.
    let output = authzlab(&["run", path.to_str().unwrap(), "--no-skip", "--timeline", "none"]);
    let stderr = assert_refused(&output, "the run would take about");
    assert!(stderr.contains("--budget"), "{stderr}");
    assert!(text(&output.stdout).is_empty(), "refused before the run: {}", text(&output.stdout));
    // With quiet time skipped, the same idle cluster is a few steps.
    let output = authzlab(&["run", path.to_str().unwrap(), "--timeline", "none"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("quiet time skipped"), "{}", text(&output.stdout));
}

#[test]
fn a_run_that_would_overflow_the_trace_is_refused_before_it_starts() {
    let scenario = "name = \"huge\"\nduration = \"91d\"\ntick = \"1s\"\n[cluster]\nunity = { validator = \"unity-connection\" }\n\
                    [[clients]]\nkind = \"jabber\"\ncount = 500\n";
    let path = write("huge.toml", scenario);
    let output = authzlab(&["run", path.to_str().unwrap(), "--budget", "1000h"]);
    assert_refused(&output, "more than the trace holds (2000000 events, TRACE_EVENTS_MAX)");
}

// ---- wrong or lost verdicts ----------------------------------------------------------------

#[test]
fn a_trace_into_a_directory_is_refused_before_the_run() {
    let dir = scratch("trace-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let output =
        authzlab(&["run", "scenarios/signing-key-regenerated.toml", "--trace", dir.to_str().unwrap()]);
    assert_refused(&output, "cannot write the trace there: it is a directory");
    assert!(!text(&output.stdout).contains("Result:"), "refused before running");
}

#[test]
fn a_trace_may_not_overwrite_the_scenario_it_runs() {
    let original = std::fs::read_to_string(repo().join("scenarios/encryption-key-regenerated.toml")).unwrap();
    let scenario = write("self.toml", &original);
    let output = authzlab(&["run", scenario.to_str().unwrap(), "--trace", scenario.to_str().unwrap()]);
    assert_refused(&output, "which this run reads; the trace would overwrite it");
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), original);
}

#[test]
fn an_unwritable_trace_names_the_requested_path_not_a_temporary_one() {
    let output = authzlab(&["run", "scenarios/signing-key-regenerated.toml", "--trace", "/proc/version"]);
    let stderr = assert_refused(&output, "/proc/version: cannot write the trace there");
    assert!(!stderr.contains(".tmp"), "{stderr}");
}

#[test]
fn a_duplicate_kid_in_a_vectors_file_is_named() {
    let mut vectors = shipped_vectors();
    let keys = vectors["keys"]["keys"].as_array_mut().unwrap();
    let mut twin = keys[1].clone();
    twin["kid"] = keys[0]["kid"].clone();
    keys.push(twin);
    let path = write("dup-kid.json", serde_json::to_vec(&vectors).unwrap());
    let output = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, path.to_str().unwrap());
    assert_refused(&output, "keys[2] has the same `kid` as keys[0]");
}

#[test]
fn an_unknown_native_expectation_is_named_with_its_case() {
    let mut vectors = shipped_vectors();
    vectors["cases"][0]["native"] = "reject:whatever".into();
    let name = vectors["cases"][0]["name"].as_str().unwrap().to_string();
    let path = write("bad-native.json", serde_json::to_vec(&vectors).unwrap());
    let output = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, path.to_str().unwrap());
    assert_refused(
        &output,
        &format!("bad-native.json: case {name:?}: expect \"reject:whatever\" is not one of"),
    );
}

#[test]
fn a_step_at_the_very_end_is_refused_because_it_would_never_happen() {
    let output = run_file(
        "step-at-end.toml",
        "name=\"x\"\nduration=\"1h\"\n[[step]]\nat=\"1h\"\naction=\"regenerate-key\"\nkey=\"signing\"\n",
    );
    assert_refused(&output, "step-at-end.toml:4:4: step[0].at: 1h is not before the end of the run");
}

#[test]
fn an_expectation_window_past_the_end_is_refused() {
    let output = run_file(
        "late-window.toml",
        "name=\"x\"\nduration=\"1h\"\n[[expect]]\nevent=\"keys-synced\"\nwithin=\"30m..2h\"\n",
    );
    assert_refused(
        &output,
        "late-window.toml:5:8: expect[0].within: ends at 2h, after the end of the run (1h)",
    );
}

#[test]
fn an_array_where_a_table_belongs_is_refused() {
    let output = run_file(
        "array-cluster.toml",
        "name=\"x\"\nduration=\"1h\"\ncluster = [3, { validator = \"unity-connection\" }]\n",
    );
    assert_refused(&output, "array-cluster.toml:3:11: cluster: invalid type: sequence, expected a table");
    let output = run_file("array-client.toml", "name=\"x\"\nduration=\"1h\"\nclients = [[\"jabber\", 2]]\n");
    assert_refused(&output, "expected a table");
}

#[test]
fn a_tick_at_which_no_request_could_finish_is_refused() {
    let output = run_file("slow-tick.toml", "name=\"x\"\nduration=\"1h\"\ntick=\"7s\"\n");
    assert_refused(&output, "slow-tick.toml:3:6: tick: must be 1ms to 1s200ms");
}

#[test]
fn plugin_check_says_why_a_plugin_faulted() {
    let mut vectors = shipped_vectors();
    let cases = serde_json::json!([
        { "name": "loops", "kind": "access", "token": "spin", "now": 1_767_571_200u64, "expect": "reject:malformed" },
        { "name": "hoards", "kind": "access", "token": "grow", "now": 1_767_571_200u64, "expect": "reject:malformed" },
    ]);
    vectors["cases"] = cases;
    let path = write("faults.json", serde_json::to_vec(&vectors).unwrap());
    let output = plugin_check(authzlab_plugins::FAULTY.path, path.to_str().unwrap());
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("component plugin-fault: ran out of fuel"), "{stdout}");
    assert!(stdout.contains("component plugin-fault: exceeded its memory cap"), "{stdout}");
}

// ---- unclear messages ----------------------------------------------------------------------

#[test]
fn a_file_that_is_not_wasm_is_named_as_such_without_a_byte_dump() {
    let junk = write("notes.wasm", "just some text, not a component\n");
    let output = plugin_check(junk.to_str().unwrap(), "tests/vectors/unity-connection.json");
    let stderr = assert_refused(&output, "plugin notes: not a WebAssembly file (it starts with 6a 75 73 74");
    assert!(stderr.lines().count() <= 2, "{stderr}");
}

#[test]
fn a_core_module_is_told_how_to_become_a_component() {
    let module = write("core.wasm", b"\0asm\x01\0\0\0");
    let output = plugin_check(module.to_str().unwrap(), "tests/vectors/unity-connection.json");
    let stderr = assert_refused(&output, "a core WebAssembly module, not a component");
    assert!(stderr.contains("wasm32-wasip2") && stderr.contains("wasm-tools component new"), "{stderr}");
}

#[test]
fn a_scenario_that_is_not_utf8_gets_a_position() {
    let path = write("latin1.toml", b"name = \"caf\xe9\"\nduration = \"1h\"\n");
    let output = authzlab(&["run", path.to_str().unwrap()]);
    assert_refused(&output, "latin1.toml:1:12: scenario: not UTF-8 text: byte 0xE9");
    let output = authzlab(&["shrink", path.to_str().unwrap(), "--seed", "1"]);
    assert_refused(&output, "latin1.toml:1:12: scenario: not UTF-8 text: byte 0xE9");
}

/// A trace whose first line is not UTF-8 has no header: the error names line 1, as it does
/// for any other line, not the stream.
#[test]
fn a_trace_that_is_not_utf8_is_refused_with_its_line() {
    let path = write("latin1.jsonl", b"{\"t_ms\":0,\"node\":\"caf\xe9\",\"kind\":\"x\"}\n");
    let output = authzlab(&["report", path.to_str().unwrap()]);
    assert_refused(&output, "latin1.jsonl:1: not a trace event");
    let output = authzlab(&["replay", path.to_str().unwrap()]);
    assert_refused(&output, "latin1.jsonl: its first line is no trace header");
}

/// `authzlab ... | head -1`: a reader that goes away is not a crash.
#[test]
fn a_closed_stdout_does_not_turn_a_verdict_into_a_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_authzlab"))
        .args([
            "plugin",
            "check",
            authzlab_plugins::UNITY_CONNECTION.path,
            "--vectors",
            "tests/vectors/unity-connection.json",
        ])
        .current_dir(repo())
        .env("AUTHZLAB_CACHE_DIR", cache_dir())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("panicked"));
}

// ---- hardening, round two ------------------------------------------------------------------

#[test]
fn the_most_negative_drift_is_refused_not_wrapped_into_range() {
    let scenario = "name = \"x\"\nduration = \"1h\"\n\n[[step]]\nat = \"1m\"\naction = \"skew\"\nnode = \"cucm-pub\"\ndrift_ppm = -9223372036854775808\n";
    let output = run_file("drift.toml", scenario);
    let stderr = assert_refused(&output, "step[0].drift_ppm");
    assert!(stderr.contains("is -1000 to 1000"), "{stderr}");
}

#[test]
fn an_unwritable_stderr_keeps_the_exit_code_contract() {
    let with_stderr_full = |args: &[&str]| {
        let full =
            std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full exists on Linux");
        let status = Command::new(env!("CARGO_BIN_EXE_authzlab"))
            .args(args)
            .current_dir(repo())
            .env("AUTHZLAB_CACHE_DIR", cache_dir())
            .stdout(Stdio::null())
            .stderr(full)
            .status()
            .unwrap();
        status.code()
    };
    let bad = write("bad-stderr.toml", "name = \"x\"\nduration = \"2h5\"\n");
    assert_eq!(with_stderr_full(&["run", bad.to_str().unwrap()]), Some(2), "bad input, whatever stderr does");
    // A failing run says "reproduce with" on stderr: exit 1, not a panic.
    let failing = std::fs::read_to_string(repo().join("scenarios/revoke-by-user.toml"))
        .unwrap()
        .replace("anomalies = [\"accepted-after-revocation\"]", "");
    let failing = write("failing-stderr.toml", failing);
    let code = with_stderr_full(&["run", failing.to_str().unwrap(), "--timeline", "none"]);
    assert_eq!(code, Some(1), "a failed check, whatever stderr does");
}

#[test]
fn a_vectors_case_name_of_any_length_prints_cut_and_escaped() {
    let mut vectors = shipped_vectors();
    let long = format!("{}\u{1b}[31m", "n".repeat(70_000));
    vectors["cases"][0]["name"] = serde_json::Value::String(long);
    let path = write("long-name.json", serde_json::to_vec(&vectors).unwrap());
    let output = plugin_check(authzlab_plugins::UNITY_CONNECTION.path, path.to_str().unwrap());
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let widest = stdout.lines().map(|line| line.chars().count()).max().unwrap();
    assert!(widest < 300, "a table line of {widest} characters");
    assert!(stdout.contains(&format!("{}…", "n".repeat(60))), "cut at 60 characters");
    assert!(!stdout.contains('\u{1b}'), "no escape character reaches the terminal");
}

#[test]
fn replay_commands_quote_paths_a_shell_would_split() {
    let path = write("it's a scenario.toml", "name = \"x\"\nduration = \"10m\"\n");
    let output = authzlab(&["run", path.to_str().unwrap(), "--timeline", "none"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let replay = stdout.lines().find_map(|line| line.strip_prefix("Replay: authzlab run ")).unwrap();
    let word = replay.strip_suffix(" --seed 1").unwrap();
    // The shell reads the printed word back as the path itself.
    let echoed = Command::new("sh").args(["-c", &format!("printf %s {word}")]).output().unwrap();
    assert_eq!(text(&echoed.stdout), path.to_str().unwrap(), "{replay}");
    // A plain path stays as it was.
    let plain = authzlab(&["run", "scenarios/revoke-by-user.toml", "--timeline", "none"]);
    assert!(text(&plain.stdout).contains("Replay: authzlab run scenarios/revoke-by-user.toml --seed"));
}

#[test]
fn a_plugin_bench_shorter_than_its_floor_is_refused_not_a_nan_ratio() {
    for seconds in ["1e-9", "0.01", "NaN"] {
        let output =
            authzlab(&["plugin", "bench", authzlab_plugins::UNITY_CONNECTION.path, "--seconds", seconds]);
        let stderr = assert_refused(&output, "give at least 0.1");
        assert!(!text(&output.stdout).contains("NaN"), "{seconds}: {stderr}");
    }
}

#[test]
fn plugin_new_refuses_a_package_name_the_guest_workspace_already_has() {
    // The SDK's package and a dependency of the guest workspace: either would have broken
    // every later build of the plugins.
    for name in ["authzlab-validator-sdk", "wit-bindgen"] {
        let output = authzlab(&["plugin", "new", name]);
        assert_refused(&output, "already a package of the guest workspace");
        assert!(!repo().join("plugins").join(name).exists(), "nothing written for {name}");
    }
}

/// Runs `args` with a deadline: a command that outlives it is killed and the test fails,
/// rather than the suite hanging as a blocking open of a FIFO would.
fn within_a_minute(args: &[&str], cache: &std::path::Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authzlab"))
        .args(args)
        .current_dir(repo())
        .env("AUTHZLAB_CACHE_DIR", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("authzlab {args:?} still ran after a minute (blocked opening a FIFO?)");
}

fn fifo(name: &str) -> PathBuf {
    let path = scratch(name);
    let _ = std::fs::remove_file(&path);
    assert!(Command::new("mkfifo").arg(&path).status().unwrap().success(), "mkfifo {}", path.display());
    path
}

#[test]
fn a_fifo_given_as_any_input_is_refused_without_blocking() {
    let unity = authzlab_plugins::UNITY_CONNECTION.path;
    let cache = cache_dir();
    let scenario = fifo("scenario.fifo");
    let output = within_a_minute(&["run", scenario.to_str().unwrap()], &cache);
    assert_refused(&output, "it is a named pipe (FIFO)");
    let vectors = fifo("vectors.fifo");
    let output = within_a_minute(&["plugin", "check", unity, "--vectors", vectors.to_str().unwrap()], &cache);
    assert_refused(&output, "it is a named pipe (FIFO)");
    let component = fifo("component.wasm");
    let output = within_a_minute(&["plugin", "check", component.to_str().unwrap()], &cache);
    assert_refused(&output, "it is a named pipe (FIFO)");
    let output = within_a_minute(&["bench", "--quick", "--seeds-of", scenario.to_str().unwrap()], &cache);
    assert_refused(&output, "it is a named pipe (FIFO)");
    // A manifest beside a component: a copy of the Unity component with a FIFO for manifest.
    let copied = scratch("fifo-manifest.wasm");
    std::fs::copy(unity, &copied).unwrap();
    fifo("fifo-manifest.manifest.toml");
    let output = within_a_minute(&["plugin", "check", copied.to_str().unwrap()], &cache);
    assert_refused(&output, "it is a named pipe (FIFO)");
}

#[test]
fn a_fifo_in_the_precompile_cache_is_replaced_not_opened() {
    let cache = scratch("fifo-cache");
    let check = ["plugin", "check", authzlab_plugins::UNITY_CONNECTION.path];
    assert_eq!(within_a_minute(&check, &cache).status.code(), Some(0), "fills the cache");
    let entries: Vec<PathBuf> =
        std::fs::read_dir(&cache).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert!(!entries.is_empty());
    for entry in &entries {
        std::fs::remove_file(entry).unwrap();
        assert!(Command::new("mkfifo").arg(entry).status().unwrap().success());
    }
    let output = within_a_minute(&check, &cache);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(std::fs::metadata(&entries[0]).unwrap().is_file(), "the entry was written anew");
}

#[test]
fn a_dangling_manifest_link_is_refused_not_taken_for_no_manifest() {
    let component = scratch("dangling.wasm");
    std::fs::copy(authzlab_plugins::UNITY_CONNECTION.path, &component).unwrap();
    let manifest = scratch("dangling.manifest.toml");
    let _ = std::fs::remove_file(&manifest);
    std::os::unix::fs::symlink(scratch("nowhere.toml"), &manifest).unwrap();
    let output = authzlab(&["plugin", "check", component.to_str().unwrap()]);
    assert_refused(&output, "dangling.manifest.toml");
}

/// A run ended by SIGTERM, SIGINT or SIGHUP removes its temporary trace and its database
/// directory and exits 2 (no verdict); what a SIGKILLed run left is swept by the next run.
#[test]
fn an_interrupted_run_leaves_nothing_behind_and_a_killed_ones_leftovers_are_swept() {
    for signal in ["TERM", "INT", "HUP"] {
        let tmp = scratch(&format!("signal-{signal}"));
        std::fs::create_dir_all(&tmp).unwrap();
        let trace = tmp.join("trace.jsonl");
        let child = Command::new(env!("CARGO_BIN_EXE_authzlab"))
            .args([
                "run",
                "scenarios/purge-large-table.toml",
                "--timeline",
                "none",
                "--trace",
                trace.to_str().unwrap(),
            ])
            .current_dir(repo())
            .env("AUTHZLAB_CACHE_DIR", cache_dir())
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let leftovers = || -> Vec<String> {
            std::fs::read_dir(&tmp)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(&pid.to_string()))
                .collect()
        };
        // Wait (up to a minute, for a loaded machine with a cold precompile cache) until the
        // run has made both its temporary trace and its database directory.
        for _ in 0..3000 {
            if leftovers().len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(leftovers().len(), 2, "{:?}", leftovers());
        assert!(Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .unwrap()
            .success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(2), "SIG{signal}: {}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains(&format!("interrupted by SIG{signal}")),
            "{}",
            text(&output.stderr)
        );
        assert!(leftovers().is_empty(), "SIG{signal} left {:?}", leftovers());
        assert!(!trace.exists(), "no trace under the requested name");
    }
    // SIGKILL cannot be caught: the next run sweeps what the dead process left.
    let tmp = scratch("signal-KILL");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(tmp.join("authzlab-run-4194305-abcdef/inner")).unwrap();
    let output = authzlab_with(
        &["run", "scenarios/revoke-by-user.toml", "--timeline", "none"],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!tmp.join("authzlab-run-4194305-abcdef").exists(), "swept");
}
