//! Per-call limits for every plugin a host loads: fuel and linear memory. Kept apart from
//! the plugin host so that manifests (which pin them) and the host both read them from here.

/// Fuel for one `validate` call. Measured: the unity-connection validator spends well under
/// 1% of this on a valid access token (`authzlab plugin check` prints the figure), so only a
/// runaway plugin meets it; at ~1 ns a unit it stops one in a fraction of a second.
pub const FUEL_PER_CALL_DEFAULT: u64 = 200_000_000;
/// Linear memory a plugin instance may hold. Token validation needs a few hundred KiB.
pub const MEMORY_BYTES_MAX_DEFAULT: usize = 32 << 20;
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
