//! Opaque refresh tokens: 256 random bits, stored as SHA-256 digests, and
//! rotated into successors derived with HMAC-SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use platform_auth_domain::{RefreshTokenMinter, Secret};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Separates the successor key from other uses of the signing secret.
const SUCCESSOR_KEY_LABEL: &[u8] = b"platform-auth refresh-token successor v1";

/// Mints refresh tokens. A token's successor is HMAC-SHA-256 of the token
/// under a key derived from the signing secret. Without the secret it is as
/// unpredictable as a random token, and the server can recompute it for a
/// retried refresh without storing it.
pub struct HmacRefreshTokens {
    successor_key: [u8; 32],
}

impl HmacRefreshTokens {
    pub fn new(secret: &Secret<String>) -> Self {
        let mut derivation = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        derivation.update(SUCCESSOR_KEY_LABEL);
        Self {
            successor_key: derivation.finalize().into_bytes().into(),
        }
    }
}

impl RefreshTokenMinter for HmacRefreshTokens {
    fn generate(&self) -> Secret<String> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Secret::new(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn successor(&self, token: &str) -> Secret<String> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.successor_key)
            .expect("HMAC accepts keys of any length");
        mac.update(token.as_bytes());
        Secret::new(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    fn digest(&self, token: &str) -> String {
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minter(secret: &str) -> HmacRefreshTokens {
        HmacRefreshTokens::new(&Secret::new(secret.to_string()))
    }

    #[test]
    fn generated_tokens_carry_256_bits() {
        let minter = minter("secret");

        let first = minter.generate();
        let second = minter.generate();

        let decoded = URL_SAFE_NO_PAD.decode(first.expose()).unwrap();
        assert_eq!(decoded.len(), 32);
        assert_ne!(first, second);
    }

    #[test]
    fn successor_is_deterministic_per_secret() {
        let token = "a-refresh-token";

        let first = minter("secret").successor(token);
        let again = minter("secret").successor(token);
        let other_secret = minter("another").successor(token);

        assert_eq!(first, again);
        assert_ne!(first, other_secret);
        assert_ne!(first.expose(), token);
        assert_eq!(URL_SAFE_NO_PAD.decode(first.expose()).unwrap().len(), 32);
    }

    #[test]
    fn digest_is_sha256_hex() {
        // SHA-256 of "abc", FIPS 180-2 appendix B.1.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

        assert_eq!(minter("secret").digest("abc"), expected);
    }
}
