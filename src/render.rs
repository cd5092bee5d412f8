//! Diagnostics to text: rustc-like with codespan-reporting (coloured on a terminal), or JSON.

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label, LabelStyle, Severity as CsSeverity,
};
use codespan_reporting::term::{self, Config};
use serde_json::json;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::Sources;

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Resolves `auto` against the stream and the NO_COLOR convention.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

fn to_codespan(d: &Diagnostic) -> CsDiagnostic<usize> {
    let severity = match d.severity() {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let mut labels = vec![Label::new(
        LabelStyle::Primary,
        d.primary.span.file,
        d.primary.span.range(),
    )
    .with_message(d.primary.message.clone())];
    labels.extend(d.secondary.iter().map(|l| {
        Label::new(LabelStyle::Secondary, l.span.file, l.span.range())
            .with_message(l.message.clone())
    }));
    CsDiagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(d.notes.iter().map(|n| format!("help: {n}")).collect())
}

/// One diagnostic, rendered as rustc would, with or without ANSI colour.
pub fn human(sources: &Sources, d: &Diagnostic, color: bool) -> String {
    let config = Config::default();
    let cs = to_codespan(d);
    if color {
        let mut buf = termcolor_buffer();
        if term::emit_to_write_style(&mut buf, &config, sources.files(), &cs).is_ok() {
            return String::from_utf8_lossy(&buf.into_inner()).into_owned();
        }
    }
    term::emit_into_string(&config, sources.files(), &cs)
        .unwrap_or_else(|e| format!("{}: {} ({e})\n", d.code.as_str(), d.message))
}

fn termcolor_buffer() -> term::termcolor::Ansi<Vec<u8>> {
    term::termcolor::Ansi::new(Vec::new())
}

/// At most this many diagnostics are rendered for a person; each shows its source line, so
/// thousands of them on one long generated line would print hundreds of megabytes.
pub const MAX_RENDERED: usize = 200;

/// The diagnostics rendered one after the other, the first [`MAX_RENDERED`] of them; past
/// that, one line says how many were not shown and where to see them all.
pub fn human_all(sources: &Sources, diags: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    for d in diags.iter().take(MAX_RENDERED) {
        out.push_str(&human(sources, d, color));
    }
    if let Some(hidden) = diags.get(MAX_RENDERED..).filter(|h| !h.is_empty()) {
        out.push_str(&format!(
            "note: {} more not shown ({}); `callhook check --format json` lists every one\n\n",
            hidden.len(),
            summary(hidden)
        ));
    }
    out
}

/// `N errors, M warnings`
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// The machine-readable form: code, severity, message, notes, file, line, column (1-based)
/// and byte span of the primary label, and the secondary labels.
pub fn json(sources: &Sources, d: &Diagnostic) -> serde_json::Value {
    let (line, column) = sources.line_col(d.primary.span);
    json!({
        "code": d.code.as_str(),
        "severity": d.severity().as_str(),
        "message": d.message,
        "notes": d.notes,
        "file": sources.name(d.primary.span.file),
        "line": line,
        "column": column,
        "span": { "start": d.primary.span.start, "end": d.primary.span.end },
        "label": d.primary.message,
        "secondary": d.secondary.iter().map(|l| {
            let (line, column) = sources.line_col(l.span);
            json!({
                "file": sources.name(l.span.file),
                "line": line,
                "column": column,
                "span": { "start": l.span.start, "end": l.span.end },
                "label": l.message,
            })
        }).collect::<Vec<_>>(),
    })
}
