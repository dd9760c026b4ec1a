//! Malformed YAML documents (reported by the engine; the other documents are still checked).
crate::rules::engine_rule!(crate::rules::Meta {
    id: "yaml-syntax",
    category: "input",
    severity: Some(crate::Severity::Error),
    prod_severity: None,
    summary: "A document is not valid YAML, breaks a budget (aliases, nesting, size) or is not a mapping",
    why: "kubectl and the API server reject the whole file. berth reports the document's line and column and still checks the other documents of the file. Alias bombs, deep nesting and huge files are refused without hanging.",
    fix: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings   # indent consistently, quote values with ':' or '#'\ndata:\n  url: \"http://example.com/#top\"\n",
    hint: "fix the YAML at this position",
    equiv: ["", "", "", ""],
    cross: false,
});
