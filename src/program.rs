//! A program: script files loaded, parsed and checked together.

use crate::ast::Script;
use crate::check::{self, Options};
use crate::diagnostic::Diagnostic;
use crate::source::Sources;

pub struct Program {
    pub sources: Sources,
    pub script: Script,
    pub diagnostics: Vec<Diagnostic>,
}

impl Program {
    /// Parses every file of `sources` as one program (in the order added) and checks it.
    /// Semantic checks run only when there is no syntax error: a workflow that did not
    /// parse would make every variable it maps look unknown.
    pub fn build(sources: Sources, options: &Options) -> Program {
        let (script, mut diagnostics) = crate::parse::parse_program(&sources.all());
        if diagnostics.is_empty() {
            diagnostics = check::check(&script, options);
        }
        Program {
            sources,
            script,
            diagnostics,
        }
    }

    /// Reads the files and builds the program; an unreadable file is an I/O error.
    pub fn load(paths: &[std::path::PathBuf], options: &Options) -> Result<Program, String> {
        let mut sources = Sources::new();
        for p in paths {
            let bytes =
                std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                format!(
                    "{} is not UTF-8 text (invalid byte at offset {})",
                    p.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            sources.add(p.display().to_string(), text);
        }
        Ok(Program::build(sources, options))
    }

    pub fn from_text(name: &str, text: &str) -> Program {
        let mut sources = Sources::new();
        sources.add(name, text);
        Program::build(sources, &Options::default())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}
