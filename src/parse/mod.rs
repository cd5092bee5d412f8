//! Text to [`ast::Script`]. The only module that knows pest.
//!
//! Workflows are parsed one at a time: a syntax error (E0001) is reported, the parser skips
//! to the next line that starts a workflow, and goes on, so one typo does not hide the rest.

mod error;
mod grammar;
mod lower;

use pest::Parser;

use crate::ast::{Action, Script, Workflow};
use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use grammar::{CallhookParser, Rule};

/// The workflows of one file and the syntax errors met on the way.
#[derive(Debug, Default)]
pub struct Parsed {
    pub workflows: Vec<Workflow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. Never panics; every problem is an E0001 diagnostic.
pub fn parse_file(file: FileId, src: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut pos = 0;
    while pos <= src.len() {
        let rest = &src[pos..];
        match CallhookParser::parse(Rule::next_workflow, rest) {
            Ok(mut pairs) => {
                let Some(item) = pairs.next().and_then(|p| p.into_inner().next()) else {
                    break;
                };
                if item.as_rule() != Rule::workflow {
                    break; // end of input
                }
                let end = item.as_span().end();
                let mut lower = lower::Lower::new(file, pos, src);
                out.workflows.push(lower.workflow(item));
                out.diagnostics.append(&mut lower.errors);
                pos += end;
            }
            Err(err) => {
                let (diag, at) = error::syntax_error(Rule::next_workflow, err, file, pos, src);
                out.diagnostics.push(diag);
                match resync(src, at) {
                    Some(next) => pos = next,
                    None => break,
                }
            }
        }
    }
    out
}

/// Parses several files as one program, in the order given.
pub fn parse_program(files: &[(FileId, &str)]) -> (Script, Vec<Diagnostic>) {
    let mut script = Script::default();
    let mut diags = Vec::new();
    for (file, src) in files {
        let parsed = parse_file(*file, src);
        script.workflows.extend(parsed.workflows);
        diags.extend(parsed.diagnostics);
    }
    (script, diags)
}

/// What a line typed at the REPL turned out to be.
#[derive(Debug)]
pub enum ReplInput {
    Workflows(Vec<Workflow>),
    Action(Box<Action>),
}

/// Parses REPL input: one or more workflows, or one bare action (`GET "https://..." map X = id`).
pub fn parse_repl_input(file: FileId, src: &str) -> Result<ReplInput, Vec<Diagnostic>> {
    let starts_with_method = src
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .is_some_and(|w| crate::ast::Method::parse(w).is_some());
    if !starts_with_method {
        let parsed = parse_file(file, src);
        if parsed.diagnostics.is_empty() {
            return Ok(ReplInput::Workflows(parsed.workflows));
        }
        return Err(parsed.diagnostics);
    }
    match CallhookParser::parse(Rule::bare_action, src) {
        Ok(mut pairs) => {
            let Some(action) = pairs.next().and_then(|p| p.into_inner().next()) else {
                return Err(vec![]);
            };
            let mut lower = lower::Lower::new(file, 0, src);
            let action = lower.action(action);
            if lower.errors.is_empty() {
                Ok(ReplInput::Action(Box::new(action)))
            } else {
                Err(lower.errors)
            }
        }
        Err(err) => Err(vec![
            error::syntax_error(Rule::bare_action, err, file, 0, src).0,
        ]),
    }
}

/// The start of the next line after `at` that looks like the start of a workflow.
fn resync(src: &str, at: usize) -> Option<usize> {
    let mut line_start = src[at.min(src.len())..].find('\n')? + at + 1;
    loop {
        let line = &src[line_start..];
        let trimmed = line.trim_start_matches([' ', '\t']);
        let starts = ["workflow", "scope", "on"].iter().any(|kw| {
            trimmed.starts_with(kw)
                && trimmed[kw.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_whitespace() || c == '"')
        });
        if starts {
            return Some(line_start);
        }
        line_start += line.find('\n')? + 1;
    }
}

#[cfg(test)]
mod tests;
