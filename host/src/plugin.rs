//! The wasmtime component host for validator plugins.
//!
//! One [`PluginHost`] holds the one `Engine` and `Linker`; each [`Plugin`] is checked against
//! the `validator` world once, at load (`ValidatorPre`), and keeps one live instance that is
//! **reused** across calls: a fresh Store per call costs ~30 µs, more than the RSA verify
//! (docs/architecture.md). After any trap the instance is dropped and the next call gets a new one, so a
//! fault ends that call only.
//!
//! Limits: **fuel** decides how long a call may run (deterministic: the same plugin, token and
//! budget stop at the same instruction on every machine); an epoch deadline would depend on
//! the machine's speed, so none is used here. `StoreLimits` caps linear memory and traps on a
//! failed grow instead of letting the guest's allocator see `-1`.
//!
//! WASI is linked with an empty capability set (no files, sockets, environment or arguments),
//! its clocks read the time of the request being validated and its random source is a fixed
//! sequence drawn from the host's seed: a plugin is as deterministic as the simulation. Its
//! stderr and the contract's `log` import are kept per call ([`crate::guest_output`]): a fault's
//! reason quotes the panic message, and [`Plugin::take_output`] gives the lines to the caller.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ProfilingStrategy, Store, StoreLimits, StoreLimitsBuilder, Trap};

use crate::limits::Limits;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::authzlab::validator::{keyring as wit_keyring, log as wit_log, types as wit_types};
use crate::bindings::{Validator, ValidatorPre};
use crate::guest_output::{Capture, GuestOutput, Level, Stderr};
use crate::input::{read_bounded, InputKind, ReadError};
use crate::keyring::Keyring;
use crate::{KeyError, PluginInfo, Request, Verdict};

/// Largest answer a plugin may give (all the strings of its claims or rejection together):
/// a verdict is a few hundred bytes, and a larger one would travel into traces and reports.
pub const ANSWER_BYTES_MAX: usize = 64 << 10;
/// Bytes of the fixed random sequence a plugin sees through `wasi:random`.
const RANDOM_SEQUENCE_BYTES: usize = 256;
/// What a cache entry starts with: the format of the seal that follows.
const CACHE_MAGIC: &[u8; 16] = b"authzlab-cwasm/1";
/// Largest cache entry read back: the sealed artifact of the largest component we load
/// (precompiled code is a few times the size of the component).
const CACHE_ENTRY_BYTES_MAX: u64 = 8 * crate::input::COMPONENT_BYTES_MAX;

/// The first four bytes of every WebAssembly binary.
const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Bytes 4..8 of a core module (version 1, layer 0): a module, not a component.
const CORE_MODULE_VERSION: &[u8; 4] = &[1, 0, 0, 0];

/// Why a plugin could not be loaded. Loading happens before a scenario runs, so these are
/// errors for the user, not verdicts.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "plugin {name}: not a WebAssembly file (it starts with {start}, not the bytes `\\0asm`); \
         a validator is a component built for wasm32-wasip2"
    )]
    NotWasm { name: String, start: String },
    #[error(
        "plugin {name}: a core WebAssembly module, not a component; build the plugin for \
         wasm32-wasip2 (`cargo build --target wasm32-wasip2 --release`), or wrap a module with \
         `wasm-tools component new`"
    )]
    CoreModule { name: String },
    #[error("plugin {name}: not a WebAssembly component wasmtime can compile: {reason}")]
    Compile { name: String, reason: String },
    #[error(
        "plugin {name}: does not fit the {package}@{version} world: {reason} \
         (build it against wit/validator.wit with the SDK in plugins/sdk)",
        package = crate::contract::CONTRACT_PACKAGE,
        version = crate::contract::CONTRACT_VERSION
    )]
    Contract { name: String, reason: String },
    #[error("plugin {name}: built for {package}@{built} but this host speaks {package}@{host}: {advice}", package = crate::contract::CONTRACT_PACKAGE)]
    ContractVersion { name: String, built: String, host: String, advice: String },
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error("plugin {name}: no manifest at {manifest}, and this scenario requires one (pin its sha256 and contract there)")]
    ManifestRequired { name: String, manifest: String },
    #[error("plugin {name}: its SHA-256 is {found} but {manifest} pins {pinned}; refusing to load it (rebuild the pinned one, or update the manifest if this build is the one you meant)")]
    PinnedHash { name: String, manifest: String, pinned: String, found: String },
    #[error("plugin {name}: built for contract {built} but {manifest} pins {pinned}; refusing to load it")]
    PinnedContract { name: String, manifest: String, pinned: String, built: String },
    #[error("plugin {name}: `describe` failed: {reason}")]
    Describe { name: String, reason: String },
    #[error("the plugin engine could not be set up: {0}")]
    Engine(String),
}

/// The one engine and linker, and compiled components by content hash.
pub struct PluginHost {
    engine: Engine,
    linker: Linker<PluginState>,
    limits: Limits,
    seed: u64,
    cache_dir: Option<PathBuf>,
    /// The engine's precompile compatibility hash (wasmtime version and configuration):
    /// part of every cache entry's name and seal.
    compatibility: u64,
    compiled: Mutex<BTreeMap<[u8; 32], Component>>,
}

impl PluginHost {
    /// A host whose plugins run under `limits` and draw their WASI randomness from `seed`.
    pub fn new(limits: Limits, seed: u64) -> Result<PluginHost, PluginError> {
        PluginHost::with_profiler(limits, seed, ProfilingStrategy::None)
    }

    /// [`new`](Self::new), and the engine writes a perf map (`/tmp/perf-<pid>.map`: where
    /// each compiled guest function lies), so that `perf record` of this process names the
    /// guest's own functions instead of bare addresses. For `plugin bench --perf-map`: a plugin
    /// author sees which of their functions a validation spends its time in. Verdicts,
    /// fuel and traces are the same as without it.
    pub fn with_perf_map(limits: Limits, seed: u64) -> Result<PluginHost, PluginError> {
        PluginHost::with_profiler(limits, seed, ProfilingStrategy::PerfMap)
    }

    fn with_profiler(
        limits: Limits,
        seed: u64,
        profiler: ProfilingStrategy,
    ) -> Result<PluginHost, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(true).profiler(profiler);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        Validator::add_to_linker::<_, HasSelf<_>>(&mut linker, |state: &mut PluginState| state)
            .map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(PluginHost {
            compatibility: hasher.finish(),
            engine,
            linker,
            limits,
            seed,
            cache_dir: None,
            compiled: Mutex::new(BTreeMap::new()),
        })
    }

    /// Keeps precompiled components in `dir` across processes, by content hash: compiling the
    /// reference validator takes longer than a short scenario.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> PluginHost {
        self.cache_dir = Some(dir.into());
        self
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Loads a component file (at most [`COMPONENT_BYTES_MAX`](crate::input::COMPONENT_BYTES_MAX)),
    /// held to its manifest (`x.manifest.toml` beside `x.wasm`) when it has one.
    pub fn load_file(&self, path: &Path) -> Result<Plugin, PluginError> {
        self.load_file_pinned(path, false)
    }

    /// [`load_file`](Self::load_file); with `require_manifest`, a component without a
    /// manifest is refused.
    pub fn load_file_pinned(&self, path: &Path, require_manifest: bool) -> Result<Plugin, PluginError> {
        let bytes = read_bounded(path, InputKind::Component)?;
        let name = path
            .file_stem()
            .map_or_else(|| path.display().to_string(), |stem| stem.to_string_lossy().into_owned());
        let manifest_path = crate::manifest::path_for(path);
        // `symlink_metadata`, not `exists`: a dangling link where the manifest belongs is a
        // manifest that cannot be read (refused below, naming it), never an absent one that
        // would let the component load unpinned.
        if fs::symlink_metadata(&manifest_path)
            .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound)
        {
            if require_manifest {
                return Err(PluginError::ManifestRequired {
                    name,
                    manifest: manifest_path.display().to_string(),
                });
            }
            return self.load(&name, &bytes);
        }
        let manifest = crate::manifest::Manifest::load(&manifest_path)?;
        self.load_with_manifest(&name, &bytes, &manifest)
    }

    /// Loads a component held to `manifest`: its SHA-256 and contract version must be the
    /// pinned ones, and it runs under the manifest's limits when it sets some.
    pub fn load_with_manifest(
        &self,
        name: &str,
        bytes: &[u8],
        manifest: &crate::manifest::Manifest,
    ) -> Result<Plugin, PluginError> {
        let found = hex::encode(Sha256::digest(bytes));
        let shown = manifest.path.display().to_string();
        if found != manifest.sha256 {
            return Err(PluginError::PinnedHash {
                name: name.to_string(),
                manifest: shown,
                pinned: manifest.sha256.clone(),
                found,
            });
        }
        let mut plugin = self.load(name, bytes)?;
        if plugin.contract != manifest.contract {
            return Err(PluginError::PinnedContract {
                name: name.to_string(),
                manifest: shown,
                pinned: manifest.contract.clone(),
                built: plugin.contract.clone(),
            });
        }
        plugin.manifest = Some(manifest.path.clone());
        if let Some(limits) = manifest.limits {
            plugin.limits = limits;
            // The next call starts an instance under the manifest's limits.
            plugin.live = None;
        }
        Ok(plugin)
    }

    /// Loads a component from bytes: compile (or reuse), check against the world, instantiate,
    /// and ask it to describe itself.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        check_component_header(name, bytes)?;
        // Before compiling: a compile costs seconds and memory that a misfit must not.
        if let Some(reason) = crate::component_shape::misfit(bytes) {
            return Err(PluginError::Contract { name: name.to_string(), reason });
        }
        let component = self.component(name, bytes)?;
        self.check_contract_version(name, &component)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Contract { name: name.to_string(), reason: format!("{e:#}") })?;
        let pre = ValidatorPre::new(instance_pre)
            .map_err(|e| PluginError::Contract { name: name.to_string(), reason: format!("{e:#}") })?;
        let contract =
            crate::contract::built_for(component.component_type().imports(&self.engine).map(|(n, _)| n))
                .unwrap_or_else(|| crate::contract::CONTRACT_VERSION.to_string());
        let mut plugin = Plugin {
            name: name.to_string(),
            info: PluginInfo { name: name.to_string(), version: String::new(), consumer: String::new() },
            sha256: hex::encode(Sha256::digest(bytes)),
            contract,
            manifest: None,
            engine: self.engine.clone(),
            pre,
            limits: self.limits,
            seed: self.seed,
            clock: SimClock::default(),
            live: None,
            instances_started: 0,
            last_fuel_used: 0,
            capture: Capture::default(),
            last_output: GuestOutput::default(),
        };
        let keyring = Arc::new(Keyring::new(""));
        let live = plugin
            .instantiate(keyring)
            .map_err(|reason| PluginError::Describe { name: name.to_string(), reason })?;
        let (store, validator) = plugin.live.insert(live);
        // A full budget for `describe`, whatever instantiation spent.
        store.set_fuel(self.limits.fuel_per_call).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        let info = validator
            .call_describe(&mut *store)
            .map_err(|e| PluginError::Describe { name: name.to_string(), reason: format!("{e:#}") })?;
        plugin.info = printable_info(info)
            .map_err(|reason| PluginError::Describe { name: name.to_string(), reason })?;
        Ok(plugin)
    }

    /// Refuses a component built for a contract version this host does not accept, naming
    /// both versions (`contract`); a component that names no version is left to the world check.
    fn check_contract_version(&self, name: &str, component: &Component) -> Result<(), PluginError> {
        let component_type = component.component_type();
        let Some(built) =
            crate::contract::built_for(component_type.imports(&self.engine).map(|(name, _)| name))
        else {
            return Ok(());
        };
        let host = crate::contract::host_version();
        let parsed = crate::contract::Version::parse(&built);
        if parsed.is_some_and(|version| host.accepts(version)) {
            return Ok(());
        }
        Err(PluginError::ContractVersion {
            name: name.to_string(),
            advice: crate::contract::advice(host, parsed),
            built,
            host: host.to_string(),
        })
    }

    fn component(&self, name: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let mut compiled = self.compiled.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(component) = compiled.get(&digest) {
            return Ok(component.clone());
        }
        let component = match self.read_cached(&digest) {
            Some(component) => component,
            None => self.compile_and_store(name, bytes, &digest)?,
        };
        compiled.insert(digest, component.clone());
        Ok(component)
    }

    /// The cached precompiled component for `digest`, if the cache holds one whose seal
    /// verifies. `Component::deserialize` trusts its input (damaged bytes crash the process,
    /// or run as code), so nothing reaches it that this engine did not write: the seal is a
    /// SHA-256 over the engine's compatibility hash (wasmtime version and configuration), the
    /// source component's digest and the artifact, checked before deserializing. A missing,
    /// short, stale or damaged entry is `None` and gets recompiled and replaced.
    ///
    /// The cache file is read into memory rather than mapped (`deserialize_file`): a mapping
    /// of a file that another process truncates ends this one with SIGBUS.
    fn read_cached(&self, digest: &[u8; 32]) -> Option<Component> {
        let path = self.cache_path(digest)?;
        // Only a regular file can be an entry this engine wrote; anything else (a FIFO would
        // block the open) is treated as missing and replaced.
        if !fs::symlink_metadata(&path).ok()?.is_file() {
            return None;
        }
        let file = fs::File::open(path).ok()?;
        let mut sealed = Vec::new();
        file.take(CACHE_ENTRY_BYTES_MAX).read_to_end(&mut sealed).ok()?;
        let artifact = self.unseal(digest, &sealed)?;
        // SAFETY: `artifact` carries this engine's seal (checked in `unseal`): these are the
        // bytes `compile_and_store` wrote from this engine's own `precompile_component`.
        unsafe { Component::deserialize(&self.engine, artifact) }.ok()
    }

    fn compile_and_store(
        &self,
        name: &str,
        bytes: &[u8],
        digest: &[u8; 32],
    ) -> Result<Component, PluginError> {
        let compile_error =
            |e: wasmtime::Error| PluginError::Compile { name: name.to_string(), reason: first_line(&e) };
        let Some(path) = self.cache_path(digest) else {
            return Component::new(&self.engine, bytes).map_err(compile_error);
        };
        let artifact = self.engine.precompile_component(bytes).map_err(compile_error)?;
        // Best effort: a cache that cannot be written only costs the next run a compile.
        let _ = write_whole(&path, &self.seal(digest, &artifact));
        // SAFETY: `artifact` was produced just now by this engine's `precompile_component`.
        unsafe { Component::deserialize(&self.engine, &artifact) }.map_err(compile_error)
    }

    /// `CACHE_MAGIC`, then SHA-256(compatibility hash, source digest, artifact), then the artifact.
    fn seal(&self, digest: &[u8; 32], artifact: &[u8]) -> Vec<u8> {
        let mut sealed = Vec::with_capacity(CACHE_MAGIC.len() + 32 + artifact.len());
        sealed.extend_from_slice(CACHE_MAGIC);
        sealed.extend_from_slice(&self.seal_digest(digest, artifact));
        sealed.extend_from_slice(artifact);
        sealed
    }

    /// The artifact inside `sealed`, if its seal is this engine's for this source.
    fn unseal<'s>(&self, digest: &[u8; 32], sealed: &'s [u8]) -> Option<&'s [u8]> {
        let rest = sealed.strip_prefix(CACHE_MAGIC.as_slice())?;
        if rest.len() < 32 {
            return None;
        }
        let (seal, artifact) = rest.split_at(32);
        (seal == self.seal_digest(digest, artifact)).then_some(artifact)
    }

    fn seal_digest(&self, digest: &[u8; 32], artifact: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.compatibility.to_be_bytes());
        hasher.update(digest);
        hasher.update(artifact);
        hasher.finalize().into()
    }

    fn cache_path(&self, digest: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        Some(dir.join(format!("{}-{:016x}.cwasm", hex::encode(digest), self.compatibility)))
    }
}

/// Longest field of a plugin's `describe` answer (name, version, consumer), in characters:
/// they are printed on one report line and recorded in the trace, like `validate`'s answers
/// they are capped ([`ANSWER_BYTES_MAX`]), here far lower since they are labels.
pub const DESCRIBE_FIELD_CHARS_MAX: usize = 128;

/// The `describe` answer as reports print it: a field over [`DESCRIBE_FIELD_CHARS_MAX`] is
/// refused, and control characters (a terminal's escape sequences, line breaks that would
/// fake a report line) are written escaped (`\u{1b}`).
pub fn printable_info(info: PluginInfo) -> Result<PluginInfo, String> {
    let printable = |field: &str, value: String| -> Result<String, String> {
        let count = value.chars().count();
        if count > DESCRIBE_FIELD_CHARS_MAX {
            return Err(format!(
                "its `{field}` is {count} characters, over {DESCRIBE_FIELD_CHARS_MAX} (DESCRIBE_FIELD_CHARS_MAX)"
            ));
        }
        Ok(value
            .chars()
            .flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] })
            .collect())
    };
    Ok(PluginInfo {
        name: printable("name", info.name)?,
        version: printable("version", info.version)?,
        consumer: printable("consumer", info.consumer)?,
    })
}

/// Refuses what is not a component before wasmtime sees it, with a message a plugin author
/// can act on (wasmtime's own error for a text file is a byte dump).
fn check_component_header(name: &str, bytes: &[u8]) -> Result<(), PluginError> {
    if !bytes.starts_with(WASM_MAGIC) {
        let start: Vec<String> = bytes.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
        let start = if start.is_empty() { "nothing: the file is empty".to_string() } else { start.join(" ") };
        return Err(PluginError::NotWasm { name: name.to_string(), start });
    }
    if bytes.get(4..8) == Some(CORE_MODULE_VERSION.as_slice()) {
        return Err(PluginError::CoreModule { name: name.to_string() });
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: to a temporary file beside it (unique to
/// this process and call), then renamed; on any failure the temporary file is removed.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent directory"))?;
    fs::create_dir_all(dir)?;
    let serial = WRITES.fetch_add(1, Ordering::Relaxed);
    let temporary = path.with_extension(format!("tmp{}-{serial}", std::process::id()));
    let written = fs::write(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// A loaded validator plugin and its live instance.
pub struct Plugin {
    name: String,
    info: PluginInfo,
    /// SHA-256 of the component's bytes, hex: what identifies it in traces and manifests.
    sha256: String,
    /// The contract version it was built for (the host's, if its imports name none).
    contract: String,
    /// The manifest that pinned it, if one did.
    manifest: Option<PathBuf>,
    engine: Engine,
    pre: ValidatorPre<PluginState>,
    limits: Limits,
    seed: u64,
    clock: SimClock,
    live: Option<(Store<PluginState>, Validator)>,
    instances_started: u64,
    last_fuel_used: u64,
    /// What the guest writes during the call in progress (shared with every instance's WASI).
    capture: Capture,
    /// What the last call wrote, until taken.
    last_output: GuestOutput,
}

impl Plugin {
    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The manifest that pinned it, if one did.
    pub fn manifest(&self) -> Option<&Path> {
        self.manifest.as_deref()
    }

    /// The limits this plugin runs under (the host's, or its manifest's).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// SHA-256 of the component's bytes, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The contract version the component was built for.
    pub fn contract(&self) -> &str {
        &self.contract
    }

    /// The name it was loaded under (the file stem, or the built-in plugin's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Instances started so far: 1 after load, one more after each fault.
    pub fn instances_started(&self) -> u64 {
        self.instances_started
    }

    /// Draws this plugin's WASI randomness from `seed` from the next instance on (the live
    /// one is replaced), so a simulation can derive it from its own seed whichever host
    /// loaded the plugin.
    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.live = None;
    }

    /// Fuel the last call consumed.
    pub fn last_fuel_used(&self) -> u64 {
        self.last_fuel_used
    }

    /// The most linear memory the live instance has held, bytes (none before the first call
    /// after a fault).
    pub fn memory_bytes(&self) -> Option<usize> {
        self.live.as_ref().map(|(store, _)| store.data().memory_peak)
    }

    /// Replaces the live instance with a fresh one now (what a fault does before the next
    /// call): `plugin bench` times it.
    pub fn restart_instance(&mut self, keyring: Arc<Keyring>) -> Result<(), String> {
        self.live = None;
        let live = self.instantiate(keyring)?;
        self.live = Some(live);
        Ok(())
    }

    /// Validates one request with the keys in `keyring`. A trap, running out of fuel or
    /// memory is a [`Verdict::PluginFault`]; the instance is then replaced, so the next call
    /// is served.
    pub fn validate(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict {
        self.capture.begin();
        let verdict = self.validate_captured(keyring, request);
        self.last_output = self.capture.finish(&request.token);
        match verdict {
            Verdict::PluginFault { plugin, reason } => match self.last_output.stderr_quote() {
                Some(said) => {
                    Verdict::PluginFault { plugin, reason: format!("{reason}; its stderr: {said}") }
                }
                None => Verdict::PluginFault { plugin, reason },
            },
            verdict => verdict,
        }
    }

    /// What the last call logged or wrote to stderr (empty once taken).
    pub fn take_output(&mut self) -> GuestOutput {
        std::mem::take(&mut self.last_output)
    }

    fn validate_captured(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict {
        self.clock.set(request.now);
        let live = match self.live.take() {
            Some(live) => live,
            None => match self.instantiate(keyring.clone()) {
                Ok(live) => live,
                Err(reason) => return self.fault(reason),
            },
        };
        let (mut store, validator) = live;
        store.data_mut().keyring = keyring;
        store.data_mut().host_fuel_left = self.limits.fuel_per_call;
        if let Err(e) = store.set_fuel(self.limits.fuel_per_call) {
            return self.fault(format!("{e:#}"));
        }
        let outcome = validator.call_validate(&mut store, request);
        self.last_fuel_used = self.limits.fuel_per_call - store.get_fuel().unwrap_or(0);
        match outcome {
            Ok(result) => {
                let answer_bytes = answer_bytes(&result);
                if answer_bytes > ANSWER_BYTES_MAX {
                    // The instance is dropped with the answer: a plugin that sends megabytes
                    // back is not to be trusted with the next call either.
                    return self
                        .fault(format!("answered with {answer_bytes} bytes, over {ANSWER_BYTES_MAX}"));
                }
                self.live = Some((store, validator));
                Verdict::from(result)
            }
            // The instance is dropped here: its state after a trap is not to be trusted.
            Err(error) => self.fault(self.describe_trap(&error)),
        }
    }

    fn fault(&self, reason: String) -> Verdict {
        Verdict::PluginFault { plugin: self.name.clone(), reason }
    }

    fn describe_trap(&self, error: &wasmtime::Error) -> String {
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => {
                format!("ran out of fuel ({} units per call)", self.limits.fuel_per_call)
            }
            None if error.chain().any(|cause| cause.to_string() == HOST_BUDGET_SPENT) => format!(
                "spent its host-call budget ({} fuel units of keyring work per call; a verification costs {})",
                self.limits.fuel_per_call,
                HOST_CALL_FUEL + RS256_VERIFY_FUEL
            ),
            // `StoreLimits` with `trap_on_grow_failure` words a refused grow this way.
            _ if error
                .chain()
                .any(|cause| cause.to_string().starts_with("forcing trap when growing memory")) =>
            {
                format!("exceeded its memory cap ({} bytes)", self.limits.memory_bytes_max)
            }
            Some(trap) => format!("trapped: {trap}"),
            None => format!("failed: {}", first_line(error)),
        }
    }

    fn instantiate(&mut self, keyring: Arc<Keyring>) -> Result<(Store<PluginState>, Validator), String> {
        self.instances_started += 1;
        let mut random_sequence = vec![0u8; RANDOM_SEQUENCE_BYTES];
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed ^ self.instances_started);
        rng.fill_bytes(&mut random_sequence);
        let wasi = WasiCtxBuilder::new()
            .wall_clock(self.clock.clone())
            .monotonic_clock(self.clock.clone())
            .secure_random(wasmtime_wasi::Deterministic::new(random_sequence.clone()))
            .insecure_random(wasmtime_wasi::Deterministic::new(random_sequence))
            .insecure_random_seed(u128::from(self.seed))
            .stderr(Stderr(self.capture.clone()))
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes_max)
            .trap_on_grow_failure(true)
            .build();
        let state = PluginState {
            wasi,
            capture: self.capture.clone(),
            table: ResourceTable::new(),
            keyring,
            limits,
            memory_peak: 0,
            host_fuel_left: self.limits.fuel_per_call,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state);
        store.set_fuel(self.limits.fuel_per_call).map_err(|e| format!("cannot set fuel: {e:#}"))?;
        let validator = self.pre.instantiate(&mut store).map_err(|e| format!("cannot instantiate: {e:#}"))?;
        Ok((store, validator))
    }
}

/// The bytes of every string in a plugin's answer.
fn answer_bytes(result: &Result<crate::Claims, crate::Rejection>) -> usize {
    use crate::Rejection;
    match result {
        Ok(claims) => {
            claims.issuer.len()
                + claims.subject.len()
                + claims.client_id.len()
                + claims.token_id.len()
                + claims.scope.iter().map(String::len).sum::<usize>()
        }
        Err(
            Rejection::Malformed(text)
            | Rejection::UnsupportedAlgorithm(text)
            | Rejection::UnknownSigningKey(text)
            | Rejection::UnknownEncryptionKey(text)
            | Rejection::WrongIssuer(text)
            | Rejection::WrongTokenType(text)
            | Rejection::Denied(text),
        ) => text.len(),
        Err(Rejection::BadSignature | Rejection::DecryptionFailed | Rejection::Revoked) => 0,
        Err(Rejection::Expired(_) | Rejection::NotYetValid(_)) => 0,
    }
}

fn first_line(error: &wasmtime::Error) -> String {
    format!("{error:#}").lines().next().unwrap_or_default().to_string()
}

/// The plugin's view of time: the `now` of the request being validated. Readings never go
/// backwards within one call, and nothing reads the host's clock.
#[derive(Clone, Default)]
struct SimClock(Arc<AtomicU64>);

impl SimClock {
    fn set(&self, now_s: u64) {
        self.0.store(now_s, Ordering::Relaxed);
    }

    fn now_s(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl HostWallClock for SimClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::from_secs(self.now_s())
    }
}

impl HostMonotonicClock for SimClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        self.now_s().saturating_mul(1_000_000_000)
    }
}

/// Store data: WASI's (empty) context, and the keys of the node the call is made for.
pub struct PluginState {
    wasi: WasiCtx,
    /// Where the `log` import's lines go.
    capture: Capture,
    table: ResourceTable,
    keyring: Arc<Keyring>,
    limits: StoreLimits,
    /// Fuel left this call for the host's own work on the plugin's behalf (keyring calls):
    /// the guest's fuel stops only the guest's instructions, and a loop over `verify-rs256`
    /// spends almost none of it. Set to `fuel_per_call` at each call.
    host_fuel_left: u64,
    /// The most linear memory the instance has held, bytes (`plugin bench` reports it).
    memory_peak: usize,
}

/// The memory cap, recording the largest size the instance grew to.
impl wasmtime::ResourceLimiter for PluginState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit_types::Host for PluginState {}

impl wit_log::Host for PluginState {
    fn log(&mut self, level: wit_log::Level, message: String) -> wasmtime::Result<()> {
        self.charge(HOST_CALL_FUEL + bytes_fuel(&[message.len()]))?;
        let level = match level {
            wit_log::Level::Debug => Level::Debug,
            wit_log::Level::Info => Level::Info,
            wit_log::Level::Warn => Level::Warn,
            wit_log::Level::Error => Level::Error,
        };
        self.capture.log(level, &message);
        Ok(())
    }
}

/// Fuel a keyring call costs before its work: crossing the boundary, copying arguments.
pub const HOST_CALL_FUEL: u64 = 1_000;
/// Fuel of one RS256 verification's public-key operation (~25 µs here, about what the guest
/// does with this much fuel), on top of [`HOST_BYTE_FUEL`] per byte hashed.
pub const RS256_VERIFY_FUEL: u64 = 100_000;
/// Fuel of one `dir`/A128CBC-HS256 decryption's fixed work, on top of [`HOST_BYTE_FUEL`] per
/// byte authenticated and decrypted.
pub const DECRYPT_FUEL: u64 = 10_000;
/// Fuel per byte the host hashes or decrypts for the plugin.
pub const HOST_BYTE_FUEL: u64 = 4;

/// What a plugin is told when its keyring work outruns its budget: it traps, a fault.
const HOST_BUDGET_SPENT: &str = "host-call budget spent";

impl PluginState {
    /// Charges `fuel` of host work to this call, trapping once the budget is spent.
    fn charge(&mut self, fuel: u64) -> wasmtime::Result<()> {
        match self.host_fuel_left.checked_sub(fuel) {
            Some(left) => {
                self.host_fuel_left = left;
                Ok(())
            }
            None => {
                self.host_fuel_left = 0;
                Err(wasmtime::Error::msg(HOST_BUDGET_SPENT))
            }
        }
    }
}

fn bytes_fuel(parts: &[usize]) -> u64 {
    parts.iter().map(|len| *len as u64).sum::<u64>().saturating_mul(HOST_BYTE_FUEL)
}

impl wit_keyring::Host for PluginState {
    fn trusted_issuer(&mut self) -> wasmtime::Result<String> {
        self.charge(HOST_CALL_FUEL)?;
        Ok(self.keyring.trusted_issuer().to_string())
    }

    fn verify_rs256(
        &mut self,
        kid: String,
        signing_input: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, KeyError>> {
        let bytes = bytes_fuel(&[kid.len(), signing_input.len(), signature.len()]);
        self.charge(HOST_CALL_FUEL + RS256_VERIFY_FUEL + bytes)?;
        Ok(self.keyring.verify_rs256(&kid, &signing_input, &signature))
    }

    fn decrypt_dir_a128cbc_hs256(
        &mut self,
        kid: String,
        protected_b64: String,
        iv: Vec<u8>,
        ciphertext: Vec<u8>,
        tag: Vec<u8>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, KeyError>> {
        let bytes = bytes_fuel(&[kid.len(), protected_b64.len(), iv.len(), ciphertext.len(), tag.len()]);
        self.charge(HOST_CALL_FUEL + DECRYPT_FUEL + bytes)?;
        Ok(self.keyring.decrypt_dir_a128cbc_hs256(&kid, &protected_b64, &iv, &ciphertext, &tag))
    }
}
