use crate::files::FileSet;
use crate::yaml::to_yaml;
use berth_render::Rendered;

/// A multi-document stream of every object, in apply order.
pub fn stream(rendered: &Rendered) -> String {
    join_documents(rendered.objects.iter().map(|obj| to_yaml(&obj.body)))
}

fn join_documents(docs: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(doc.as_ref());
    }
    out
}

/// One file per object (`deployment-backend.yaml`) plus `all.yaml`, the whole stream.
pub fn manifests(rendered: &Rendered) -> FileSet {
    let docs: Vec<String> = rendered.objects.iter().map(|o| to_yaml(&o.body)).collect();
    let all = join_documents(&docs);
    let mut files = FileSet::default();
    for (obj, doc) in rendered.objects.iter().zip(docs) {
        files.insert(format!("{}.yaml", obj.file_stem()), doc);
    }
    files.insert("all.yaml", all);
    files
}
