//! Time spent in cryptography, counted per operation, for `authzlab bench`'s figure of how
//! close a run is to its crypto floor (wall time / crypto time).
//!
//! Off unless a thread turns it on: then [`measure`] reads the machine's clock around each
//! operation on that thread. What it measures never reaches a verdict or a trace (the
//! simulation's time is `clock`'s, not this), so a measured run replays like any other.

use std::cell::RefCell;
use std::time::Instant;

/// A kind of cryptographic operation the cluster performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CryptoOp {
    /// AuthZ signs a token (RS256).
    RsaSign,
    /// A consumer or AuthZ verifies a token's signature (RS256).
    RsaVerify,
    /// AuthZ encrypts access-token claims (A128CBC-HS256).
    Encrypt,
    /// A consumer decrypts them.
    Decrypt,
    /// A signing key is made (generated, or loaded from the key pool).
    KeyLoad,
}

impl CryptoOp {
    pub const ALL: [CryptoOp; 5] =
        [CryptoOp::RsaSign, CryptoOp::RsaVerify, CryptoOp::Encrypt, CryptoOp::Decrypt, CryptoOp::KeyLoad];

    pub fn name(self) -> &'static str {
        match self {
            CryptoOp::RsaSign => "RS256 sign",
            CryptoOp::RsaVerify => "RS256 verify",
            CryptoOp::Encrypt => "A128CBC-HS256 encrypt",
            CryptoOp::Decrypt => "A128CBC-HS256 decrypt",
            CryptoOp::KeyLoad => "signing key made",
        }
    }
}

/// Operations of one kind and the time they took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub nanos: u64,
}

thread_local! {
    static METER: RefCell<Option<[Tally; CryptoOp::ALL.len()]>> = const { RefCell::new(None) };
}

/// Starts counting on this thread, from zero.
pub fn start() {
    METER.with(|meter| *meter.borrow_mut() = Some([Tally::default(); CryptoOp::ALL.len()]));
}

/// Stops counting on this thread and gives the tallies, in [`CryptoOp::ALL`] order.
pub fn stop() -> Vec<(CryptoOp, Tally)> {
    let tallies = METER.with(|meter| meter.borrow_mut().take()).unwrap_or_default();
    CryptoOp::ALL.into_iter().zip(tallies).collect()
}

/// Runs `operation`, adding its time to `op`'s tally when this thread is counting.
pub fn measure<T>(op: CryptoOp, operation: impl FnOnce() -> T) -> T {
    let counting = METER.with(|meter| meter.borrow().is_some());
    if !counting {
        return operation();
    }
    let started = Instant::now();
    let result = operation();
    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    METER.with(|meter| {
        if let Some(tallies) = meter.borrow_mut().as_mut() {
            let tally = &mut tallies[op as usize];
            tally.count += 1;
            tally.nanos = tally.nanos.saturating_add(nanos);
        }
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_counting_thread_counts_and_stop_resets() {
        assert_eq!(measure(CryptoOp::RsaSign, || 7), 7);
        assert!(stop().iter().all(|(_, tally)| tally.count == 0), "off by default");
        start();
        measure(CryptoOp::Decrypt, || ());
        measure(CryptoOp::Decrypt, || ());
        let tallies = stop();
        assert_eq!(tallies[CryptoOp::Decrypt as usize], (CryptoOp::Decrypt, tallies[3].1));
        assert_eq!(tallies[3].1.count, 2);
        assert_eq!(tallies[0].1.count, 0);
        assert!(stop().iter().all(|(_, tally)| tally.count == 0), "stopped");
    }
}
