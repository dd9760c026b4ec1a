use crate::files::FileSet;
use crate::yaml::to_yaml;
use berth_render::Rendered;

/// A multi-document stream of every object, in apply order.
pub fn stream(rendered: &Rendered) -> String {
    let mut out = String::new();
    for (i, obj) in rendered.objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(&obj.body));
    }
    out
}

/// One file per object (`deployment-backend.yaml`) plus `all.yaml`, the whole stream.
pub fn manifests(rendered: &Rendered) -> FileSet {
    let mut files = FileSet::default();
    for obj in &rendered.objects {
        files.insert(format!("{}.yaml", obj.file_stem()), to_yaml(&obj.body));
    }
    files.insert("all.yaml", stream(rendered));
    files
}
