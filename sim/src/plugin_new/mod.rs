//! `authzlab plugin new NAME`: a new validator plugin crate made from `plugins/template`,
//! which builds with one command and passes `authzlab plugin check` as it is.
//!
//! The template's two files are compiled into the binary, so the command works wherever
//! `authzlab` runs; the new crate joins the guest workspace (`plugins/*`) when made there,
//! and is a standalone workspace with the SDK beside it anywhere else ([`standalone`]).

use std::path::{Path, PathBuf};

const TEMPLATE_MANIFEST: &str = include_str!("../../../plugins/template/Cargo.toml");
const TEMPLATE_LIB: &str = include_str!("../../../plugins/template/src/lib.rs");
/// Longest plugin name: a crate name, and the component file's name.
pub const NAME_CHARS_MAX: usize = 48;

/// Names no crate may take: Rust's keywords (strict and reserved) and the standard crates.
const RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "crate",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "async",
    "await",
    "dyn",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
    "std",
    "core",
    "alloc",
    "test",
    "proc-macro",
];

/// Largest manifest or lock file read to find the names taken (the guest workspace's own
/// are a few KiB).
const WORKSPACE_FILE_BYTES_MAX: u64 = 1 << 20;

/// Where `name` is taken in the guest workspace at `into`: by a member's manifest, or by a
/// package in its `Cargo.lock` (members and their dependencies).
fn taken(name: &str, into: &Path) -> Option<String> {
    let read = read_workspace_file;
    let lock = into.join("Cargo.lock");
    if let Some(packages) = read(&lock).and_then(|lock| lock.get("package")?.as_array().cloned()) {
        if packages.iter().any(|package| package.get("name").and_then(|n| n.as_str()) == Some(name)) {
            return Some(lock.display().to_string());
        }
    }
    let mut members: Vec<PathBuf> =
        std::fs::read_dir(into).ok()?.flatten().map(|entry| entry.path().join("Cargo.toml")).collect();
    members.sort();
    members.into_iter().find_map(|manifest| {
        let package = read(&manifest)?;
        (package.get("package")?.get("name")?.as_str()? == name).then(|| manifest.display().to_string())
    })
}

mod standalone;

/// What was made, for the next steps the command prints.
#[derive(Debug)]
pub struct Made {
    pub dir: PathBuf,
    /// The command that builds it, run where it says.
    pub build: String,
    /// The component file the build writes.
    pub component: PathBuf,
}

/// Makes the plugin `name` in `into`: a member of the guest workspace when `into` is one
/// (the repository's `plugins/`), otherwise a standalone crate that builds where it stands.
/// Without `into`: `plugins/` when the current directory is the repository, else here.
pub fn make_in(name: &str, into: Option<&Path>) -> Result<Made, String> {
    let into = match into {
        Some(into) => into.to_path_buf(),
        None if is_guest_workspace(Path::new("plugins")) => PathBuf::from("plugins"),
        None => PathBuf::from("."),
    };
    if is_guest_workspace(&into) {
        make(name, &into)
    } else {
        standalone::make(name, &into)
    }
}

/// Whether `dir` is a guest workspace whose members are its directories (`members = ["*"]`).
fn is_guest_workspace(dir: &Path) -> bool {
    let Some(parsed) = read_workspace_file(&dir.join("Cargo.toml")) else { return false };
    let members = parsed.get("workspace").and_then(|workspace| workspace.get("members")?.as_array().cloned());
    members.is_some_and(|members| members.iter().any(|member| member.as_str() == Some("*")))
}

/// A workspace's manifest or lock file as TOML: `None` when it is missing, not a file, larger
/// than [`WORKSPACE_FILE_BYTES_MAX`] or not TOML.
fn read_workspace_file(path: &Path) -> Option<toml::Value> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > WORKSPACE_FILE_BYTES_MAX {
        return None;
    }
    toml::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Refuses a name that is not a lower-case crate name a plugin may take.
fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= NAME_CHARS_MAX
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid || matches!(name, "sdk" | "artifacts" | "target" | "template") {
        return Err(format!(
            "{name:?} is not a plugin name: lower-case letters, digits and '-', starting with a letter, at most {NAME_CHARS_MAX}, and not sdk, artifacts, target or template"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name:?} is a Rust keyword or a standard crate's name: a crate of that name cannot be built; choose another"
        ));
    }
    Ok(())
}

/// The template's `lib.rs` under `name`, its build and check lines as given.
fn plugin_lib(name: &str, build_line: &str, component: &str) -> String {
    TEMPLATE_LIB
        .replace("cargo build --release --target wasm32-wasip2 -p template", build_line)
        .replace("plugins/target/wasm32-wasip2/release/template.wasm", component)
        .replace("consumer: \"template\"", &format!("consumer: \"{name}\""))
}

/// The component's file name: the crate's name with '-' as '_'.
fn component_file(name: &str) -> String {
    format!("{}.wasm", name.replace('-', "_"))
}

/// Writes `files` (relative paths and contents) as the new directory `dir`: first into a
/// staging directory beside it, then renamed, so that nothing is half-written.
fn write_all_or_nothing(dir: &Path, files: &[(String, String)]) -> Result<(), String> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let leaf = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let staging = parent.join(format!(".{leaf}.new-{}", std::process::id()));
    let written = files.iter().try_for_each(|(path, contents)| {
        let path = staging.join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(&staging))?;
        std::fs::write(path, contents)
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&staging, dir)) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!("{}: cannot write the new plugin: {e}", dir.display()));
    }
    Ok(())
}

/// Where the plugin `name` goes in `into`, once its name is one a plugin may take, `into`
/// exists and nothing is there yet.
fn new_dir(name: &str, into: &Path) -> Result<PathBuf, String> {
    check_name(name)?;
    if !into.is_dir() {
        return Err(format!("{}: no such directory", into.display()));
    }
    let dir = into.join(name);
    if dir.exists() {
        return Err(format!("{}: already exists; choose another name", dir.display()));
    }
    Ok(dir)
}

/// Makes `<into>/<name>/` from the template as a member of the guest workspace `into`,
/// refusing a name that is not a lower-case crate name, is taken, or names a directory that
/// exists; nothing is written unless everything can be.
pub fn make(name: &str, into: &Path) -> Result<Made, String> {
    let dir = new_dir(name, into)?;
    if let Some(owner) = taken(name, into) {
        return Err(format!(
            "{name:?} is already a package of the guest workspace ({owner}); two packages of one name would break every later build: choose another"
        ));
    }
    let manifest =
        TEMPLATE_MANIFEST.replacen("name = \"template\"", &format!("name = \"{name}\""), 1).replacen(
            "description = \"The starter for a validator plugin: copy this crate, rename it, build, check\"",
            &format!("description = \"The {name} validator plugin\""),
            1,
        );
    let component = component_file(name);
    let build = format!("cargo build --release --target wasm32-wasip2 -p {name}");
    let lib = plugin_lib(name, &build, &format!("plugins/target/wasm32-wasip2/release/{component}"));
    write_all_or_nothing(&dir, &[("Cargo.toml".into(), manifest), ("src/lib.rs".into(), lib)])?;
    Ok(Made {
        dir,
        build: format!("cd {} && {build}", into.display()),
        component: into.join("target/wasm32-wasip2/release").join(component),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_plugin_is_the_template_under_its_name_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let made = make("voicemail-gate", dir.path()).unwrap();
        let manifest = std::fs::read_to_string(made.dir.join("Cargo.toml")).unwrap();
        let parsed: toml::Value = toml::from_str(&manifest).unwrap();
        assert_eq!(parsed["package"]["name"].as_str(), Some("voicemail-gate"));
        assert_eq!(parsed["lib"]["crate-type"][0].as_str(), Some("cdylib"));
        let lib = std::fs::read_to_string(made.dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("consumer: \"voicemail-gate\"") && lib.contains("-p voicemail-gate"));
        assert!(lib.contains("check_with(&req, policy"), "the SDK's checks stay");
        assert!(made.component.ends_with("target/wasm32-wasip2/release/voicemail_gate.wasm"));
        assert!(make("voicemail-gate", dir.path()).unwrap_err().contains("already exists"));
        for bad in ["", "Upper", "1st", "a_b", "sdk", "x-", &"a".repeat(NAME_CHARS_MAX + 1)] {
            assert!(make(bad, dir.path()).is_err(), "{bad:?}");
        }
        assert!(make("ok", &dir.path().join("missing")).unwrap_err().contains("no such directory"));
        assert!(!is_guest_workspace(dir.path()), "a directory without a workspace manifest");
        // The plugin just made is a package now: its name is taken, even under another directory name.
        std::fs::rename(made.dir, dir.path().join("moved")).unwrap();
        assert!(make("voicemail-gate", dir.path()).unwrap_err().contains("already a package"));
        std::fs::rename(dir.path().join("moved"), dir.path().join("voicemail-gate")).unwrap();
        for keyword in ["fn", "type", "std", "test"] {
            assert!(make(keyword, dir.path()).unwrap_err().contains("keyword"), "{keyword}");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the plugin, no staging directory");
    }
}
