//! `X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body under the webhook secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// Why a signature was refused (all answered 401; the distinction is for logs and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    Missing,
    /// Not `sha256=` followed by 64 hex digits (e.g. a `sha1=` signature).
    Malformed,
    /// Well formed, but not the HMAC of this body under our secret.
    Mismatch,
}

/// The webhook secret, keyed into an HMAC state once and cloned per request.
#[derive(Clone)]
pub struct WebhookVerifier {
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookVerifier([redacted])")
    }
}

impl WebhookVerifier {
    pub fn new(secret: &[u8]) -> WebhookVerifier {
        WebhookVerifier {
            keyed: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length"),
        }
    }

    /// Checks `header` (the raw `X-Hub-Signature-256` value) against `body` in constant time.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_digest = header
            .strip_prefix(b"sha256=")
            .ok_or(SignatureError::Malformed)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;
        let mut mac = self.keyed.clone();
        mac.update(body);
        mac.verify_slice(&expected)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// The header value GitHub would send for `body` (`sha256=<hex>`); used by tests and stand-ins.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.keyed.clone();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello, World!";
    const GITHUB_VECTOR: &[u8] =
        b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_documented_vector() {
        let verifier = WebhookVerifier::new(SECRET);
        assert_eq!(verifier.verify(Some(GITHUB_VECTOR), BODY), Ok(()));
        assert_eq!(verifier.sign(BODY).as_bytes(), GITHUB_VECTOR);
    }

    #[test]
    fn refusals() {
        let verifier = WebhookVerifier::new(SECRET);
        assert_eq!(verifier.verify(None, BODY), Err(SignatureError::Missing));
        assert_eq!(
            verifier.verify(Some(b"sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verifier.verify(Some(&GITHUB_VECTOR[..GITHUB_VECTOR.len() - 2]), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verifier.verify(Some(GITHUB_VECTOR), b"Hello, World?"),
            Err(SignatureError::Mismatch)
        );
        let other = WebhookVerifier::new(b"another secret");
        assert_eq!(
            other.verify(Some(GITHUB_VECTOR), BODY),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let debug = format!("{:?}", WebhookVerifier::new(SECRET));
        assert!(!debug.contains("Secret"), "{debug}");
    }
}
