//! The AuthZ keys a CallManager node holds, as `show key authz` reports them: each key's
//! checksum and when it was last synced. The two keys are synced independently (docs/domain.md:
//! on one node the signing key was last synced on 06/09/2017 and the encryption key on
//! 06/14/2017), so each keeps its own time, which changes only when that key changes.

use authzlab_host::{KeyChecksum, Keyring};

use crate::tokens::KeyKind;

/// One key as a node holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldKey {
    pub checksum: KeyChecksum,
    /// UNIX seconds (the node's clock) at which this key arrived.
    pub synced_at_s: u64,
}

/// Both keys of a node, once it has received any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldKeys {
    pub signing: Option<HeldKey>,
    pub encryption: Option<HeldKey>,
}

impl HeldKeys {
    /// Records the keys of `keyring` received at `now_s`: a key whose checksum did not
    /// change keeps its earlier sync time.
    pub fn sync(&mut self, keyring: &Keyring, now_s: u64) {
        let update =
            |held: &mut Option<HeldKey>, checksum: Option<KeyChecksum>| match (held.as_ref(), checksum) {
                (Some(before), Some(checksum)) if before.checksum == checksum => {}
                (_, Some(checksum)) => *held = Some(HeldKey { checksum, synced_at_s: now_s }),
                (_, None) => *held = None,
            };
        update(&mut self.signing, keyring.signing_keys().next().map(|(_, checksum)| checksum));
        update(&mut self.encryption, keyring.encryption_keys().next().map(|(_, checksum)| checksum));
    }

    pub fn get(&self, kind: KeyKind) -> Option<HeldKey> {
        match kind {
            KeyKind::Signing => self.signing,
            KeyKind::Encryption => self.encryption,
        }
    }

    /// What `show key authz signing|encryption` prints on this node, in the documents'
    /// words: `authz signing key with checksum: a155d81b… last synced on: 06/09/2017
    /// 13:04:47`, in the cluster's local time (`utc_offset_s` from `[cluster] time_zone`), as
    /// the platform CLI prints its times.
    pub fn show(&self, kind: KeyKind, utc_offset_s: i64) -> String {
        match self.get(kind) {
            Some(held) => format!(
                "authz {kind} key with checksum: {} last synced on: {}",
                held.checksum.show(),
                show_time(held.synced_at_s.saturating_add_signed(utc_offset_s))
            ),
            None => format!("authz {kind} key: none synced"),
        }
    }
}

/// `MM/DD/YYYY HH:MM:SS`, as the CLI prints it.
fn show_time(unix_s: u64) -> String {
    let Some(at) = crate::clock::calendar(unix_s) else { return format!("@{unix_s}") };
    format!(
        "{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
        u8::from(at.month()),
        at.day(),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pool signing key (the same each time) and an encryption key of `encryption` bytes.
    fn keyring(encryption: u8) -> Keyring {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let signing = crate::key_pool::KeyDraw::new(&mut rng).next_signing_key();
        let mut keyring = Keyring::new("cluster");
        keyring
            .add_signing_key_der(&format!("cluster:{}", signing.checksum()), signing.public_der())
            .unwrap();
        keyring.add_encryption_key(&format!("cluster:enc{encryption}"), &[encryption; 32]).unwrap();
        keyring
    }

    #[test]
    fn each_key_keeps_its_own_sync_time_and_prints_as_the_documents_show() {
        let mut held = HeldKeys::default();
        assert_eq!(held.show(KeyKind::Signing, 0), "authz signing key: none synced");
        // 06/09/2017 13:04:47 UTC, the documents' example time.
        let first = 1_497_013_487;
        held.sync(&keyring(1), first);
        let signing = held.show(KeyKind::Signing, 0);
        assert!(signing.starts_with("authz signing key with checksum: "), "{signing}");
        assert!(signing.ends_with(" last synced on: 06/09/2017 13:04:47"), "{signing}");
        let checksum = signing.split_whitespace().nth(5).unwrap();
        assert_eq!(checksum.len(), 32, "{signing}");

        // Five days later only the encryption key changes.
        let later = first + 5 * 86_400 + 3_079;
        held.sync(&keyring(2), later);
        assert_eq!(held.show(KeyKind::Signing, 0), signing, "the signing key did not change");
        assert!(held.show(KeyKind::Encryption, 0).ends_with("last synced on: 06/14/2017 13:56:06"));
        // In a cluster two hours ahead of UTC the CLI prints local time, across midnight too.
        assert!(held.show(KeyKind::Encryption, 2 * 3600).ends_with("last synced on: 06/14/2017 15:56:06"));
        assert!(held.show(KeyKind::Encryption, -14 * 3600).ends_with("last synced on: 06/13/2017 23:56:06"));
        assert_ne!(held.get(KeyKind::Encryption).unwrap().checksum.show().to_string(), checksum);
    }
}
