//! The line editor: rustyline with multi-line input (a validator), highlighting, hints,
//! tab completion and persistent history (secrets redacted before anything is written).

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};

use super::session::Session;
use crate::model::Trigger;

pub const COMMANDS: &[&str] = &[
    ":help", ":load", ":reload", ":check", ":list", ":fire", ":vars", ":set", ":unset", ":new",
    ":env", ":stubs", ":dry", ":headers", ":explain", ":quit",
];

const KEYWORDS: &[&str] = &[
    "workflow", "scope", "on", "order", "when", "else", "and", "not", "header", "query", "auth",
    "bearer", "basic", "oauth2", "body", "form", "xml", "call", "timeout", "retry", "backoff",
    "map", "required", "xpath", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
];

/// What completion knows about the session, refreshed after every input.
#[derive(Default)]
pub struct Known {
    pub vars: Vec<String>,
    pub paths: Vec<String>,
}

pub struct CallhookHelper {
    pub known: Rc<RefCell<Known>>,
    pub color: bool,
}

/// Completion candidates for `line` with the cursor at `pos`: (start of the word, words).
pub fn complete(line: &str, pos: usize, known: &Known) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| c.is_whitespace() || c == '"')
        .map_or(0, |i| i + 1);
    let word = &before[start..];
    let prev: Vec<&str> = before[..start].split_whitespace().collect();
    let filter = |items: Vec<String>| {
        items
            .into_iter()
            .filter(|c| c.starts_with(word))
            .collect::<Vec<_>>()
    };
    // Inside a token: `$CALL` -> `$CALLER_ID$`.
    if let Some(d) = word.rfind('$') {
        let open = word[..=d].matches('$').count() % 2 == 1;
        if open {
            let partial = &word[d + 1..];
            let vars: Vec<String> = known
                .vars
                .iter()
                .filter(|v| v.starts_with(partial))
                .map(|v| format!("{}{v}$", &word[..=d]))
                .collect();
            return (start, vars);
        }
    }
    if start == 0 && word.starts_with(':') {
        return (0, filter(COMMANDS.iter().map(|c| c.to_string()).collect()));
    }
    if prev.last() == Some(&"on") || prev.first() == Some(&":fire") && prev.len() == 1 {
        return (
            start,
            filter(
                Trigger::ALL
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect(),
            ),
        );
    }
    if prev.len() >= 3 && prev[prev.len() - 3] == "map" && prev[prev.len() - 1] == "=" {
        return (start, filter(known.paths.clone()));
    }
    if matches!(prev.first(), Some(&":set") | Some(&":unset")) {
        return (start, filter(known.vars.clone()));
    }
    (start, vec![])
}

impl Completer for CallhookHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = complete(line, pos, &self.known.borrow());
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for CallhookHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() || !line.starts_with(':') || line.contains(' ') {
            return None;
        }
        let matches: Vec<&&str> = COMMANDS
            .iter()
            .filter(|c| c.starts_with(line) && c.len() > line.len())
            .collect();
        match matches.as_slice() {
            [one] => Some(one[line.len()..].to_string()),
            _ => None,
        }
    }
}

impl Validator for CallhookHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if super::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Highlighter for CallhookHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Helper for CallhookHelper {}

/// Keywords and methods blue, triggers magenta, strings green, `$TOKENS$` yellow, comments dim.
pub fn highlight(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' {
            out.push_str("\x1b[2m");
            out.push_str(&line[i..]);
            out.push_str("\x1b[0m");
            return out;
        }
        if c == '"' {
            out.push_str("\x1b[32m\"");
            let mut escaped = false;
            for (_, c) in chars.by_ref() {
                if c == '$' && !escaped {
                    out.push_str("\x1b[33m$\x1b[32m");
                } else {
                    out.push(c);
                }
                if c == '"' && !escaped {
                    break;
                }
                escaped = c == '\\' && !escaped;
            }
            out.push_str("\x1b[0m");
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let word = &line[i..end];
            if KEYWORDS.contains(&word) {
                out.push_str(&format!("\x1b[1;34m{word}\x1b[0m"));
            } else if Trigger::parse(word).is_some() {
                out.push_str(&format!("\x1b[35m{word}\x1b[0m"));
            } else {
                out.push_str(word);
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn history_path() -> Option<std::path::PathBuf> {
    dirs::data_dir().map(|d| d.join("callhook").join("history.txt"))
}

pub fn interactive(mut session: Session, runtime: &tokio::runtime::Runtime) -> u8 {
    // Take over SIGINT for the whole session, not only while a request runs: a Ctrl-C that
    // lands between the prompt and the request would otherwise end the process.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Err(e) = runtime.block_on(async { signal(SignalKind::interrupt()).map(drop) }) {
            eprintln!("warning: Ctrl-C cannot be caught ({e}); it will end the session");
        }
    }
    let color = crate::render::ColorChoice::Auto.enabled(true);
    let known = Rc::new(RefCell::new(Known::default()));
    let config = rustyline::Config::builder().auto_add_history(false).build();
    let mut editor: Editor<CallhookHelper, rustyline::history::DefaultHistory> =
        match Editor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start the line editor: {e}");
                return 2;
            }
        };
    editor.set_helper(Some(CallhookHelper {
        known: known.clone(),
        color,
    }));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    println!("callhook repl: type a workflow, a bare action (GET \"https://...\") or :help. Ctrl-D leaves.");
    loop {
        {
            let mut k = known.borrow_mut();
            k.vars = session.var_names();
            k.paths = session.response_paths();
        }
        let line = match editor.readline(&session.prompt()) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        };
        // Ctrl-C while a request is in flight cancels it (and never kills the session).
        let out = runtime.block_on(async {
            tokio::select! {
                out = session.eval(&line) => Some(out),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        match out {
            Some(out) => {
                print!("{}", out.output);
                if out.quit {
                    break;
                }
            }
            None => println!("cancelled"),
        }
        // After evaluation: the redactor now knows the secrets this line used.
        if !line.trim().is_empty() {
            let safe = session.engine.redactor.redact(&line);
            let _ = editor.add_history_entry(safe);
            if let Some(h) = &history {
                if let Some(dir) = h.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                let _ = editor.save_history(h);
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion() {
        let known = Known {
            vars: vec![
                "CALLER_ID".into(),
                "CALLER_ID_E164".into(),
                "AGENT_NAME".into(),
            ],
            paths: vec![
                "contacts".into(),
                "contacts[0]".into(),
                "contacts[0].id".into(),
            ],
        };
        assert_eq!(complete(":fi", 3, &known), (0, vec![":fire".to_string()]));
        assert_eq!(
            complete(":fire Agent", 11, &known).1,
            vec!["AgentDeclined", "AgentConnected"]
        );
        assert_eq!(
            complete("on Call", 7, &known).1,
            vec!["CallConnected", "CallEnded"]
        );
        let line = "GET \"https://x/?p=$CALLER";
        assert_eq!(
            complete(line, line.len(), &known).1,
            vec!["https://x/?p=$CALLER_ID$", "https://x/?p=$CALLER_ID_E164$"]
        );
        let line = "GET \"https://x\" map ID = contacts[0].";
        assert_eq!(complete(line, line.len(), &known).1, vec!["contacts[0].id"]);
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let line = "on AgentConnected < GET \"https://x/$A$\" map X = id # note";
        let h = highlight(line);
        let plain: String = strip_ansi(&h);
        assert_eq!(plain, line);
        assert!(h.contains("\x1b[35mAgentConnected"));
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut in_esc = false;
        for c in s.chars() {
            match (in_esc, c) {
                (false, '\x1b') => in_esc = true,
                (true, 'm') => in_esc = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    }
}
