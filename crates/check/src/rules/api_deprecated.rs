//! apiVersions deprecated in the selected Kubernetes version (engine).
crate::rules::engine_rule!(crate::rules::Meta {
    id: "api-deprecated",
    category: "schema",
    severity: Some(crate::Severity::Warning),
    prod_severity: None,
    summary: "The apiVersion (or kind) is deprecated in the selected Kubernetes version",
    why: "Deprecated APIs are removed in a later release; moving now avoids a failed upgrade.",
    fix: "apiVersion: discovery.k8s.io/v1    # instead of v1 Endpoints\nkind: EndpointSlice\n",
    hint: "move to the replacement named in the message",
    equiv: ["stable-version", "", "", ""],
    cross: false,
});
