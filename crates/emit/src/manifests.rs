use crate::files::FileSet;
use crate::yaml::{join_docs, to_yaml};
use berth_render::Rendered;

/// A multi-document stream of every object, in apply order.
pub fn stream(rendered: &Rendered) -> String {
    join_docs(&documents(rendered))
}

fn documents(rendered: &Rendered) -> Vec<String> {
    rendered.objects.iter().map(|o| to_yaml(&o.body)).collect()
}

/// One file per object (`deployment-backend.yaml`) plus `all.yaml`, the whole stream.
pub fn manifests(rendered: &Rendered) -> FileSet {
    let docs = documents(rendered);
    let all = join_docs(&docs);
    let mut files = FileSet::default();
    for (obj, doc) in rendered.objects.iter().zip(docs) {
        files.insert(format!("{}.yaml", obj.file_stem()), doc);
    }
    files.insert("all.yaml", all);
    files
}
