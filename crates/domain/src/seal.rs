//! What the server hands out and must get back unaltered (list cursors): the bytes, then an
//! HMAC-SHA256 tag over them, in URL-safe base64. The key is derived from the server's secret
//! (the JWT secret) for this one use, so a cursor tag can never stand for a token signature.
//! Every server sharing the secret opens every other's; a byte altered anywhere, or a token
//! made without the key, does not open.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Bytes of the tag kept: 128 bits.
const TAG: usize = 16;

/// Seals and opens tokens with a key of this server's.
#[derive(Clone)]
pub struct Seal {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    /// A seal keyed by `secret`, for `purpose` (each purpose its own key).
    #[must_use]
    pub fn new(secret: &[u8], purpose: &str) -> Self {
        let mut derive = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        derive.update(b"gallery seal v1\0");
        derive.update(purpose.as_bytes());
        let key = derive.finalize().into_bytes();
        Self { mac: Hmac::new_from_slice(&key).expect("HMAC takes a key of any length") }
    }

    /// `bytes` and their tag, as text for a URL.
    #[must_use]
    pub fn seal(&self, bytes: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(bytes);
        let tag = mac.finalize().into_bytes();
        let mut sealed = bytes.to_vec();
        sealed.extend_from_slice(&tag[..TAG]);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The bytes `raw` was sealed over, when this seal made it and nothing in it changed.
    #[must_use]
    pub fn open(&self, raw: &str) -> Option<Vec<u8>> {
        let mut bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let at = bytes.len().checked_sub(TAG)?;
        let mut mac = self.mac.clone();
        mac.update(&bytes[..at]);
        // In constant time.
        mac.verify_truncated_left(&bytes[at..]).ok()?;
        bytes.truncate(at);
        Some(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_to_its_bytes_with_the_same_key_only() {
        let seal = Seal::new(b"a secret of the server", "cursor");
        let token = seal.seal(b"page after 42");
        assert_eq!(seal.open(&token).as_deref(), Some(&b"page after 42"[..]));
        assert_eq!(Seal::new(b"a secret of the server", "cursor").open(&token).as_deref(), Some(&b"page after 42"[..]));
        assert_eq!(Seal::new(b"another secret", "cursor").open(&token), None);
        assert_eq!(Seal::new(b"a secret of the server", "export").open(&token), None, "a key per purpose");
    }

    #[test]
    fn any_altered_byte_does_not_open() {
        let seal = Seal::new(b"k", "cursor");
        let raw = URL_SAFE_NO_PAD.decode(seal.seal(b"the cursor's bytes")).unwrap();
        for i in 0..raw.len() {
            for flip in [1u8, 0x80] {
                let mut altered = raw.clone();
                altered[i] ^= flip;
                assert_eq!(seal.open(&URL_SAFE_NO_PAD.encode(&altered)), None, "byte {i}");
            }
        }
        for raw in ["", "!!", "AAAA", &seal.seal(b"x")[1..]] {
            assert_eq!(seal.open(raw), None, "{raw}");
        }
    }
}
