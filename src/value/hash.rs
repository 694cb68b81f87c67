//! A small, stable, dependency-free hasher.

/// 64-bit FNV-1a: the content hash of pod templates (`k8s::content_hash`), and the hasher of
/// lookup tables keyed by short strings, for which it is far cheaper than the default SipHash. Such
/// a table (the YAML writer's, of at most a few thousand entries) gains nothing from SipHash's
/// resistance to chosen collisions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
