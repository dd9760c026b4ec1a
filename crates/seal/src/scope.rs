//! Sealing scopes and their RSA-OAEP labels (`EncryptionLabel` in sealed-secrets).

use crate::SealError;
use indexmap::IndexMap;
use std::fmt;
use std::str::FromStr;

/// Annotation that selects the namespace-wide scope.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// Annotation that selects the cluster-wide scope.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";

/// Where a sealed value may be unsealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Scope {
    /// Only as a Secret of this exact name in this exact namespace (label `namespace/name`).
    #[default]
    Strict,
    /// As a Secret of any name in this namespace (label `namespace`).
    NamespaceWide,
    /// As a Secret of any name in any namespace (empty label).
    ClusterWide,
}

impl Scope {
    /// The RSA-OAEP label. `strict` needs a namespace and a name, `namespace-wide` a namespace.
    pub fn label(self, namespace: &str, name: &str) -> Result<Vec<u8>, SealError> {
        match self {
            Scope::Strict => {
                if namespace.is_empty() || name.is_empty() {
                    return Err(SealError::ScopeNeedsIdentity {
                        scope: self,
                        missing: if namespace.is_empty() {
                            "namespace"
                        } else {
                            "name"
                        },
                    });
                }
                Ok(format!("{namespace}/{name}").into_bytes())
            }
            Scope::NamespaceWide => {
                if namespace.is_empty() {
                    return Err(SealError::ScopeNeedsIdentity {
                        scope: self,
                        missing: "namespace",
                    });
                }
                Ok(namespace.as_bytes().to_vec())
            }
            Scope::ClusterWide => Ok(Vec::new()),
        }
    }

    /// The scope the controller reads from an object's annotations (`SecretScope`): cluster-wide wins
    /// when both are `"true"`; any other value means strict.
    pub fn from_annotations(annotations: Option<&IndexMap<String, String>>) -> Scope {
        let is_true = |k: &str| {
            annotations
                .and_then(|a| a.get(k))
                .is_some_and(|v| v == "true")
        };
        if is_true(CLUSTER_WIDE_ANNOTATION) {
            Scope::ClusterWide
        } else if is_true(NAMESPACE_WIDE_ANNOTATION) {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// The annotation this scope writes, if any.
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
            Scope::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
        }
    }

    /// Sets this scope's annotation on `annotations` and removes the other one (`UpdateScopeAnnotations`).
    pub fn apply_to(self, annotations: &mut IndexMap<String, String>) {
        annotations.shift_remove(NAMESPACE_WIDE_ANNOTATION);
        annotations.shift_remove(CLUSTER_WIDE_ANNOTATION);
        if let Some(a) = self.annotation() {
            annotations.insert(a.to_string(), "true".to_string());
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(format!(
                "unknown scope `{other}` (expected strict, namespace-wide or cluster-wide)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_upstream_test_encryption_label() {
        assert_eq!(
            Scope::Strict.label("myns", "myname").unwrap(),
            b"myns/myname"
        );
        assert_eq!(
            Scope::NamespaceWide.label("myns", "myname").unwrap(),
            b"myns"
        );
        assert_eq!(Scope::ClusterWide.label("myns", "myname").unwrap(), b"");
        assert_eq!(Scope::ClusterWide.label("", "").unwrap(), b"");
    }

    #[test]
    fn strict_needs_namespace_and_name() {
        assert!(Scope::Strict.label("", "x").is_err());
        assert!(Scope::Strict.label("ns", "").is_err());
        assert!(Scope::NamespaceWide.label("", "x").is_err());
    }

    #[test]
    fn annotations_select_scope_like_the_controller() {
        let mut a = IndexMap::new();
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::Strict);
        a.insert(NAMESPACE_WIDE_ANNOTATION.into(), "true".into());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
        a.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::ClusterWide);
        a.insert(CLUSTER_WIDE_ANNOTATION.into(), "yes".into());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
        assert_eq!(Scope::from_annotations(None), Scope::Strict);
    }

    #[test]
    fn apply_replaces_the_other_annotation() {
        let mut a = IndexMap::new();
        Scope::ClusterWide.apply_to(&mut a);
        Scope::NamespaceWide.apply_to(&mut a);
        assert_eq!(a.len(), 1);
        assert_eq!(a[NAMESPACE_WIDE_ANNOTATION], "true");
        Scope::Strict.apply_to(&mut a);
        assert!(a.is_empty());
    }

    #[test]
    fn parse_round_trips() {
        for s in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        assert!("wide".parse::<Scope>().is_err());
    }
}
