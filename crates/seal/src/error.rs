//! Errors. None of them carries a secret value: messages name keys, files and variables only.

use crate::Scope;
use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum SealError {
    #[error("cannot read the sealing certificate from {source_name}: {reason}")]
    #[diagnostic(
        code(berth::seal::bad_cert),
        help(
            "pass the controller's certificate (`kubeseal --fetch-cert` or `berth seal --fetch-cert` prints it): a PEM `CERTIFICATE` block with an RSA key"
        )
    )]
    BadCert { source_name: String, reason: String },

    #[error(
        "the sealing certificate from {source_name} expired on {not_after} (subject {subject})"
    )]
    #[diagnostic(
        code(berth::seal::expired_cert),
        help(
            "the controller renews its key every 30 days; fetch the current certificate (`berth seal --fetch-cert > cert.pem`) and seal again"
        )
    )]
    ExpiredCert {
        source_name: String,
        not_after: String,
        subject: String,
    },

    #[error("the sealing certificate from {source_name} is not valid before {not_before}")]
    #[diagnostic(
        code(berth::seal::cert_not_yet_valid),
        help("check this machine's clock, or fetch the certificate again")
    )]
    CertNotYetValid {
        source_name: String,
        not_before: String,
    },

    #[error("the {scope} scope needs a {missing}")]
    #[diagnostic(
        code(berth::seal::scope_identity),
        help("pass -n NAMESPACE and --name NAME, or seal with --scope cluster-wide")
    )]
    ScopeNeedsIdentity { scope: Scope, missing: &'static str },

    #[error("encryption failed ({0})")]
    #[diagnostic(code(berth::seal::crypto))]
    Crypto(&'static str),

    #[error("{0}")]
    #[diagnostic(code(berth::seal::bad_value_arg), help("{help}", help = crate::values::VALUE_ARG_HELP))]
    BadValueArg(String),

    #[error("cannot read the value of `{key}` from {from}: {reason}")]
    #[diagnostic(code(berth::seal::value_unreadable))]
    ValueUnreadable {
        key: String,
        from: String,
        reason: String,
    },

    #[error("{source_name} is not a Secret manifest berth can seal: {reason}")]
    #[diagnostic(
        code(berth::seal::bad_secret),
        help(
            "expected one `apiVersion: v1`, `kind: Secret` object with `data` (base64) and/or `stringData`, e.g. from `kubectl create secret generic NAME --from-file=... --dry-run=client -o yaml`"
        )
    )]
    BadSecret { source_name: String, reason: String },

    #[error("{source_name} is not a SealedSecret berth can unseal: {reason}")]
    #[diagnostic(
        code(berth::seal::bad_sealed_secret),
        help(
            "expected one `apiVersion: bitnami.com/v1alpha1`, `kind: SealedSecret` object with `spec.encryptedData`"
        )
    )]
    BadSealedSecret { source_name: String, reason: String },

    #[error("{source_name} holds no RSA private key berth can use: {reason}")]
    #[diagnostic(
        code(berth::seal::bad_private_key),
        help(
            "pass a PEM private key (`RSA PRIVATE KEY` or `PRIVATE KEY`) or the controller's key Secrets: `kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`"
        )
    )]
    BadPrivateKey { source_name: String, reason: String },

    #[error("no private key could decrypt {what}")]
    #[diagnostic(
        code(berth::seal::no_key_decrypts),
        help(
            "tried {tried} key(s). Either the value was sealed with another controller key, or the SealedSecret's name, namespace or scope annotation differs from when it was sealed (the scope label is part of the encryption)"
        )
    )]
    NoKeyDecrypts { what: String, tried: usize },

    #[error("cannot fetch the sealing certificate: {0}")]
    #[diagnostic(
        code(berth::seal::fetch),
        help(
            "pass --cert FILE|URL (or set SEALED_SECRETS_CERT), or check --kubeconfig/--context and --controller-name/--controller-namespace"
        )
    )]
    Fetch(String),
}

impl SealError {
    /// Whether the user's input (flags, files, manifests) is at fault: the CLI exits 2 for these.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SealError::BadCert { .. }
                | SealError::ExpiredCert { .. }
                | SealError::CertNotYetValid { .. }
                | SealError::ScopeNeedsIdentity { .. }
                | SealError::BadValueArg(_)
                | SealError::ValueUnreadable { .. }
                | SealError::BadSecret { .. }
                | SealError::BadSealedSecret { .. }
                | SealError::BadPrivateKey { .. }
        )
    }
}

/// Removes quoted fragments from a parser's message: serde puts the offending *value* between quotes
/// or backticks (`invalid type: string "hunter2", expected a map`), and that value may be a secret.
pub(crate) fn scrub(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' => {
                let close = c;
                out.push(c);
                out.push('…');
                for d in chars.by_ref() {
                    if d == close {
                        break;
                    }
                }
                out.push(close);
            }
            _ => out.push(c),
        }
    }
    // Multi-line messages may carry a source snippet: keep the first line only.
    out.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_hides_quoted_values_and_snippets() {
        let m =
            scrub("invalid type: string \"hunter2\", expected a map at line 3\n 3 | data: hunter2");
        assert!(!m.contains("hunter2"), "{m}");
        assert!(m.contains("expected a map"));
        assert!(!scrub("unknown field `hunter2`").contains("hunter2"));
    }
}
