//! Custom resources with no known schema (engine): reported once per kind, never silently passed.
crate::rules::engine_rule!(crate::rules::Meta {
    id: "crd-not-validated",
    category: "schema",
    severity: Some(crate::Severity::Warning),
    prod_severity: None,
    summary: "A custom resource's kind has no schema (its CRD is neither bundled, in the input, nor given with --crd)",
    why: "Without its CustomResourceDefinition a custom resource cannot be validated, so typos and wrong types in it go unnoticed until the controller ignores them. berth bundles schemas for Argo CD Application/AppProject, SealedSecret, ExternalSecret, cert-manager Certificate, the prometheus-operator's ServiceMonitor, PodMonitor and PrometheusRule, Strimzi, Dapr and CloudNativePG resources.",
    fix: "berth check manifests/ --crd crds/          # a file or directory with the CustomResourceDefinitions\n",
    hint: "pass the CRD with --crd FILE|DIR, or include it in the input",
    equiv: ["", "schema-validation (ignoreMissingSchemas)", "", ""],
    cross: false,
});
