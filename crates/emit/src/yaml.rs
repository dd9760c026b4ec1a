use serde_json::Value;

/// One YAML document, block style, keys in the object's own order. Multi-line strings
/// (config files) are written as literal blocks so they stay readable in review.
pub fn to_yaml(value: &Value) -> String {
    let options = serde_saphyr::ser_options! {
        indent_step: 2,
        compact_list_indent: true,
        prefer_block_scalars: true,
    };
    serde_saphyr::to_string_with_options(value, options).expect("JSON values serialize to YAML")
}

/// Multi-document YAML: `docs` (each ending in a newline) separated by `---`.
pub(crate) fn join_docs<S: AsRef<str>>(docs: &[S]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(d.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_joined_by_separators() {
        assert_eq!(join_docs(&["a: 1\n", "b: 2\n"]), "a: 1\n---\nb: 2\n");
    }
}
