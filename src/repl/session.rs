//! The REPL's evaluation core: one input in, rendered output and a new session state out.
//! It drives the same parser, checker and engine as `check` and `run`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::ast::{Action, Workflow};
use crate::check::{self, Options};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::lifecycle;
use crate::model::Trigger;
use crate::parse::{self, ReplInput};
use crate::render;
use crate::run::context::{Call, Origin};
use crate::run::engine::{self, Engine};
use crate::run::http::{Response, Transport};
use crate::run::secrets::{self, Env, Redactor};
use crate::run::stubs::Stubs;
use crate::source::Sources;
use crate::span::FileId;
use crate::suggest;

/// Response bodies are shown up to this many characters.
pub const BODY_SHOWN: usize = 4000;

pub struct Session {
    sources: Sources,
    pub engine: Engine,
    pub call: Call,
    calls_started: usize,
    loaded: Vec<PathBuf>,
    /// Workflows typed at the prompt, kept across `:reload`.
    typed: Vec<Workflow>,
    pub last_response: Option<Response>,
    show_headers: bool,
    color: bool,
    inputs: usize,
    /// Extra trusted CAs (`--ca-cert`), for `:stubs off`.
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// What evaluating one input did.
pub struct Eval {
    pub output: String,
    pub quit: bool,
}

impl Eval {
    fn text(output: impl Into<String>) -> Eval {
        Eval {
            output: output.into(),
            quit: false,
        }
    }
}

pub const HELP: &str = "\
Type a workflow to add it to the session (it is checked first), or a bare action to send it now:
  GET \"https://crm.example.com/contacts?phone=$CALLER_ID_E164$\" map CRM_ID = contacts[0].id
Input continues over several lines until `<` and `>` balance.

Commands:
  :help                 this text
  :load FILE            add the workflows of a script file
  :reload               load the files again (typed workflows are kept)
  :check                check the whole session program
  :list                 the session's workflows, in run order per trigger
  :fire EVENT [VAR=value ...]   apply a call event and run its workflows
  :vars                 the current call's variables and where each came from
  :set VAR=value        set a variable on the current call
  :unset VAR            remove a variable from the current call
  :new                  start a fresh call
  :env                  the secrets the session uses (names only, never values)
  :stubs FILE           answer requests from a stubs file (nothing leaves the machine)
  :stubs off            send requests to the network again
  :dry on|off           print requests instead of sending them
  :headers on|off       show response headers after a bare action
  :explain CODE         explain a diagnostic code
  :quit                 leave (Ctrl-D too)
";

impl Session {
    pub fn new(transport: Transport, env: Env, color: bool) -> Session {
        let mut engine = Engine::new(
            Default::default(),
            transport,
            env,
            Redactor::default(),
            false,
        );
        engine.keep_headers = true; // `:headers on` shows them
        Session {
            sources: Sources::new(),
            engine,
            call: Call::new("repl-1"),
            calls_started: 1,
            loaded: Vec::new(),
            typed: Vec::new(),
            last_response: None,
            show_headers: false,
            color,
            inputs: 0,
            ca_certs: Vec::new(),
        }
    }

    /// `callhook(repl-1, AgentConnected)> `
    pub fn prompt(&self) -> String {
        let phase = self.call.last.map_or("new call", Trigger::as_str);
        format!("callhook({}, {phase})> ", self.call.id)
    }

    /// Variable names on the current call, for completion.
    pub fn var_names(&self) -> Vec<String> {
        self.call
            .vars
            .iter()
            .map(|(k, _, _)| k.to_string())
            .collect()
    }

    /// Field paths of the last response (`contacts[0].id`), for completion after `map X =`.
    pub fn response_paths(&self) -> Vec<String> {
        let Some(r) = &self.last_response else {
            return vec![];
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return vec![];
        };
        let mut out = Vec::new();
        paths(&v, String::new(), &mut out);
        out
    }

    /// Evaluates one complete input (a command, workflows, or a bare action).
    pub async fn eval(&mut self, input: &str) -> Eval {
        let trimmed = input.trim();
        let out = if trimmed.is_empty() || trimmed.starts_with('#') {
            Eval::text("")
        } else if let Some(cmd) = trimmed.strip_prefix(':') {
            self.command(cmd).await
        } else {
            Eval::text(self.code(input).await)
        };
        let mut output = self.engine.redactor.redact(&out.output);
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        Eval {
            output,
            quit: out.quit,
        }
    }

    async fn command(&mut self, cmd: &str) -> Eval {
        let (name, rest) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
        let rest = rest.trim();
        let text = match name {
            "help" | "h" | "?" => HELP.to_string(),
            "quit" | "q" | "exit" => {
                return Eval {
                    output: String::new(),
                    quit: true,
                }
            }
            "load" if !rest.is_empty() => self.load(PathBuf::from(rest), true),
            "reload" => self.reload(),
            "check" => self.check_all(),
            "list" => self.list(),
            "fire" if !rest.is_empty() => self.fire(rest).await,
            "vars" => self.vars(),
            "set" => match rest.split_once('=') {
                Some((k, v)) if valid_name(k.trim()) => {
                    self.call.vars.set(k.trim(), v, Origin::Set);
                    format!("{} = {v:?}", k.trim())
                }
                _ => "usage: :set VAR=value".into(),
            },
            "unset" if !rest.is_empty() => {
                if self.call.vars.remove(rest) {
                    format!("{rest} removed")
                } else {
                    format!("{rest} is not set on this call")
                }
            }
            "new" => {
                self.calls_started += 1;
                self.call = Call::new(format!("repl-{}", self.calls_started));
                format!("new call {}", self.call.id)
            }
            "env" => self.env(),
            "stubs" if rest == "off" => match Transport::http_trusting(&self.ca_certs) {
                Ok(t) => {
                    self.engine.transport = t;
                    "stubs off: requests go to the network".into()
                }
                Err(e) => format!("error: {e}"),
            },
            "stubs" if !rest.is_empty() => match Stubs::load(std::path::Path::new(rest)) {
                Ok(s) => {
                    let n = s.len();
                    self.engine.transport = Transport::Stubs(Arc::new(s));
                    format!("{n} stubs loaded; requests that match none are refused")
                }
                Err(e) => format!("error: {e}"),
            },
            "dry" => match rest {
                "on" => {
                    self.engine.dry_run = true;
                    "dry run on: requests are printed, not sent".into()
                }
                "off" => {
                    self.engine.dry_run = false;
                    "dry run off: requests are sent".into()
                }
                _ => "usage: :dry on|off".into(),
            },
            "headers" => match rest {
                "on" | "off" => {
                    self.show_headers = rest == "on";
                    format!("response headers {rest}")
                }
                _ => "usage: :headers on|off".into(),
            },
            "explain" => match Code::parse(rest) {
                Some(c) => crate::explain::render(c),
                None => format!("`{rest}` is not a diagnostic code; `callhook explain` lists them"),
            },
            _ => {
                let known = [
                    "help", "load", "reload", "check", "list", "fire", "vars", "set", "unset",
                    "new", "env", "stubs", "dry", "headers", "explain", "quit",
                ];
                match suggest::nearest(name, known) {
                    Some(k) if k != name => format!(
                        "unknown command `:{name}`; did you mean `:{k}`? (:help lists them)"
                    ),
                    _ if known.contains(&name) => {
                        format!("`:{name}` needs an argument; :help shows how")
                    }
                    _ => format!("unknown command `:{name}`; :help lists them"),
                }
            }
        };
        Eval::text(text)
    }

    fn add_source(&mut self, name: String, text: &str) -> FileId {
        self.sources.add(name, text)
    }

    /// Workflows or a bare action typed at the prompt.
    async fn code(&mut self, input: &str) -> String {
        self.inputs += 1;
        let file = self.add_source(format!("<input {}>", self.inputs), input);
        match parse::parse_repl_input(file, input) {
            Err(diags) => self.render(&diags),
            Ok(ReplInput::Workflows(ws)) => self.add_workflows(ws, &[file], true),
            Ok(ReplInput::Action(a)) => self.bare_action(&a).await,
        }
    }

    fn options(&self) -> Options {
        Options {
            assume_stored: self.var_names().into_iter().collect(),
        }
    }

    /// Checks the session program with `new` added; keeps them if there is no error.
    /// Only diagnostics about the new text are shown, and not W0206 (a later input may
    /// use the variable).
    fn add_workflows(&mut self, new: Vec<Workflow>, files: &[FileId], typed: bool) -> String {
        let mut script = self.engine.script.clone();
        script.workflows.extend(new.iter().cloned());
        let diags: Vec<Diagnostic> = check::check(&script, &self.options())
            .into_iter()
            .filter(|d| files.contains(&d.primary.span.file) && d.code != Code::W0206)
            .collect();
        let mut out = self.render(&diags);
        if diags.iter().any(Diagnostic::is_error) {
            out.push_str("refused: fix the errors above; nothing was added\n");
            return out;
        }
        for w in &new {
            self.add_secrets(w.actions());
            out.push_str(&format!(
                "added {} on {}\n",
                engine::label(w, self.engine.script.workflows.len()),
                w.trigger.node
            ));
            self.engine.script.workflows.push(w.clone());
        }
        if typed {
            self.typed.extend(new);
        }
        self.engine.reindex();
        out
    }

    /// Makes sure the secrets these actions use are redacted from every output.
    fn add_secrets<'a>(&self, actions: impl Iterator<Item = &'a Action>) {
        for a in actions {
            for t in a.templates() {
                for e in t.envs() {
                    if let Some(v) = self.engine.env.get(&e.node) {
                        self.engine.redactor.add(v);
                    }
                }
            }
        }
    }

    async fn bare_action(&mut self, action: &Action) -> String {
        let diags = check::check_action(action);
        let mut out = self.render(&diags);
        if diags.iter().any(Diagnostic::is_error) {
            out.push_str("refused: fix the errors above; nothing was sent\n");
            return out;
        }
        self.add_secrets(std::iter::once(action));
        let missing: BTreeSet<String> = action
            .templates()
            .iter()
            .flat_map(|t| t.envs())
            .filter(|e| self.engine.env.get(&e.node).is_none())
            .map(|e| e.node.clone())
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.into_iter().collect();
            out.push_str(&format!(
                "refused: missing secret {}; set it in the environment or an --env-file\n",
                names.join(", ")
            ));
            return out;
        }
        let event = self.call.last.map_or("repl", Trigger::as_str);
        let (o, response) = self
            .engine
            .run_action_with_response(
                &mut self.call,
                event,
                &std::sync::Arc::from("repl"),
                "main",
                action,
            )
            .await;
        if let Some(preview) = &o.dry_run {
            out.push_str("dry run, not sent:\n");
            out.push_str(preview);
            return out;
        }
        let status = o.status.map_or("no response".to_string(), |s| {
            format!(
                "{s} {}",
                reqwest::StatusCode::from_u16(s)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("")
            )
        });
        out.push_str(&format!(
            "{status}  {}ms  {} attempt{}  {}\n",
            o.duration_ms,
            o.attempts,
            if o.attempts == 1 { "" } else { "s" },
            o.result
        ));
        if let Some(reason) = o.reason {
            out.push_str(&format!(
                "{}: {}\n",
                reason.as_str(),
                o.error.as_deref().unwrap_or("")
            ));
        }
        if let Some(r) = &response {
            if self.show_headers {
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\n"));
                }
            }
            out.push_str(&pretty_body(&r.body));
        }
        for m in &action.maps {
            let name = &m.target.node;
            match o.stored.get(name) {
                Some(v) => out.push_str(&format!("stored {name} = {v:?}\n")),
                None if o.succeeded() => out.push_str(&format!(
                    "not stored {name}: the path is missing or null in the response\n"
                )),
                None => out.push_str(&format!("not stored {name}: the action failed\n")),
            }
        }
        self.last_response = response;
        out
    }

    /// `:load FILE`: parse and check the file with the session's program.
    fn load(&mut self, path: PathBuf, remember: bool) -> String {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return format!("error: cannot read {}: {e}\n", path.display()),
        };
        let file = self.add_source(path.display().to_string(), &text);
        let parsed = parse::parse_file(file, &text);
        if !parsed.diagnostics.is_empty() {
            return self.render(&parsed.diagnostics)
                + "refused: the file has syntax errors; nothing was added\n";
        }
        let out = self.add_workflows(parsed.workflows, &[file], false);
        if remember && !out.contains("refused") && !self.loaded.contains(&path) {
            self.loaded.push(path);
        }
        out
    }

    fn reload(&mut self) -> String {
        self.engine.script.workflows.clear();
        let mut out = String::new();
        for p in self.loaded.clone() {
            out.push_str(&self.load(p, false));
        }
        self.engine
            .script
            .workflows
            .extend(self.typed.iter().cloned());
        self.engine.reindex();
        out.push_str(&format!(
            "{} workflows in the session\n",
            self.engine.script.workflows.len()
        ));
        out
    }

    fn check_all(&self) -> String {
        let diags = check::check(&self.engine.script, &self.options());
        let mut out = self.render(&diags);
        out.push_str(&format!(
            "{} workflows: {}\n",
            self.engine.script.workflows.len(),
            render::summary(&diags)
        ));
        out
    }

    fn list(&self) -> String {
        let mut out = String::new();
        for t in Trigger::ALL {
            let mut ws: Vec<(usize, &Workflow)> = self
                .engine
                .script
                .workflows
                .iter()
                .enumerate()
                .filter(|(_, w)| w.trigger.node == t.as_str())
                .collect();
            ws.sort_by_key(|(i, w)| (w.order_value(), *i));
            for (i, w) in ws {
                let when = if w.when.is_some() { " (when ...)" } else { "" };
                out.push_str(&format!(
                    "{:<17} order {:<3} {}: {} {}{when}\n",
                    t.as_str(),
                    w.order_value(),
                    engine::label(w, i),
                    w.main.method.node.as_str(),
                    w.main.url.source_text()
                ));
            }
        }
        if out.is_empty() {
            out.push_str("no workflows yet: type one, or :load a file\n");
        }
        out
    }

    async fn fire(&mut self, rest: &str) -> String {
        let mut words = rest.split_whitespace();
        let name = words.next().unwrap_or("");
        let Some(trigger) = Trigger::parse(name) else {
            let hint = suggest::nearest(name, Trigger::ALL.iter().map(|t| t.as_str()))
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return format!("unknown event `{name}`{hint}\n");
        };
        let mut vars = Vec::new();
        for w in words {
            match w.split_once('=') {
                Some((k, v)) if valid_name(k) => vars.push((k.to_string(), v.to_string())),
                _ => return format!("`{w}` is not VAR=value\n"),
            }
        }
        if !lifecycle::can_follow(self.call.last, trigger) {
            return format!(
                "refused: {}\n",
                engine::lifecycle_error(self.call.last, trigger)
            );
        }
        let color = self.color;
        let mut lines = String::new();
        let mut on_outcome = |o: &crate::run::outcome::Outcome| lines.push_str(&o.human(color));
        let fired = self
            .engine
            .fire(&mut self.call, trigger, None, vars, &mut on_outcome)
            .await;
        match fired {
            Err(e) => format!("refused: {e}\n"),
            Ok(f) => {
                let mut out = lines;
                for s in &f.skipped {
                    out.push_str(&format!("{s}: skipped (`when` is false)\n"));
                }
                if f.outcomes.is_empty() && f.skipped.is_empty() {
                    out.push_str(&format!("{trigger} applied; no workflow on it\n"));
                }
                out
            }
        }
    }

    fn vars(&self) -> String {
        if self.call.vars.is_empty() {
            return "no variables on this call\n".into();
        }
        let width = self
            .call
            .vars
            .iter()
            .map(|(k, _, _)| k.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (k, v, origin) in self.call.vars.iter() {
            let from = match origin {
                Origin::Event => "event".to_string(),
                Origin::Workflow(w) => format!("workflow {w}"),
                Origin::Set => ":set".to_string(),
            };
            out.push_str(&format!("{k:<width$} = {v:?}  ({from})\n"));
        }
        out
    }

    fn env(&self) -> String {
        let mut names = secrets::used_secrets(&self.engine.script);
        names.extend(
            self.typed
                .iter()
                .flat_map(|w| w.actions())
                .flat_map(|a| a.templates())
                .flat_map(|t| t.envs().map(|e| e.node.clone()).collect::<Vec<_>>()),
        );
        if names.is_empty() {
            return "the session uses no secrets\n".into();
        }
        names
            .iter()
            .map(|n| {
                format!(
                    "{n} ({})\n",
                    if self.engine.env.get(n).is_some() {
                        "set"
                    } else {
                        "missing"
                    }
                )
            })
            .collect()
    }

    fn render(&self, diags: &[Diagnostic]) -> String {
        render::human_all(&self.sources, diags, self.color)
    }
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The body, pretty-printed when it is JSON, cut at [`BODY_SHOWN`] characters with a note.
fn pretty_body(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let total = text.chars().count();
    if total > BODY_SHOWN {
        let shown: String = text.chars().take(BODY_SHOWN).collect();
        format!(
            "{shown}\n... (truncated: {} more characters)\n",
            total - BODY_SHOWN
        )
    } else {
        format!("{text}\n")
    }
}

fn paths(v: &serde_json::Value, prefix: String, out: &mut Vec<String>) {
    if out.len() > 500 {
        return;
    }
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    k.clone()
                } else {
                    format!("{k:?}")
                };
                let p = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                out.push(p.clone());
                paths(v, p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate().take(3) {
                let p = format!("{prefix}[{i}]");
                out.push(p.clone());
                paths(v, p, out);
            }
        }
        _ => {}
    }
}
