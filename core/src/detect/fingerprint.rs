//! Keyed finding fingerprints.
//!
//! A fingerprint is a BLAKE3 keyed hash of (rule id, secret), truncated to 128 bits and written in
//! hex. It is stable across runs, blobs and paths (so the same leaked secret groups together),
//! differs between rules, and no secret can be recovered from it. Callers may supply their own
//! key so fingerprints from different deployments cannot be correlated.

/// The library's default key (derived from a fixed context string).
pub fn default_key() -> [u8; 32] {
    blake3::derive_key("libscangit 2026 finding fingerprint v1", b"")
}

pub fn fingerprint(key: &[u8; 32], rule_id: &str, secret: &[u8]) -> String {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&(rule_id.len() as u64).to_le_bytes());
    h.update(rule_id.as_bytes());
    h.update(secret);
    let out = h.finalize();
    out.as_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_keyed_and_rule_scoped() {
        let k = default_key();
        let a = fingerprint(&k, "github-pat", b"ghp_abc");
        assert_eq!(a, fingerprint(&k, "github-pat", b"ghp_abc"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, fingerprint(&k, "generic", b"ghp_abc"));
        assert_ne!(a, fingerprint(&[7; 32], "github-pat", b"ghp_abc"));
        assert!(!a.contains("abc"));
    }
}
