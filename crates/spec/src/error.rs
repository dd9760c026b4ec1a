//! Errors in a spec: each names the file, line, column and spec path, says what was expected
//! and, where it can, how to fix it. Rendered by miette with the offending source line.

use berth_yaml::Pos;
use miette::{Diagnostic, NamedSource, SourceSpan};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{}{message}", path_prefix(.path))]
#[diagnostic(code(berth::spec))]
pub struct SpecError {
    /// What is wrong, and what was expected.
    pub message: String,
    /// Spec path, e.g. `services.backend.resources.cpu` (empty for the whole document).
    pub path: String,
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    #[help]
    pub help: Option<String>,
    #[source_code]
    src: NamedSource<Arc<String>>,
    #[label("here")]
    span: SourceSpan,
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl SpecError {
    pub(crate) fn new(
        source: &Source,
        pos: Pos,
        path: impl Into<String>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let len = token_len(&source.text, pos.offset);
        SpecError {
            message: message.into(),
            path: path.into(),
            file: source.file.clone(),
            line: pos.line,
            col: pos.col,
            help,
            src: NamedSource::new(source.file.display().to_string(), source.text.clone()),
            span: (pos.offset.min(source.text.len()), len).into(),
        }
    }

    /// `file:line:col: path: message` on one line, for logs and tests.
    pub fn one_line(&self) -> String {
        format!(
            "{}:{}:{}: {}{}",
            self.file.display(),
            self.line,
            self.col,
            self,
            self.help
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file.display().to_string(),
            "line": self.line,
            "column": self.col,
            "path": self.path,
            "message": self.message,
            "help": self.help,
        })
    }
}

/// The length of the token starting at `offset`, for the label underline.
fn token_len(text: &str, offset: usize) -> usize {
    let rest = text.get(offset..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    let end = line
        .find([',', ']', '}', '#'])
        .unwrap_or(line.len())
        .min(line.find(": ").unwrap_or(line.len()));
    line[..end].trim_end().len().max(1)
}

/// The spec text and its file name, shared by every error about it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub file: PathBuf,
    pub text: Arc<String>,
}

impl Source {
    pub(crate) fn new(file: &Path, text: String) -> Self {
        Source {
            file: file.to_owned(),
            text: Arc::new(text),
        }
    }
}

/// Every error found in a spec (validation reports them all, not just the first).
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{} has {} error{}", .file.display(), .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
#[diagnostic(code(berth::spec::invalid))]
pub struct SpecErrors {
    pub file: PathBuf,
    #[related]
    pub errors: Vec<SpecError>,
}

impl SpecErrors {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(self.errors.iter().map(SpecError::to_json).collect())
    }
}
