//! kubeseal-compatible sealing and offline unsealing.
//!
//! The wire format is exactly the Bitnami Sealed Secrets controller's (`pkg/crypto/crypto.go`):
//! per value a fresh 32-byte AES-256-GCM session key (12-byte zero nonce, no AAD), the session key
//! wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256) whose label is the scope (`namespace/name`,
//! `namespace` or empty), laid out as `u16be(len(rsa)) ‖ rsa ‖ gcm ciphertext ‖ tag`, base64 (standard,
//! padded). See `docs/secrets.md`.
//!
//! The API is pure: a renderer calls [`seal_value`] for each value and [`SealedSecret::new`] to build
//! the object; the CLI adds the IO (files, environment, stdin, the cluster).
//!
//! Plaintext is held in [`zeroize::Zeroizing`] buffers and never appears in an error message.

pub mod cert;
pub mod crypto;
pub mod error;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod object;
pub mod pem;
pub mod scope;
pub mod secret;
pub mod unseal;
pub mod values;

pub use cert::SealingCert;
pub use error::SealError;
pub use object::{SealedSecret, SecretTemplate};
pub use scope::Scope;
pub use secret::PlainSecret;
pub use unseal::{RecoveryKey, UnsealedSecret};

pub use zeroize::Zeroizing;

use base64::Engine as _;

/// Seals one value for `namespace`/`name` under `scope` and returns the base64 text that goes into
/// `spec.encryptedData` (or that `kubeseal --raw` prints).
///
/// This does not check the certificate's validity period: call [`SealingCert::ensure_valid_at`] once
/// when the certificate is loaded.
pub fn seal_value(
    cert: &SealingCert,
    scope: Scope,
    namespace: &str,
    name: &str,
    plaintext: &[u8],
) -> Result<String, SealError> {
    let label = scope.label(namespace, name)?;
    let blob = crypto::hybrid_encrypt(cert.public_key(), plaintext, &label)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(blob))
}
