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
