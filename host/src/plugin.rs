//! The wasmtime component host for validator plugins.
//!
//! One [`PluginHost`] holds the one `Engine` and `Linker`; each [`Plugin`] is checked against
//! the `validator` world once, at load (`ValidatorPre`), and keeps one live instance that is
//! **reused** across calls: a fresh Store per call costs ~30 µs, more than the RSA verify
//! (DESIGN.md). After any trap the instance is dropped and the next call gets a new one, so a
//! fault ends that call only.
//!
//! Limits: **fuel** decides how long a call may run (deterministic: the same plugin, token and
//! budget stop at the same instruction on every machine); an epoch deadline would depend on
//! the machine's speed, so none is used here. `StoreLimits` caps linear memory and traps on a
//! failed grow instead of letting the guest's allocator see `-1`.
//!
//! WASI is linked with an empty capability set (no files, sockets, environment or arguments),
//! its clocks read the time of the request being validated and its random source is a fixed
//! sequence drawn from the host's seed: a plugin is as deterministic as the simulation.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::authzlab::validator::{keyring as wit_keyring, types as wit_types};
use crate::bindings::{Validator, ValidatorPre};
use crate::keyring::Keyring;
use crate::{KeyError, PluginInfo, Request, Verdict};

/// Fuel for one `validate` call. Measured: the unity-connection validator spends well under
/// 1% of this on a valid access token (`authzlab plugin check` prints the figure), so only a
/// runaway plugin meets it; at ~1 ns a unit it stops one in a fraction of a second.
pub const FUEL_PER_CALL_DEFAULT: u64 = 200_000_000;
/// Linear memory a plugin instance may hold. Token validation needs a few hundred KiB.
pub const MEMORY_BYTES_MAX_DEFAULT: usize = 32 << 20;
/// Bytes of the fixed random sequence a plugin sees through `wasi:random`.
const RANDOM_SEQUENCE_BYTES: usize = 256;

const _: () = assert!(FUEL_PER_CALL_DEFAULT > 1_000_000);
const _: () = assert!(MEMORY_BYTES_MAX_DEFAULT >= 1 << 20);

/// Per-call limits for every plugin a host loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub fuel_per_call: u64,
    pub memory_bytes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { fuel_per_call: FUEL_PER_CALL_DEFAULT, memory_bytes_max: MEMORY_BYTES_MAX_DEFAULT }
    }
}

/// Why a plugin could not be loaded. Loading happens before a scenario runs, so these are
/// errors for the user, not verdicts.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{path}: cannot read the plugin: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("plugin {name}: not a WebAssembly component wasmtime can compile: {reason}")]
    Compile { name: String, reason: String },
    #[error(
        "plugin {name}: does not fit the authzlab:validator@0.1.0 world: {reason} \
         (build it against wit/validator.wit with the SDK in plugins/sdk)"
    )]
    Contract { name: String, reason: String },
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
    compiled: Mutex<BTreeMap<[u8; 32], Component>>,
}

impl PluginHost {
    /// A host whose plugins run under `limits` and draw their WASI randomness from `seed`.
    pub fn new(limits: Limits, seed: u64) -> Result<PluginHost, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        Validator::add_to_linker::<_, HasSelf<_>>(&mut linker, |state: &mut PluginState| state)
            .map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        Ok(PluginHost {
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

    /// Loads a component file.
    pub fn load_file(&self, path: &Path) -> Result<Plugin, PluginError> {
        let bytes =
            fs::read(path).map_err(|source| PluginError::Read { path: path.to_path_buf(), source })?;
        let name = path
            .file_stem()
            .map_or_else(|| path.display().to_string(), |stem| stem.to_string_lossy().into_owned());
        self.load(&name, &bytes)
    }

    /// Loads a component from bytes: compile (or reuse), check against the world, instantiate,
    /// and ask it to describe itself.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let component = self.component(name, bytes)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Contract { name: name.to_string(), reason: format!("{e:#}") })?;
        let pre = ValidatorPre::new(instance_pre)
            .map_err(|e| PluginError::Contract { name: name.to_string(), reason: format!("{e:#}") })?;
        let mut plugin = Plugin {
            name: name.to_string(),
            info: PluginInfo { name: name.to_string(), version: String::new(), consumer: String::new() },
            engine: self.engine.clone(),
            pre,
            limits: self.limits,
            seed: self.seed,
            clock: SimClock::default(),
            live: None,
            instances_started: 0,
            last_fuel_used: 0,
        };
        let keyring = Arc::new(Keyring::new(""));
        let live = plugin
            .instantiate(keyring)
            .map_err(|reason| PluginError::Describe { name: name.to_string(), reason })?;
        let (store, validator) = plugin.live.insert(live);
        // A full budget for `describe`, whatever instantiation spent.
        store.set_fuel(self.limits.fuel_per_call).map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        plugin.info = validator
            .call_describe(&mut *store)
            .map_err(|e| PluginError::Describe { name: name.to_string(), reason: format!("{e:#}") })?;
        Ok(plugin)
    }

    fn component(&self, name: &str, bytes: &[u8]) -> Result<Component, PluginError> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        let mut compiled = self.compiled.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(component) = compiled.get(&digest) {
            return Ok(component.clone());
        }
        // The cache file is read into memory rather than mapped (`deserialize_file`): a
        // mapping of a file that another process truncates ends this one with SIGBUS.
        let cached = self.cache_path(&digest).and_then(|path| fs::read(path).ok());
        let component = match cached {
            // SAFETY: `deserialize` trusts its input. Files in the cache directory are written
            // only by `compile_and_store` below, from this engine's own `precompile_component`
            // output, and are named by the engine's compatibility hash, so a file from another
            // wasmtime or another configuration is never picked up; a damaged one fails
            // wasmtime's header checks and is recompiled.
            Some(serialized) => match unsafe { Component::deserialize(&self.engine, &serialized) } {
                Ok(component) => component,
                Err(_) => self.compile_and_store(name, bytes, &digest)?,
            },
            None => self.compile_and_store(name, bytes, &digest)?,
        };
        compiled.insert(digest, component.clone());
        Ok(component)
    }

    fn compile_and_store(
        &self,
        name: &str,
        bytes: &[u8],
        digest: &[u8; 32],
    ) -> Result<Component, PluginError> {
        let compile_error =
            |e: wasmtime::Error| PluginError::Compile { name: name.to_string(), reason: format!("{e:#}") };
        let Some(path) = self.cache_path(digest) else {
            return Component::new(&self.engine, bytes).map_err(compile_error);
        };
        let serialized = self.engine.precompile_component(bytes).map_err(compile_error)?;
        // Best effort: a cache that cannot be written only costs the next run a compile.
        // Written to a temporary name and renamed, so a reader never sees half a file.
        if let Some(dir) = path.parent() {
            let temporary = path.with_extension(format!("tmp{}", std::process::id()));
            if fs::create_dir_all(dir).is_ok() && fs::write(&temporary, &serialized).is_ok() {
                let _ = fs::rename(&temporary, &path);
            }
        }
        // SAFETY: `serialized` was produced just now by this engine's `precompile_component`.
        unsafe { Component::deserialize(&self.engine, &serialized) }.map_err(compile_error)
    }

    fn cache_path(&self, digest: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.cache_dir.as_ref()?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        Some(dir.join(format!("{}-{:016x}.cwasm", hex::encode(digest), hasher.finish())))
    }
}

/// A loaded validator plugin and its live instance.
pub struct Plugin {
    name: String,
    info: PluginInfo,
    engine: Engine,
    pre: ValidatorPre<PluginState>,
    limits: Limits,
    seed: u64,
    clock: SimClock,
    live: Option<(Store<PluginState>, Validator)>,
    instances_started: u64,
    last_fuel_used: u64,
}

impl Plugin {
    /// What the plugin says about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.info
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

    /// Validates one request with the keys in `keyring`. A trap, running out of fuel or
    /// memory is a [`Verdict::PluginFault`]; the instance is then replaced, so the next call
    /// is served.
    pub fn validate(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict {
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
        if let Err(e) = store.set_fuel(self.limits.fuel_per_call) {
            return self.fault(format!("{e:#}"));
        }
        let outcome = validator.call_validate(&mut store, request);
        self.last_fuel_used = self.limits.fuel_per_call - store.get_fuel().unwrap_or(0);
        match outcome {
            Ok(result) => {
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
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes_max)
            .trap_on_grow_failure(true)
            .build();
        let state = PluginState { wasi, table: ResourceTable::new(), keyring, limits };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_fuel(self.limits.fuel_per_call).map_err(|e| format!("cannot set fuel: {e:#}"))?;
        let validator = self.pre.instantiate(&mut store).map_err(|e| format!("cannot instantiate: {e:#}"))?;
        Ok((store, validator))
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
    table: ResourceTable,
    keyring: Arc<Keyring>,
    limits: StoreLimits,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit_types::Host for PluginState {}

impl wit_keyring::Host for PluginState {
    fn trusted_issuer(&mut self) -> String {
        self.keyring.trusted_issuer().to_string()
    }

    fn verify_rs256(
        &mut self,
        kid: String,
        signing_input: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<bool, KeyError> {
        self.keyring.verify_rs256(&kid, &signing_input, &signature)
    }

    fn decrypt_dir_a128cbc_hs256(
        &mut self,
        kid: String,
        protected_b64: String,
        iv: Vec<u8>,
        ciphertext: Vec<u8>,
        tag: Vec<u8>,
    ) -> Result<Option<Vec<u8>>, KeyError> {
        self.keyring.decrypt_dir_a128cbc_hs256(&kid, &protected_b64, &iv, &ciphertext, &tag)
    }
}
