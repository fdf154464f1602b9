//! Validation throughput on one core: the WASM component against the native reference
//! validator, and the native validator against a bare OpenSSL RS256 verify with the same
//! key (the crypto floor every validation pays); `plugin bench`'s figures; and the per-case
//! wall time `plugin check` prints. The clock read here times validations from outside only.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authzlab_host::plugin::PluginError;
use authzlab_host::vectors::{Outcome, Vectors};
use authzlab_host::{reference, Plugin, PluginHost, Request, TokenKind};
use josekit::jws::{JwsVerifier, RS256};

use crate::bench::BenchError;
use crate::seeds::Seeds;
use crate::tokens::{Lifetimes, TokenService};

/// Distinct tokens cycled through, so no cache anywhere sees one token over and over.
const TOKENS: usize = 64;
/// Operations between two readings of the machine's clock.
const BATCH: u64 = 64;

/// Operations per second of each contender, measured one after the other on this thread.
pub struct Throughput {
    pub component_per_s: f64,
    pub native_per_s: f64,
    pub raw_verify_per_s: f64,
}

/// Measures each contender for `measure_for` of wall time on valid access tokens, the
/// component being the reference `unity-connection`.
pub fn measure(plugins: &PluginHost, measure_for: Duration) -> Result<Throughput, BenchError> {
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let mut plugin =
        plugins.load(artifact.name, artifact.bytes).map_err(|e| BenchError::Input(e.to_string()))?;
    let tokens = BenchTokens::new(&plugin.info().consumer);
    measure_plugin(&mut plugin, &tokens, measure_for)
}

/// What `authzlab plugin bench` reports of one component.
pub struct PluginFigures {
    pub throughput: Throughput,
    /// A fresh instance: the mean time to start one.
    pub instantiation: Duration,
    /// The instance's linear memory after the runs, bytes.
    pub memory_bytes: usize,
    /// Fuel one validation of a valid access token spends.
    pub fuel_per_call: u64,
}

/// [`measure_plugin`], then instantiation time (`INSTANCES` fresh instances), memory per
/// instance and fuel per call.
pub fn bench_plugin(plugin: &mut Plugin, measure_for: Duration) -> Result<PluginFigures, BenchError> {
    const INSTANCES: u32 = 50;
    let tokens = BenchTokens::new(&plugin.info().consumer);
    let throughput = measure_plugin(plugin, &tokens, measure_for)?;
    let keyring = tokens.keyring.clone();
    let verdict = plugin.validate(keyring.clone(), &tokens.requests[0]);
    let fuel_per_call = plugin.last_fuel_used();
    let memory_bytes = plugin.memory_bytes().unwrap_or(0);
    if !verdict.is_accepted() {
        return Err(BenchError::Input(format!("the component refused a valid token: {}", verdict.name())));
    }
    let started = Instant::now();
    for _ in 0..INSTANCES {
        plugin.restart_instance(keyring.clone()).map_err(BenchError::Input)?;
    }
    let instantiation = started.elapsed() / INSTANCES;
    Ok(PluginFigures { throughput, instantiation, memory_bytes, fuel_per_call })
}

/// Loads a component file, timing the load (compile or precompiled cache, first instance).
pub fn load_timed(plugins: &PluginHost, path: &std::path::Path) -> Result<(Plugin, Duration), PluginError> {
    let started = Instant::now();
    let plugin = plugins.load_file(path)?;
    Ok((plugin, started.elapsed()))
}

/// Runs every case of `vectors` through `plugin` and the native reference, with the wall
/// time of each (what `plugin check` prints beside the fuel, for the author's eye).
pub fn run_timed(vectors: &Vectors, plugin: &mut Plugin) -> Vec<(Outcome, Duration)> {
    vectors
        .cases
        .iter()
        .map(|case| {
            let started = Instant::now();
            let outcome = vectors.run_case(plugin, case);
            (outcome, started.elapsed())
        })
        .collect()
}

/// [`TOKENS`] valid access tokens for one consumer, the keys that check them, and the
/// signing key's public half (for the bare verify), minted once per measurement.
pub struct BenchTokens {
    requests: Vec<Request>,
    keyring: Arc<authzlab_host::Keyring>,
    public_der: Vec<u8>,
}

impl BenchTokens {
    pub fn new(consumer: &str) -> BenchTokens {
        let lifetimes = Lifetimes::new(3600, 86_400).expect("an hour and a day are valid lifetimes");
        let mut service = TokenService::new(&Seeds::new(1), lifetimes);
        let now_s = 1_767_571_200;
        let requests: Vec<Request> = (0..TOKENS)
            .map(|n| Request {
                token: service.mint_access(&format!("user-{n}"), "jabber", now_s).token,
                kind: TokenKind::Access,
                now: now_s + 60,
                consumer: consumer.to_string(),
            })
            .collect();
        let public_der = service.keys.signing.public_der().to_vec();
        BenchTokens { requests, keyring: Arc::new(service.keys.keyring()), public_der }
    }
}

/// Throughput of `plugin`, the native reference and a bare RS256 verify, on the same tokens.
pub fn measure_plugin(
    plugin: &mut Plugin,
    tokens: &BenchTokens,
    measure_for: Duration,
) -> Result<Throughput, BenchError> {
    let BenchTokens { requests, keyring, public_der } = tokens;

    // Every contender must accept every token, or the figure would time a shortcut.
    for request in requests {
        let verdict = plugin.validate(keyring.clone(), request);
        if !verdict.is_accepted() {
            return Err(BenchError::Input(format!(
                "the component refused a valid token: {}",
                verdict.name()
            )));
        }
        reference::validate(keyring, request)
            .map_err(|e| BenchError::Input(format!("native refused: {e:?}")))?;
    }
    let verifier = RS256
        .verifier_from_der(public_der)
        .map_err(|e| BenchError::Input(format!("the signing key does not load: {e}")))?;
    let signed: Vec<(Vec<u8>, Vec<u8>)> = requests
        .iter()
        .map(|request| {
            let (input, signature) = request.token.rsplit_once('.').expect("a JWS has three parts");
            let signature =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
                    .expect("our own signature is base64url");
            (input.as_bytes().to_vec(), signature)
        })
        .collect();
    let [component_per_s, native_per_s, raw_verify_per_s] = per_second_interleaved(
        measure_for,
        [
            &mut |n| {
                let verdict = plugin.validate(keyring.clone(), &requests[n % TOKENS]);
                assert!(verdict.is_accepted(), "accepted above");
            },
            &mut |n| {
                assert!(reference::validate(keyring, &requests[n % TOKENS]).is_ok(), "accepted above");
            },
            &mut |n| {
                let (input, signature) = &signed[n % TOKENS];
                assert!(verifier.verify(input, signature).is_ok(), "our own signature verifies");
            },
        ],
    );
    Ok(Throughput { component_per_s, native_per_s, raw_verify_per_s })
}

/// Calls each contender with 0, 1, 2, ... in turns of [`BATCH`] calls, until each has run for
/// `measure_for`; each one's calls per second of its own time. Taking turns, rather than one
/// contender after the other, spreads a shared machine's slow and fast seconds over all of
/// them alike, so their ratio holds still where each figure alone wanders.
fn per_second_interleaved<const N: usize>(
    measure_for: Duration,
    mut contenders: [&mut dyn FnMut(usize); N],
) -> [f64; N] {
    // Warm up: first calls fill caches and, for the component, start the instance.
    for operation in &mut contenders {
        for n in 0..TOKENS {
            operation(n);
        }
    }
    let mut spent = [Duration::ZERO; N];
    let mut done: u64 = 0;
    while spent.iter().any(|spent| *spent < measure_for) {
        for (operation, spent) in contenders.iter_mut().zip(&mut spent) {
            let started = Instant::now();
            for n in done..done + BATCH {
                operation(n as usize);
            }
            *spent += started.elapsed();
        }
        done += BATCH;
    }
    spent.map(|spent| done as f64 / spent.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `plugin bench` runs end to end on a reference plugin and every figure is one: the
    /// component accepted the tokens it was timed on, an instance holds memory and spends
    /// fuel. (What the figures are belongs to the note and the README, not to a test.)
    #[test]
    fn plugin_bench_measures_every_figure() {
        let plugins = PluginHost::new(authzlab_host::Limits::default(), 0).unwrap();
        let artifact = authzlab_plugins::CALLMANAGER_SIP;
        let mut plugin = plugins.load(artifact.name, artifact.bytes).unwrap();
        let figures = bench_plugin(&mut plugin, Duration::from_millis(20)).unwrap();
        assert!(figures.throughput.component_per_s > 0.0 && figures.throughput.native_per_s > 0.0);
        assert!(figures.instantiation > Duration::ZERO);
        assert!(figures.memory_bytes >= 64 * 1024, "{} bytes", figures.memory_bytes);
        assert!(figures.fuel_per_call > 1_000, "{}", figures.fuel_per_call);
        assert!(figures.fuel_per_call < authzlab_host::limits::FUEL_PER_CALL_DEFAULT / 100);
    }
}
