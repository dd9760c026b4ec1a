//! The controller's certificate: the public half of its newest sealing key.

use crate::{SealError, pem};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicEncryptingKey;
use std::time::SystemTime;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

/// A parsed sealing certificate (or bare public key).
#[derive(Debug, Clone)]
pub struct SealingCert {
    key: PublicEncryptingKey,
    pem: String,
    subject: String,
    not_before: Option<(SystemTime, String)>,
    not_after: Option<(SystemTime, String)>,
    source_name: String,
}

impl SealingCert {
    /// Parses the **first** `CERTIFICATE` block (like kubeseal's `ParseKey`), or a `PUBLIC KEY` block.
    /// `source_name` (a path, URL or `the cluster`) is used in messages.
    pub fn from_pem(input: &[u8], source_name: &str) -> Result<Self, SealError> {
        let bad = |reason: String| SealError::BadCert {
            source_name: source_name.to_string(),
            reason,
        };
        let text = std::str::from_utf8(input).map_err(|_| bad("not PEM text".into()))?;
        let blocks = pem::blocks(text).map_err(bad)?;
        let Some(block) = blocks
            .iter()
            .find(|b| b.label == "CERTIFICATE" || b.label == "PUBLIC KEY")
        else {
            return Err(bad(if blocks.is_empty() {
                "no PEM block found".into()
            } else {
                format!(
                    "no CERTIFICATE block (found {})",
                    blocks
                        .iter()
                        .map(|b| b.label.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }));
        };
        if block.label == "PUBLIC KEY" {
            let key = PublicEncryptingKey::from_der(&block.der)
                .map_err(|e| bad(format!("not an RSA public key ({e})")))?;
            return Ok(SealingCert {
                key,
                pem: block.text.clone(),
                subject: "(bare public key)".into(),
                not_before: None,
                not_after: None,
                source_name: source_name.to_string(),
            });
        }
        let cert = Certificate::from_der(&block.der)
            .map_err(|e| bad(format!("not an X.509 certificate ({e})")))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| bad(format!("unreadable public key ({e})")))?;
        let key = PublicEncryptingKey::from_der(&spki).map_err(|e| {
            bad(format!(
                "the certificate's key is not an RSA key of 2048–8192 bits ({e})"
            ))
        })?;
        let validity = tbs.validity();
        let t =
            |time: &x509_cert::time::Time| (time.to_system_time(), time.to_date_time().to_string());
        Ok(SealingCert {
            key,
            pem: block.text.clone(),
            subject: tbs.subject().to_string(),
            not_before: Some(t(&validity.not_before)),
            not_after: Some(t(&validity.not_after)),
            source_name: source_name.to_string(),
        })
    }

    /// Refuses a certificate that is expired (or not yet valid) at `now`, like kubeseal.
    pub fn ensure_valid_at(&self, now: SystemTime) -> Result<(), SealError> {
        if let Some((after, text)) = &self.not_after
            && now > *after
        {
            return Err(SealError::ExpiredCert {
                source_name: self.source_name.clone(),
                not_after: text.clone(),
                subject: self.subject.clone(),
            });
        }
        if let Some((before, text)) = &self.not_before
            && now < *before
        {
            return Err(SealError::CertNotYetValid {
                source_name: self.source_name.clone(),
                not_before: text.clone(),
            });
        }
        Ok(())
    }

    pub fn public_key(&self) -> &PublicEncryptingKey {
        &self.key
    }

    /// The PEM block that was used (what `--fetch-cert` prints).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `notAfter` as RFC 3339, when this is a certificate.
    pub fn not_after(&self) -> Option<&str> {
        self.not_after.as_ref().map(|(_, s)| s.as_str())
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub fn key_bits(&self) -> usize {
        self.key.key_size_bits()
    }

    /// `sha256:` and the hex SHA-256 of the public key's SubjectPublicKeyInfo DER (the same as
    /// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

pub(crate) fn fingerprint(key: &PublicEncryptingKey) -> String {
    match key.as_der() {
        Ok(der) => {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der.as_ref());
            let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        }
        Err(_) => "sha256:?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};

    #[test]
    fn bare_public_key_is_accepted_without_validity() {
        let k = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let der = k.public_key().as_der().unwrap();
        let pem = pem::encode("PUBLIC KEY", der.as_ref());
        let c = SealingCert::from_pem(pem.as_bytes(), "test").unwrap();
        assert_eq!(c.key_bits(), 2048);
        assert!(c.not_after().is_none());
        c.ensure_valid_at(SystemTime::now()).unwrap();
        assert!(c.fingerprint().starts_with("sha256:") && c.fingerprint().len() == 7 + 64);
    }

    #[test]
    fn garbage_is_a_bad_cert() {
        for input in [
            &b"hello"[..],
            b"-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &[0xff, 0xfe],
        ] {
            let e = SealingCert::from_pem(input, "x.pem").unwrap_err();
            assert!(matches!(e, SealError::BadCert { .. }), "{e}");
            assert!(e.is_bad_input());
        }
    }
}
