//! Variables: where each one exists, and every use checked against it (SPEC section 4).
//! E0102 to E0105, E0110 (a variable mapped twice in a block), W0201, W0202, W0206, W0207.
//!
//! Use-before-store is a flow analysis over the lifecycle: for a use of V in workflow W on
//! trigger T, V is stored when on every lifecycle path to T some workflow definitely stores
//! V before W, may be unset when some path stores it, and is used before it can be stored
//! when no path does. Per variable and trigger the stores are summed up once, so each use is
//! answered in constant time.

use std::collections::HashSet as StdHashSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::Options;
use crate::ast::{Action, CondAtom, FailureStore, Script, Template, VarRef, Workflow};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::lifecycle::{excludes, paths_to};
use crate::model::variables::{self, Presence};
use crate::model::Trigger;
use crate::span::Span;
use crate::suggest;

/// How many stores of one variable are kept for explaining a diagnostic.
const STORES_KEPT: usize = 64;

#[derive(Clone, Copy)]
struct Store {
    wf: usize,
    trigger: Trigger,
    pos: usize,
    definite: bool,
    target: Span,
}

/// The stores of one variable at one trigger, summed up.
#[derive(Default)]
struct Summary {
    first_any: Option<usize>,
    n_any: usize,
    /// Definite stores of workflows without a scope: first position, count.
    unscoped: Option<(usize, usize)>,
    /// Definite stores by scope: first position, count.
    scoped: HashMap<String, (usize, usize)>,
}

impl Summary {
    fn add(&mut self, pos: usize, definite: bool, scope: Option<&str>) {
        self.first_any = Some(self.first_any.map_or(pos, |p| p.min(pos)));
        self.n_any += 1;
        if definite {
            let e = match scope {
                None => self.unscoped.get_or_insert((pos, 0)),
                Some(s) => match self.scoped.get_mut(s) {
                    Some(e) => e,
                    None => self.scoped.entry(s.to_string()).or_insert((pos, 0)),
                },
            };
            e.0 = e.0.min(pos);
            e.1 += 1;
        }
    }

    /// First position and count of the stores that are definite for a workflow in `scope`:
    /// unscoped ones, and those of the same scope.
    fn definite_for(&self, scope: Option<&str>) -> (Option<usize>, usize) {
        let mut first = None;
        let mut n = 0;
        let mut take = |found: Option<&(usize, usize)>| {
            if let Some((p, c)) = found {
                first = Some(first.map_or(*p, |f: usize| f.min(*p)));
                n += c;
            }
        };
        take(self.unscoped.as_ref());
        if let Some(scope) = scope {
            take(self.scoped.get(scope));
        }
        (first, n)
    }
}

#[derive(Default)]
struct VarInfo {
    stores: Vec<Store>,
    at: [Summary; 5],
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Stored,
    Maybe,
    Never,
}

/// Per workflow: the variables its `when` guards, and what its failed main block stores.
struct Uses<'w> {
    guarded: &'w HashSet<&'w str>,
    on_failure: &'w HashMap<&'w str, FailureStore>,
}

#[derive(Clone, Copy)]
struct UseCtx {
    in_condition: bool,
    in_else: bool,
}

struct Flow<'a> {
    script: &'a Script,
    triggers: &'a [Option<Trigger>],
    /// Each workflow's rank among the workflows of its trigger (order N, then script order).
    pos: Vec<usize>,
    vars: HashMap<&'a str, VarInfo>,
    paths: [Vec<Vec<Trigger>>; 5],
    assume: &'a StdHashSet<String>,
    /// Suggestions for unknown names, computed at most [`SUGGESTIONS_COMPUTED`] times.
    suggestions: std::cell::RefCell<HashMap<String, Option<String>>>,
}

/// Past this many distinct unknown names, E0102 comes without "did you mean": each
/// suggestion compares the name with every known one.
const SUGGESTIONS_COMPUTED: usize = 256;

pub fn check(
    script: &Script,
    triggers: &[Option<Trigger>],
    options: &Options,
    diags: &mut Vec<Diagnostic>,
) {
    let mut flow = Flow {
        script,
        triggers,
        pos: positions(script, triggers),
        vars: HashMap::default(),
        paths: Trigger::ALL.map(paths_to),
        assume: &options.assume_stored,
        suggestions: Default::default(),
    };
    for (i, w) in script.workflows.iter().enumerate() {
        for action in w.actions() {
            mapped_twice(action, diags);
        }
        flow.collect_stores(i, w, diags);
    }
    for (i, w) in script.workflows.iter().enumerate() {
        flow.check_uses(i, w, diags);
    }
    flow.unused_and_stray(diags);
}

/// E0105 and E0110 for a bare REPL action.
pub fn check_bare_action(action: &Action, diags: &mut Vec<Diagnostic>) {
    mapped_twice(action, diags);
    for m in &action.maps {
        if variables::builtin(&m.target.node).is_some() {
            diags.push(clash(&m.target.node, m.target.span));
        }
    }
}

fn positions(script: &Script, triggers: &[Option<Trigger>]) -> Vec<usize> {
    let mut pos = vec![0; script.workflows.len()];
    for t in Trigger::ALL {
        let mut on_t: Vec<usize> = (0..script.workflows.len())
            .filter(|&i| triggers[i] == Some(t))
            .collect();
        on_t.sort_by_key(|&i| (script.workflows[i].order_value(), i));
        for (rank, i) in on_t.into_iter().enumerate() {
            pos[i] = rank;
        }
    }
    pos
}

/// E0110: one variable mapped twice in one block.
fn mapped_twice(action: &Action, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for m in &action.maps {
        if let Some(first) = seen.get(m.target.node.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::E0110,
                    m.target.span,
                    format!("`{}` is mapped twice in one block", m.target.node),
                )
                .label("second mapping")
                .secondary(*first, "first mapping")
                .note("keep one `map` per variable in a block; the later one would overwrite the first"),
            );
        } else {
            seen.insert(&m.target.node, m.target.span);
        }
    }
}

fn clash(name: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0105,
        span,
        format!("`{name}` is a built-in variable and cannot be a mapping target"),
    )
    .label("built-in variable")
    .note(format!(
        "pick a name of your own, e.g. `CRM_{}`",
        name.trim_start_matches("CALL_").to_ascii_uppercase()
    ))
}

fn mapped_names(a: &Action) -> impl Iterator<Item = &str> {
    a.maps.iter().map(|m| m.target.node.as_str())
}

impl<'a> Flow<'a> {
    fn collect_stores(&mut self, i: usize, w: &'a Workflow, diags: &mut Vec<Diagnostic>) {
        let mut seen: HashSet<&str> = HashSet::default();
        let in_main: HashSet<&str> = mapped_names(&w.main).collect();
        let in_else: Option<HashSet<&str>> =
            w.otherwise.as_ref().map(|e| mapped_names(e).collect());
        for action in w.actions() {
            for m in &action.maps {
                let name = m.target.node.as_str();
                if variables::builtin(name).is_some() {
                    diags.push(clash(name, m.target.span));
                    continue;
                }
                if !seen.insert(name) {
                    continue;
                }
                let info = self.vars.entry(name).or_default();
                let Some(t) = self.triggers[i] else { continue };
                let definite = w.when.is_none()
                    && in_main.contains(name)
                    && in_else.as_ref().is_none_or(|e| e.contains(name));
                let pos = self.pos[i];
                info.at[t.index()].add(pos, definite, w.scope.as_ref().map(|s| s.node.as_str()));
                if info.stores.len() < STORES_KEPT {
                    info.stores.push(Store {
                        wf: i,
                        trigger: t,
                        pos,
                        definite,
                        target: m.target.span,
                    });
                }
            }
        }
    }

    fn check_uses(&self, i: usize, w: &Workflow, diags: &mut Vec<Diagnostic>) {
        let guarded: HashSet<&str> = w
            .when
            .iter()
            .flat_map(|c| &c.atoms)
            .filter(|a| a.guards())
            .map(|a| a.var().node.as_str())
            .collect();
        // What a failed main block still stores, for its else block.
        let mut on_failure: HashMap<&str, FailureStore> = HashMap::default();
        for m in &w.main.maps {
            if let Some(f) = m.path.node.stored_on_failure() {
                let e = on_failure.entry(m.target.node.as_str()).or_insert(f);
                if f == FailureStore::Always {
                    *e = f;
                }
            }
        }
        let uses = Uses {
            guarded: &guarded,
            on_failure: &on_failure,
        };
        let cond = UseCtx {
            in_condition: true,
            in_else: false,
        };
        for atom in w.when.iter().flat_map(|c| &c.atoms) {
            let var = atom.var();
            let r = VarRef {
                name: var.node.clone(),
                default: None,
                span: var.span,
            };
            self.check_use(i, w, &r, cond, &uses, diags);
            if let CondAtom::Compare { value, .. } = atom {
                for v in value.vars() {
                    self.check_use(i, w, v, cond, &uses, diags);
                }
            }
        }
        for (k, action) in w.actions().enumerate() {
            let ctx = UseCtx {
                in_condition: false,
                in_else: k == 1,
            };
            for t in action.templates() {
                for v in t.vars() {
                    self.check_use(i, w, v, ctx, &uses, diags);
                }
            }
        }
    }

    fn check_use(
        &self,
        i: usize,
        w: &Workflow,
        v: &VarRef,
        ctx: UseCtx,
        uses: &Uses,
        diags: &mut Vec<Diagnostic>,
    ) {
        let name = v.name.as_str();
        if self.assume.contains(name) {
            return;
        }
        let quiet = ctx.in_condition || v.default.is_some() || uses.guarded.contains(name);
        let builtin = variables::builtin(name);
        if builtin.is_none() && !self.vars.contains_key(name) {
            diags.push(self.unknown(v));
            return;
        }
        let Some(t) = self.triggers[i] else { return };
        if let Some(b) = builtin {
            match b.presence(t) {
                Presence::Yes => {}
                Presence::Never => diags.push(never_set(v, b, t)),
                Presence::Maybe(why) if !quiet => diags.push(
                    Diagnostic::new(
                        Code::W0202,
                        v.span,
                        format!("`{name}` may be unset at {t}: it is set {why}"),
                    )
                    .label("not set on every call")
                    .note(fix_note(name)),
                ),
                Presence::Maybe(_) => {}
            }
            return;
        }
        let info = &self.vars[name];
        let mut state = self.state(info, i, w, t);
        let mut response_only = false;
        if ctx.in_else && state != State::Stored {
            // A failed main block still stores its @outcome/@error/@duration maps (and the
            // response ones when a response arrived) before the else block runs.
            match uses.on_failure.get(name) {
                Some(FailureStore::Always) => state = State::Stored,
                Some(FailureStore::WithResponse) if state == State::Never => {
                    state = State::Maybe;
                    response_only = true;
                }
                _ => {}
            }
        }
        match state {
            State::Stored => {}
            State::Never => diags.push(self.before_store(v, info, i, t)),
            State::Maybe if quiet => {}
            State::Maybe if response_only => diags.push(
                Diagnostic::new(Code::W0201, v.span, format!("`{name}` may be unset here"))
                    .label("unset when no response arrived")
                    .note("a failed main block stores `@status`, `@status_class`, `@raw` and `@header.NAME` only when a response arrived, not after a timeout or network error")
                    .note(fix_note(name)),
            ),
            State::Maybe => diags.push(self.maybe_unset(v, info, i, w, t)),
        }
    }

    fn state(&self, info: &VarInfo, i: usize, w: &Workflow, t: Trigger) -> State {
        let scope = w.scope.as_ref().map(|s| s.node.as_str());
        let pos = self.pos[i];
        let here = &info.at[t.index()];
        if here.definite_for(scope).0.is_some_and(|p| p < pos) {
            return State::Stored;
        }
        // This workflow's own store, left out where a path goes through its own trigger
        // (an earlier AgentDeclined): a workflow never sees its own mappings.
        let own = info.stores.iter().find(|s| s.wf == i);
        let own_any = usize::from(own.is_some());
        let own_def = usize::from(own.is_some_and(|s| s.definite));
        let mut all_paths_store = true;
        let mut some_path_stores = here.first_any.is_some_and(|p| p < pos);
        for path in &self.paths[t.index()] {
            let mut definite = false;
            for &pt in path {
                let s = &info.at[pt.index()];
                let (mut n_def, mut n_any) = (s.definite_for(scope).1, s.n_any);
                if pt == t {
                    n_def -= own_def;
                    n_any -= own_any;
                }
                definite |= n_def > 0;
                some_path_stores |= n_any > 0;
            }
            all_paths_store &= definite;
        }
        if all_paths_store {
            State::Stored
        } else if some_path_stores {
            State::Maybe
        } else {
            State::Never
        }
    }

    /// E0102, with the nearest known name.
    fn unknown(&self, v: &VarRef) -> Diagnostic {
        let mut cache = self.suggestions.borrow_mut();
        let near = match cache.get(&v.name) {
            Some(near) => near.clone(),
            None if cache.len() < SUGGESTIONS_COMPUTED => {
                let mut known: Vec<&str> = variables::names().collect();
                known.extend(self.vars.keys().copied());
                known.extend(self.assume.iter().map(String::as_str));
                let near = suggest::nearest(&v.name, known).map(str::to_string);
                cache.insert(v.name.clone(), near.clone());
                near
            }
            None => None,
        };
        let mut d = Diagnostic::new(
            Code::E0102,
            v.span,
            format!("unknown variable `{}`", v.name),
        )
        .label("not a built-in variable, and no workflow maps it");
        match near {
            Some(near) => d = d.note(format!("did you mean `${near}$`?")),
            None => {
                d = d.note("variables come from the call event (`callhook explain E0102` lists them) or from a `map` clause")
            }
        }
        if v.name.starts_with("env_") || v.name.starts_with("ENV_") {
            d = d.note("secrets are written `$env.NAME$`");
        }
        d
    }

    /// E0104, naming the workflow that stores the variable and why that is too late.
    fn before_store(&self, v: &VarRef, info: &VarInfo, i: usize, t: Trigger) -> Diagnostic {
        let name = &v.name;
        let mut d = Diagnostic::new(
            Code::E0104,
            v.span,
            format!("`{name}` is used before it can be stored"),
        )
        .label(format!("used here, on {t}"));
        let store = info
            .stores
            .iter()
            .find(|s| s.wf != i)
            .or(info.stores.first());
        if let Some(s) = store {
            let by = self.script.workflows[s.wf].display_name();
            let why = if s.wf == i {
                "only this workflow stores it, and a workflow never sees its own mappings"
                    .to_string()
            } else if s.trigger == t {
                format!("{by} stores it, but runs after this workflow on {t}; give it a lower `order` or put it first")
            } else if excludes(s.trigger, t) {
                format!(
                    "{by} stores it on {}, which never comes on the same call as {t}",
                    s.trigger
                )
            } else {
                format!("{by} stores it on {}, which comes after {t}", s.trigger)
            };
            d = d
                .secondary(s.target, format!("stored here, on {}", s.trigger))
                .note(why);
        }
        d.note("store it with a workflow on an earlier trigger (look-ups belong on AgentConnected)")
    }

    /// W0201, with the reason the store is not certain.
    fn maybe_unset(
        &self,
        v: &VarRef,
        info: &VarInfo,
        i: usize,
        w: &Workflow,
        t: Trigger,
    ) -> Diagnostic {
        let name = &v.name;
        let mut d = Diagnostic::new(Code::W0201, v.span, format!("`{name}` may be unset here"))
            .label("not stored on every call before this workflow");
        let scope = w.scope.as_ref().map(|s| s.node.as_str());
        let store = info.stores.iter().find(|s| s.wf != i);
        if let Some(s) = store {
            let sw = &self.script.workflows[s.wf];
            let by = sw.display_name();
            let other_scope = sw
                .scope
                .as_ref()
                .filter(|ss| Some(ss.node.as_str()) != scope);
            let why = if s.trigger == t && s.pos > self.pos[i] {
                format!("{by} stores it later on {t}, so only an earlier {t} on the same call has stored it")
            } else if sw.when.is_some() {
                format!("{by} stores it only when its `when` condition holds")
            } else if !s.definite {
                format!("{by} does not map it in both its main and its `else` block")
            } else if let Some(ss) = other_scope {
                format!(
                    "{by} has scope \"{}\", so it does not run for every event",
                    ss.node
                )
            } else {
                format!(
                    "{by} stores it on {}, which does not come on every call before {t}",
                    s.trigger
                )
            };
            d = d.secondary(s.target, "stored here").note(why);
        }
        d.note(fix_note(name))
    }

    /// W0206 (mapped, never used) and W0207 (a literal `$` before a known name).
    fn unused_and_stray(&self, diags: &mut Vec<Diagnostic>) {
        let mut used: HashSet<&str> = HashSet::default();
        let mut templates: Vec<&Template> = Vec::new();
        for w in &self.script.workflows {
            for atom in w.when.iter().flat_map(|c| &c.atoms) {
                used.insert(&atom.var().node);
                if let CondAtom::Compare { value, .. } = atom {
                    templates.push(value);
                }
            }
            for a in w.actions() {
                templates.extend(a.templates());
            }
        }
        for t in &templates {
            used.extend(t.vars().map(|v| v.name.as_str()));
        }
        for w in &self.script.workflows {
            for m in w.actions().flat_map(|a| &a.maps) {
                let name = m.target.node.as_str();
                if !used.contains(name) && variables::builtin(name).is_none() {
                    diags.push(
                        Diagnostic::new(
                            Code::W0206,
                            m.target.span,
                            format!("`{name}` is mapped but never used"),
                        )
                        .label("stored here, read nowhere")
                        .note(format!(
                            "use it as `${name}$` in a later workflow, or remove this `map`"
                        )),
                    );
                }
            }
        }
        for t in &templates {
            for s in &t.stray_dollars {
                let f = s.following.as_str();
                let known = variables::builtin(f).is_some()
                    || self.vars.contains_key(f)
                    || self.assume.contains(f);
                if !f.is_empty() && known {
                    diags.push(
                        Diagnostic::new(
                            Code::W0207,
                            s.span,
                            format!(
                                "this `$` is sent as a literal dollar sign, not the value of `{f}`"
                            ),
                        )
                        .label("missing closing `$`?")
                        .note(format!(
                            "write `${f}$` for the value, or `$$` for a literal `$`"
                        )),
                    );
                }
            }
        }
    }
}

fn never_set(v: &VarRef, b: &variables::Builtin, t: Trigger) -> Diagnostic {
    let set_at: Vec<String> = b
        .set_at()
        .iter()
        .map(|t| match b.presence(*t) {
            Presence::Maybe(why) => format!("{t} ({why})"),
            _ => t.to_string(),
        })
        .collect();
    Diagnostic::new(
        Code::E0103,
        v.span,
        format!("`{}` is never set at {t}", v.name),
    )
    .label(format!("never set on {t}"))
    .note(format!("`{}` is set at {}", v.name, set_at.join(", ")))
    .note(match b.set_at().as_slice() {
        [only] => format!("move this to a workflow on {only}"),
        _ => "use it in a workflow on one of those triggers".to_string(),
    })
}

fn fix_note(name: &str) -> String {
    format!("guard the workflow with `when ${name}$`, or write `${name}?default$`")
}
