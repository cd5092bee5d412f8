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
    for w in &script.workflows {
        for action in w.actions() {
            request::check_action(action, &mut diags);
            secrets::check_action(action, &mut diags);
        }
    }
    flow::check(script, &triggers, options, &mut diags);
    diagnostic::sort(&mut diags);
    diags
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
    let mut seen = std::collections::HashMap::new();
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
