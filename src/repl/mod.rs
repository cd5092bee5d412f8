//! `callhook repl`: an interactive session on one live call (SPEC section 8). The line
//! editor lives here; [`session`] evaluates what is typed with the same engine as `run`.

pub mod editor;
pub mod session;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use session::Session;

/// Whether `text` is a complete input: `<` and `>` balance outside strings and comments.
pub fn is_complete(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    for c in text.chars() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => in_comment = true,
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
    }
    depth <= 0 && !in_string
}

/// Runs the REPL: with a line editor on a terminal, line by line otherwise.
pub fn run(scripts: &[PathBuf], mut session: Session, runtime: &tokio::runtime::Runtime) -> u8 {
    for s in scripts {
        let out = runtime.block_on(session.eval(&format!(":load {}", s.display())));
        print!("{}", out.output);
    }
    if std::io::stdin().is_terminal() {
        editor::interactive(session, runtime)
    } else {
        plain(session, runtime)
    }
}

/// Standard input is not a terminal: read commands line by line, print plain output.
fn plain(mut session: Session, runtime: &tokio::runtime::Runtime) -> u8 {
    let stdin = std::io::stdin();
    let mut pending = String::new();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        pending.push_str(&line);
        pending.push('\n');
        if !is_complete(&pending) {
            continue;
        }
        let input = std::mem::take(&mut pending);
        let out = runtime.block_on(session.eval(&input));
        let _ = stdout.write_all(out.output.as_bytes());
        let _ = stdout.flush();
        if out.quit {
            return 0;
        }
    }
    if !pending.trim().is_empty() {
        eprintln!("error: the input ended inside an unfinished workflow (a `<` without its `>`)");
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn balance() {
        assert!(is_complete("GET \"https://x\""));
        assert!(!is_complete("on CallEnded <\n GET \"https://x\""));
        assert!(is_complete(
            "on CallEnded <\n GET \"https://x?a=<\" # >>\n>"
        ));
        assert!(!is_complete("on CallEnded < GET \"x > "));
        assert!(is_complete(":help"));
    }
}
