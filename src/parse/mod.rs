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

/// The smallest chunk of a file parsed on its own; a file is split only when it holds at
/// least two (512 KiB), so small scripts never pay for threads.
const CHUNK: usize = 256 * 1024;

/// Parses one file. Never panics; every problem is an E0001 diagnostic.
///
/// A large file is cut at lines that start a workflow outside any string, comment or block
/// (see [`chunk_starts`]) and the chunks are parsed in parallel. Where the cuts fall depends
/// only on the text, never on the number of cores, so the result is always the same.
pub fn parse_file(file: FileId, src: &str) -> Parsed {
    let starts = chunk_starts(src, CHUNK);
    if starts.len() == 1 {
        return parse_chunk(file, src, 0);
    }
    let bounds: Vec<(usize, usize)> = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&src.len()]))
        .map(|(&a, &b)| (a, b))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<Option<Parsed>> = (0..bounds.len()).map(|_| None).collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(bounds.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(a, b)) = bounds.get(i) else { break };
                        done.push((i, parse_chunk(file, &src[..b], a)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            // A worker only panics if parsing does, which the no-panic tests rule out.
            for (i, p) in h.join().unwrap_or_default() {
                parts[i] = Some(p);
            }
        }
    });
    let mut out = Parsed::default();
    for (i, p) in parts.into_iter().enumerate() {
        // Chunks are missing only if their worker panicked (the no-panic tests say parsing
        // does not): they are parsed again here, so that a bug shows as the same panic
        // on the main thread rather than as missing workflows.
        let mut p = p.unwrap_or_else(|| parse_chunk(file, &src[..bounds[i].1], bounds[i].0));
        out.workflows.append(&mut p.workflows);
        out.diagnostics.append(&mut p.diagnostics);
    }
    out
}

/// Parses the workflows of `src[start..]`, workflow by workflow, resyncing after errors.
fn parse_chunk(file: FileId, src: &str, start: usize) -> Parsed {
    let mut out = Parsed::default();
    let mut pos = start;
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

/// Where to cut `src` into chunks of at least `size` bytes: offsets of lines that start a
/// workflow at the top level (outside strings, comments and `< >` blocks). The first is 0.
fn chunk_starts(src: &str, size: usize) -> Vec<usize> {
    let mut starts = vec![0];
    if src.len() < 2 * size {
        return starts;
    }
    let bytes = src.as_bytes();
    let (mut depth, mut in_string, mut i) = (0usize, false, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'#' => {
                    i += bytes[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .unwrap_or(bytes.len() - i)
                        - 1
                }
                b'<' => depth += 1,
                b'>' => depth = depth.saturating_sub(1),
                b'\n'
                    if depth == 0
                        && i + 1 - starts[starts.len() - 1] >= size
                        && src.len() - (i + 1) >= size
                        && starts_workflow(&src[i + 1..]) =>
                {
                    starts.push(i + 1)
                }
                _ => {}
            }
        }
        i += 1;
    }
    starts
}

/// Whether a line starts with `workflow`, `scope` or `on` followed by a blank or a quote.
fn starts_workflow(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    ["workflow", "scope", "on"].iter().any(|kw| {
        trimmed.starts_with(kw)
            && trimmed[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '"')
    })
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
        if starts_workflow(line) {
            return Some(line_start);
        }
        line_start += line.find('\n')? + 1;
    }
}

#[cfg(test)]
mod tests;
