//! The hybrid encryption of `pkg/crypto/crypto.go`, byte for byte.
//!
//! ```text
//! u16be(L) ‖ RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session key) [L bytes] ‖ AES-256-GCM(session key,
//! nonce = 12 zero bytes, no AAD)(plaintext) ‖ 16-byte tag
//! ```

use crate::SealError;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use zeroize::{Zeroize, Zeroizing};

/// Bytes of the AES-256 session key.
pub const SESSION_KEY_LEN: usize = 32;
/// Bytes of the GCM tag.
pub const TAG_LEN: usize = 16;

fn label_opt(label: &[u8]) -> Option<&[u8]> {
    // Go's EncryptOAEP hashes an empty label exactly like no label.
    if label.is_empty() { None } else { Some(label) }
}

/// Encrypts `plaintext` for the holder of `key`'s private half, bound to `label`.
pub fn hybrid_encrypt(
    key: &PublicEncryptingKey,
    plaintext: &[u8],
    label: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    aws_lc_rs::rand::fill(&mut session_key[..])
        .map_err(|_| SealError::Crypto("random session key"))?;

    let oaep =
        OaepPublicEncryptingKey::new(key.clone()).map_err(|_| SealError::Crypto("RSA-OAEP key"))?;
    let rsa_len = oaep.ciphertext_size();
    let rsa_len_u16 = u16::try_from(rsa_len).map_err(|_| SealError::Crypto("RSA key too large"))?;

    let mut out = Vec::with_capacity(2 + rsa_len + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&rsa_len_u16.to_be_bytes());
    out.resize(2 + rsa_len, 0);
    let written = oaep
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &session_key[..],
            &mut out[2..],
            label_opt(label),
        )
        .map_err(|_| SealError::Crypto("RSA-OAEP encryption"))?
        .len();
    if written != rsa_len {
        return Err(SealError::Crypto("RSA-OAEP output size"));
    }

    let gcm = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &session_key[..])
            .map_err(|_| SealError::Crypto("AES-256-GCM key"))?,
    );
    // The plaintext is copied straight into the output buffer and encrypted in place there.
    out.extend_from_slice(plaintext);
    let body = 2 + rsa_len;
    match gcm.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
        Aad::empty(),
        &mut out[body..],
    ) {
        Ok(tag) => {
            out.extend_from_slice(tag.as_ref());
            Ok(out)
        }
        Err(_) => {
            out.zeroize();
            Err(SealError::Crypto("AES-256-GCM encryption"))
        }
    }
}

/// Why one key could not open one value. Deliberately coarse: OAEP failures must not be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than its own length prefix says, or the length does not match the key.
    Malformed,
    /// The RSA part does not decrypt with this key and label, or the GCM tag does not verify.
    Rejected,
}

/// Decrypts one blob with one private key and the scope label.
pub fn hybrid_decrypt(
    key: &PrivateDecryptingKey,
    blob: &[u8],
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if blob.len() < 2 {
        return Err(OpenError::Malformed);
    }
    let rsa_len = u16::from_be_bytes([blob[0], blob[1]]) as usize;
    if blob.len() < 2 + rsa_len + TAG_LEN {
        return Err(OpenError::Malformed);
    }
    let (rsa_ct, gcm_ct) = blob[2..].split_at(rsa_len);
    if rsa_len != key.key_size_bytes() {
        return Err(OpenError::Rejected);
    }
    let oaep = OaepPrivateDecryptingKey::new(key.clone()).map_err(|_| OpenError::Rejected)?;
    let mut session_key = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
    let n = oaep
        .decrypt(
            &OAEP_SHA256_MGF1SHA256,
            rsa_ct,
            &mut session_key,
            label_opt(label),
        )
        .map_err(|_| OpenError::Rejected)?
        .len();
    if n != SESSION_KEY_LEN {
        return Err(OpenError::Rejected);
    }
    let gcm = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &session_key[..n]).map_err(|_| OpenError::Rejected)?,
    );
    let mut buf = Zeroizing::new(gcm_ct.to_vec());
    let len = gcm
        .open_in_place(
            Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
            Aad::empty(),
            &mut buf,
        )
        .map_err(|_| OpenError::Rejected)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::KeySize;

    fn key() -> PrivateDecryptingKey {
        PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap()
    }

    #[test]
    fn layout_is_length_rsa_gcm_tag() {
        let k = key();
        let blob = hybrid_encrypt(&k.public_key(), b"hello", b"ns/name").unwrap();
        assert_eq!(&blob[..2], &256u16.to_be_bytes());
        assert_eq!(blob.len(), 2 + 256 + 5 + TAG_LEN);
        assert_eq!(
            &hybrid_decrypt(&k, &blob, b"ns/name").unwrap()[..],
            b"hello"
        );
    }

    #[test]
    fn every_value_gets_a_fresh_session_key() {
        let k = key();
        let a = hybrid_encrypt(&k.public_key(), b"same", b"l").unwrap();
        let b = hybrid_encrypt(&k.public_key(), b"same", b"l").unwrap();
        assert_ne!(
            a[2 + 256..],
            b[2 + 256..],
            "GCM parts must differ (fresh key)"
        );
    }

    #[test]
    fn wrong_label_and_tampering_fail() {
        let k = key();
        let blob = hybrid_encrypt(&k.public_key(), b"value", b"ns/name").unwrap();
        assert_eq!(
            hybrid_decrypt(&k, &blob, b"ns/other"),
            Err(OpenError::Rejected)
        );
        assert_eq!(hybrid_decrypt(&k, &blob, b""), Err(OpenError::Rejected));
        for i in [2, 100, 2 + 256, blob.len() - 1] {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            assert_eq!(
                hybrid_decrypt(&k, &t, b"ns/name"),
                Err(OpenError::Rejected),
                "byte {i}"
            );
        }
        assert_eq!(
            hybrid_decrypt(&k, &blob[..10], b"ns/name"),
            Err(OpenError::Malformed)
        );
        assert_eq!(
            hybrid_decrypt(&k, &[], b"ns/name"),
            Err(OpenError::Malformed)
        );
        let other = key();
        assert_eq!(
            hybrid_decrypt(&other, &blob, b"ns/name"),
            Err(OpenError::Rejected)
        );
    }
}
