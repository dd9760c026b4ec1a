//! A small PEM scanner: every `-----BEGIN X-----` … `-----END X-----` block, in order.

use base64::Engine as _;
use zeroize::Zeroizing;

pub struct PemBlock {
    pub label: String,
    pub der: Zeroizing<Vec<u8>>,
    /// The block's text, from BEGIN to END (inclusive), with a trailing newline.
    pub text: String,
}

/// Every PEM block in `input`. A block whose body is not valid base64 is an error naming its label
/// (never its content).
pub fn blocks(input: &str) -> Result<Vec<PemBlock>, String> {
    let mut out = Vec::new();
    let mut rest = input;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err("a PEM BEGIN line is not terminated".into());
        };
        let label = after[..label_end].trim().to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body_start.find(&end_marker) else {
            return Err(format!("the PEM block `{label}` has no END line"));
        };
        let body = &body_start[..end];
        let b64: Zeroizing<String> = Zeroizing::new(
            body.lines()
                .filter(|l| !l.contains(':')) // RFC 1421 headers (Proc-Type, DEK-Info)
                .flat_map(|l| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect(),
        );
        if body.contains("DEK-Info:") {
            return Err(format!(
                "the PEM block `{label}` is encrypted with a passphrase; decrypt it first (openssl rsa -in KEY -out -)"
            ));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| format!("the PEM block `{label}` is not valid base64"))?;
        let total_end = start + "-----BEGIN ".len() + label_end + 5 + end + end_marker.len();
        let text = format!("{}\n", &rest[start..total_end]);
        out.push(PemBlock {
            label,
            der: Zeroizing::new(der),
            text,
        });
        rest = &rest[total_end..];
    }
    Ok(out)
}

/// Wraps a PKCS#1 `RSAPrivateKey` into a PKCS#8 `PrivateKeyInfo` (rsaEncryption, NULL parameters).
pub(crate) fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    const VERSION: [u8; 3] = [0x02, 0x01, 0x00];
    const ALG: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut octet = Zeroizing::new(Vec::with_capacity(pkcs1.len() + 4));
    octet.push(0x04);
    der_len(&mut octet, pkcs1.len());
    octet.extend_from_slice(pkcs1);
    let inner = VERSION.len() + ALG.len() + octet.len();
    let mut out = Zeroizing::new(Vec::with_capacity(inner + 4));
    out.push(0x30);
    der_len(&mut out, inner);
    out.extend_from_slice(&VERSION);
    out.extend_from_slice(&ALG);
    out.extend_from_slice(&octet);
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encodes DER bytes as one PEM block.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_in_order_and_skips_text_between() {
        let input = "junk\n-----BEGIN A-----\nAAEC\n-----END A-----\nmore\n-----BEGIN B C-----\nAw==\n-----END B C-----\n";
        let b = blocks(input).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "A");
        assert_eq!(&b[0].der[..], &[0, 1, 2]);
        assert_eq!(b[1].label, "B C");
        assert_eq!(&b[1].der[..], &[3]);
        assert!(
            b[0].text.starts_with("-----BEGIN A-----") && b[0].text.ends_with("-----END A-----\n")
        );
    }

    #[test]
    fn missing_end_and_bad_base64_are_errors() {
        assert!(blocks("-----BEGIN A-----\nAAEC\n").is_err());
        assert!(blocks("-----BEGIN A-----\n!!!!\n-----END A-----\n").is_err());
    }

    #[test]
    fn der_lengths() {
        let mut v = Vec::new();
        der_len(&mut v, 5);
        der_len(&mut v, 0x80);
        der_len(&mut v, 0x1234);
        assert_eq!(v, vec![5, 0x81, 0x80, 0x82, 0x12, 0x34]);
    }
}
