//! The files of a program, by [`FileId`], for parsing and for rendering diagnostics.

use codespan_reporting::files::{Files, SimpleFiles};

use crate::span::{FileId, Span};

#[derive(Default)]
pub struct Sources {
    files: SimpleFiles<String, String>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.add(name.into(), text.into())
    }

    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// Every file, in the order added.
    pub fn all(&self) -> Vec<(FileId, &str)> {
        (0..)
            .map_while(|id| self.files.get(id).ok().map(|f| (id, f.source().as_str())))
            .collect()
    }

    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let line = self.files.line_index(span.file, span.start).unwrap_or(0);
        let col = self
            .files
            .column_number(span.file, line, span.start)
            .unwrap_or(1);
        (line + 1, col)
    }

    pub fn files(&self) -> &SimpleFiles<String, String> {
        &self.files
    }
}
