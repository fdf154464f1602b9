//! A plugin made outside the repository: its own workspace, with everything it needs beside
//! it, so that `cargo build --release` builds it where it stands.
//!
//! The binary carries the SDK's sources, the WIT contract, the guest workspace's lock file
//! (so the SDK's dependencies are the versions this release was tested with, and a machine
//! that built the repository's plugins builds this one offline), the toolchain pin and the
//! release profile. The SDK is a path dependency at its own version; upgrading means making
//! the plugin again with a newer `authzlab` and moving `src/lib.rs` over.

use std::path::Path;

use super::{component_file, new_dir, plugin_lib, write_all_or_nothing, Made};

const SDK_MANIFEST: &str = include_str!("../../../plugins/sdk/Cargo.toml");
const SDK_FILES: &[(&str, &str)] = &[
    ("sdk/src/lib.rs", include_str!("../../../plugins/sdk/src/lib.rs")),
    ("sdk/src/b64.rs", include_str!("../../../plugins/sdk/src/b64.rs")),
    ("sdk/src/checks.rs", include_str!("../../../plugins/sdk/src/checks.rs")),
    ("sdk/src/jose.rs", include_str!("../../../plugins/sdk/src/jose.rs")),
    ("sdk/src/log.rs", include_str!("../../../plugins/sdk/src/log.rs")),
];
const WIT: &str = include_str!("../../../wit/validator.wit");
const GUEST_WORKSPACE: &str = include_str!("../../../plugins/Cargo.toml");
const GUEST_LOCK: &str = include_str!("../../../plugins/Cargo.lock");
const TOOLCHAIN: &str = include_str!("../../../rust-toolchain.toml");

/// Where the SDK finds the contract, in the repository and in a standalone plugin.
const WIT_PATH_IN_REPOSITORY: &str = "path: \"../../wit\"";
const WIT_PATH_STANDALONE: &str = "path: \"../wit\"";

/// Makes `<into>/<name>/`, a standalone plugin crate; nothing is written unless everything
/// can be.
pub fn make(name: &str, into: &Path) -> Result<Made, String> {
    let dir = new_dir(name, into)?;
    // The SDK and its dependencies are packages of the new workspace too.
    let lock: toml::Table = GUEST_LOCK.parse().map_err(|e| format!("the embedded lock file: {e}"))?;
    let packages = lock.get("package").and_then(toml::Value::as_array).cloned().unwrap_or_default();
    if packages.iter().any(|package| package.get("name").and_then(toml::Value::as_str) == Some(name)) {
        return Err(format!(
            "{name:?} is the SDK's or one of its dependencies' package name; two packages of one name would break the build: choose another"
        ));
    }
    let component = component_file(name);
    let files = files(name, &component)?;
    write_all_or_nothing(&dir, &files)?;
    Ok(Made {
        build: format!("cd {} && cargo build --release", dir.display()),
        component: dir.join("target/wasm32-wasip2/release").join(&component),
        dir,
    })
}

/// Every file of the new crate: (path inside it, contents).
fn files(name: &str, component: &str) -> Result<Vec<(String, String)>, String> {
    let workspace: toml::Table =
        GUEST_WORKSPACE.parse().map_err(|e| format!("the embedded workspace: {e}"))?;
    let sdk: toml::Table = SDK_MANIFEST.parse().map_err(|e| format!("the embedded SDK manifest: {e}"))?;
    let sdk_version =
        sdk.get("package").and_then(|package| package.get("version")?.as_str()).unwrap_or_default();
    let profile = workspace.get("profile").cloned().ok_or("the embedded workspace has no profile")?;
    let sdk_lib = SDK_FILES[0].1;
    if sdk_lib.matches(WIT_PATH_IN_REPOSITORY).count() != 1 {
        return Err("the embedded SDK does not name the contract's path once".to_string());
    }
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), plugin_manifest(name, &profile)?),
        ("sdk/Cargo.toml".into(), sdk_manifest(sdk.clone(), &workspace)?),
        ("wit/validator.wit".into(), WIT.to_string()),
        ("Cargo.lock".into(), GUEST_LOCK.to_string()),
        ("rust-toolchain.toml".into(), TOOLCHAIN.to_string()),
        (
            ".cargo/config.toml".into(),
            "# Validator plugins are WebAssembly components.\n[build]\ntarget = \"wasm32-wasip2\"\n".into(),
        ),
        (
            "src/lib.rs".into(),
            plugin_lib(name, "cargo build --release", &format!("target/wasm32-wasip2/release/{component}")),
        ),
        ("README.md".into(), readme(name, component, sdk_version)),
        (".gitignore".into(), "/target\n".into()),
    ];
    files.extend(SDK_FILES.iter().map(|(path, text)| {
        (path.to_string(), text.replacen(WIT_PATH_IN_REPOSITORY, WIT_PATH_STANDALONE, 1))
    }));
    Ok(files)
}

/// The plugin's manifest: the template's package, the SDK beside it, a workspace of its own
/// and the guest workspace's release profile (small, LTO, abort on panic).
fn plugin_manifest(name: &str, profile: &toml::Value) -> Result<String, String> {
    let mut manifest = toml::Table::new();
    let package = toml::toml! {
        version = "0.1.0"
        edition = "2021"
        publish = false
    };
    let mut package = package;
    package.insert("name".into(), name.into());
    package.insert("description".into(), format!("The {name} validator plugin").into());
    manifest.insert("package".into(), package.into());
    manifest.insert("lib".into(), toml::toml! { crate-type = ["cdylib"] }.into());
    manifest.insert("dependencies".into(), toml::toml! { authzlab-validator-sdk = { path = "sdk" } }.into());
    manifest.insert("workspace".into(), toml::Table::new().into());
    manifest.insert("profile".into(), profile.clone());
    let text = toml::to_string(&manifest).map_err(|e| e.to_string())?;
    Ok(format!(
        "# A validator plugin for authzlab, standalone: its own workspace, the SDK beside it.\n{text}"
    ))
}

/// The SDK's manifest `sdk` with what it inherits from the guest `workspace` (package fields,
/// dependency versions) written in.
fn sdk_manifest(mut sdk: toml::Table, workspace: &toml::Table) -> Result<String, String> {
    let inherited = |name: &str| {
        let table = workspace.get("workspace").and_then(|workspace| workspace.get(name)?.as_table().cloned());
        table.ok_or_else(|| format!("the embedded workspace has no [workspace.{name}]"))
    };
    let (fields, versions) = (inherited("package")?, inherited("dependencies")?);
    sdk.get_mut("package").and_then(toml::Value::as_table_mut).ok_or("no [package]")?.extend(fields);
    let dependencies =
        sdk.get_mut("dependencies").and_then(toml::Value::as_table_mut).ok_or("no [dependencies]")?;
    for (name, value) in dependencies.iter_mut() {
        *value = versions.get(name).cloned().ok_or_else(|| format!("no version for the SDK's {name}"))?;
    }
    toml::to_string(&sdk).map_err(|e| e.to_string())
}

fn readme(name: &str, component: &str, sdk_version: &str) -> String {
    format!(
        "# {name}\n\nA validator plugin for authzlab (contract `{}@{}`, SDK {sdk_version} in `sdk/`).\n\n\
         Build (the toolchain and the `wasm32-wasip2` target come from `rust-toolchain.toml`):\n\n\
         ```sh\ncargo build --release\n```\n\n\
         Check the component against the built-in suite, then in the role it serves:\n\n\
         ```sh\nauthzlab plugin check target/wasm32-wasip2/release/{component}\n\
         authzlab plugin check target/wasm32-wasip2/release/{component} --scenarios\n```\n\n\
         Your policy goes in `src/lib.rs`, after the SDK's checks. Test it with tokens of your own:\n\
         `authzlab token keys --out keys.json` and `authzlab token mint --kind access --keys keys.json --claims claims.json`.\n",
        authzlab_host::contract::CONTRACT_PACKAGE,
        authzlab_host::contract::CONTRACT_VERSION,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standalone crate holds what a build needs: a workspace of its own, the SDK with
    /// versions written in and pointed at the contract beside it, the lock, the toolchain pin.
    #[test]
    fn a_standalone_plugin_holds_its_sdk_contract_lock_and_toolchain() {
        let dir = tempfile::tempdir().unwrap();
        let made = make("edge-gate", dir.path()).unwrap();
        let read = |path: &str| std::fs::read_to_string(made.dir.join(path)).unwrap();
        let manifest: toml::Table = read("Cargo.toml").parse().unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("edge-gate"));
        assert!(manifest.contains_key("workspace"), "a workspace of its own");
        assert_eq!(manifest["dependencies"]["authzlab-validator-sdk"]["path"].as_str(), Some("sdk"));
        assert_eq!(manifest["profile"]["release"]["panic"].as_str(), Some("abort"));
        let sdk: toml::Table = read("sdk/Cargo.toml").parse().unwrap();
        assert_eq!(sdk["dependencies"]["wit-bindgen"].as_str(), Some("0.63"));
        assert!(!read("sdk/Cargo.toml").contains("workspace"), "no workspace inheritance left");
        assert!(read("sdk/src/lib.rs").contains(WIT_PATH_STANDALONE));
        assert_eq!(read("wit/validator.wit"), WIT);
        assert!(read("rust-toolchain.toml").contains("wasm32-wasip2"));
        assert!(read("src/lib.rs").contains("consumer: \"edge-gate\""));
        assert!(made.component.ends_with("edge-gate/target/wasm32-wasip2/release/edge_gate.wasm"));
        assert!(make("edge-gate", dir.path()).unwrap_err().contains("already exists"));
        for taken in ["authzlab-validator-sdk", "wit-bindgen"] {
            assert!(make(taken, dir.path()).unwrap_err().contains("package name"), "{taken}");
        }
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "only the plugin, no staging directory");
    }
}
