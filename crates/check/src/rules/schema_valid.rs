//! Objects validated against the bundled Kubernetes OpenAPI schemas or a CRD schema (engine).
crate::rules::engine_rule!(crate::rules::Meta {
    id: "schema-valid",
    category: "schema",
    severity: Some(crate::Severity::Error),
    prod_severity: None,
    summary: "The object matches the Kubernetes (or CRD) schema strictly: no unknown fields, right types, required fields, valid enums and quantities",
    why: "The API server rejects wrong types, missing required fields and bad enum values at apply time, and silently drops unknown fields (a typo such as `readinessprobe` means no probe at all). Checking against the schema of the target version (`--kube-version`) catches these before deploy, with the JSON path and line.",
    fix: "spec:\n  replicas: 3            # an integer, not \"three\"\n  template:\n    spec:\n      containers:\n        - name: web          # required\n          image: nginx:1.27\n          resources:\n            requests:\n              cpu: 250m      # a valid quantity\n",
    hint: "match the field to the schema of the selected Kubernetes version",
    equiv: ["", "schema-validation", "", ""],
    cross: false,
});
