//! apiVersions removed in the selected Kubernetes version (engine).
crate::rules::engine_rule!(crate::rules::Meta {
    id: "api-removed",
    category: "schema",
    severity: Some(crate::Severity::Error),
    prod_severity: None,
    summary: "The apiVersion was removed in the selected Kubernetes version",
    why: "The API server no longer serves it: applying the object fails. The finding names the replacement apiVersion.",
    fix: "apiVersion: networking.k8s.io/v1   # not extensions/v1beta1\nkind: Ingress\n",
    hint: "move to the replacement apiVersion named in the message",
    equiv: ["stable-version", "no-extensions-v1beta", "", ""],
    cross: false,
});
