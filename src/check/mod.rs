//! Everything that can be known about a script before a call is made (SPEC section 5).
//! One file per family of checks; every problem is collected, none stops the others.

mod flow;
mod request;
mod secrets;

use std::collections::HashSet;

use crate::ast::{Action, Script, Workflow};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::model::Trigger;
use crate::suggest;

/// What the checker may assume beyond the script.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Variables that already exist on the call (the REPL's current call): they count as
    /// stored wherever they are used.
    pub assume_stored: HashSet<String>,
}

/// Checks a whole program. The diagnostics come sorted by file and position.
pub fn check(script: &Script, options: &Options) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let triggers: Vec<Option<Trigger>> = script
        .workflows
        .iter()
        .map(|w| resolve_trigger(w, &mut diags))
        .collect();
    duplicate_names(script, &mut diags);
    diags.extend(per_action(&script.workflows));
    flow::check(script, &triggers, options, &mut diags);
    diagnostic::sort(&mut diags);
    diags
}

/// Below this many workflows the per-action checks run on the calling thread.
const PARALLEL_MIN: usize = 2048;

/// The checks that look at one action alone (E0106 to E0109, E0111, E0112, W0203 to
/// W0205). They share nothing, so a large script is split across all cores; the caller
/// sorts the result, so it is the same whatever the number of cores.
fn per_action(workflows: &[Workflow]) -> Vec<Diagnostic> {
    let run = |ws: &[Workflow]| {
        let mut diags = Vec::new();
        for action in ws.iter().flat_map(Workflow::actions) {
            request::check_action(action, &mut diags);
            secrets::check_action(action, &mut diags);
        }
        diags
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workflows.len() < PARALLEL_MIN || workers == 1 {
        return run(workflows);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = workflows
            .chunks(workflows.len().div_ceil(workers))
            .map(|ws| (ws, scope.spawn(move || run(ws))))
            .collect();
        // A worker only fails if a check panics; then that slice is checked again here.
        handles
            .into_iter()
            .flat_map(|(ws, h)| h.join().unwrap_or_else(|_| run(ws)))
            .collect()
    })
}

/// The checks that make sense for a bare action typed at the REPL: E0105 to E0112 and
/// W0203 to W0205 (SPEC section 8).
pub fn check_action(action: &Action) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    request::check_action(action, &mut diags);
    secrets::check_action(action, &mut diags);
    flow::check_bare_action(action, &mut diags);
    diagnostic::sort(&mut diags);
    diags
}

/// E0101: the trigger must be one of the five.
fn resolve_trigger(w: &Workflow, diags: &mut Vec<Diagnostic>) -> Option<Trigger> {
    let name = &w.trigger;
    if let Some(t) = Trigger::parse(&name.node) {
        return Some(t);
    }
    let mut d = Diagnostic::new(
        Code::E0101,
        name.span,
        format!("unknown trigger `{}`", name.node),
    )
    .label("not a call event");
    match suggest::nearest(&name.node, Trigger::ALL.iter().map(|t| t.as_str())) {
        Some(near) => d = d.note(format!("did you mean `{near}`?")),
        None => {
            d = d.note(format!(
                "the triggers are {}",
                Trigger::ALL.map(|t| t.as_str()).join(", ")
            ))
        }
    }
    diags.push(d);
    None
}

/// E0110: two workflows with one name.
fn duplicate_names(script: &Script, diags: &mut Vec<Diagnostic>) {
    let mut seen = rustc_hash::FxHashMap::default();
    for w in &script.workflows {
        let Some(name) = &w.name else { continue };
        match seen.get(name.node.as_str()) {
            Some(first) => diags.push(
                Diagnostic::new(
                    Code::E0110,
                    name.span,
                    format!("two workflows are named `{}`", name.node),
                )
                .label("second workflow with this name")
                .secondary(*first, "first one here")
                .note("workflow names identify outcomes in traces: give each workflow its own"),
            ),
            None => {
                seen.insert(name.node.as_str(), name.span);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past [`PARALLEL_MIN`] workflows the per-action checks run on several threads; every
    /// diagnostic must still be there, in source order.
    #[test]
    fn parallel_per_action_checks_keep_every_diagnostic_in_order() {
        let n = PARALLEL_MIN * 2 + 7;
        let src: String = (0..n)
            .map(|i| format!("on CallEnded < GET \"https://x/{i}\" timeout {} >\n", i % 3))
            .collect();
        let (script, parse_errors) = crate::parse::parse_program(&[(0, &src)]);
        assert!(parse_errors.is_empty());
        let diags = check(&script, &Options::default());
        let starts: Vec<usize> = diags.iter().map(|d| d.primary.span.start).collect();
        assert_eq!(diags.len(), n, "one E0111 per `timeout N` without a unit");
        assert!(diags.iter().all(|d| d.code == Code::E0111));
        assert!(starts.windows(2).all(|w| w[0] < w[1]));
    }
}
