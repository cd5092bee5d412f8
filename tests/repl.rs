//! The REPL's evaluation core against a real local server, its rendered outputs as
//! snapshots, and one end-to-end session in a pseudo-terminal.

mod support;

// Snapshots of REPL output live in snapshots/repl.

use callhook::repl::session::Session;
use callhook::run::http::Transport;
use callhook::run::secrets::Env;

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "../snapshots/repl", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn session(env: &[(&str, &str)]) -> Session {
    Session::new(
        Transport::http().unwrap(),
        Env::from_pairs(env.iter().copied()),
        false,
    )
}

/// Output with the server's address and timings made stable.
fn stable(out: &str, base: &str) -> String {
    let re = regex::Regex::new(r"\b\d+ms\b").unwrap();
    re.replace_all(&out.replace(base, "http://SERVER"), "Nms")
        .into_owned()
}

#[tokio::test]
async fn bare_action_then_a_workflow_that_uses_what_it_stored() {
    let s = support::start().await;
    let mut r = session(&[]);
    let out = r
        .eval(&format!(
            r#"GET "{}/contact/%2B331" map CRM_ID = id map MISSING = nope map N = n"#,
            s.base
        ))
        .await
        .output;
    assert!(
        out.contains("warning[W0204]") && out.contains("\n200 OK"),
        "{out}"
    );
    assert!(out.contains("stored CRM_ID = \"C-%2B331\""), "{out}");
    assert!(
        out.contains("not stored MISSING: the path is missing or null"),
        "{out}"
    );
    snap!("bare_action", stable(&out, &s.base));
    assert_eq!(
        r.response_paths()[..3],
        ["id".to_string(), "n".into(), "nested".into()]
    );
    // CRM_ID exists on the call, so the checker counts it as stored.
    let out = r
        .eval(&format!(
            "on CallEnded <\n  POST \"{}/notes/$CRM_ID$\" body call\n>",
            s.base
        ))
        .await
        .output;
    assert!(
        out.ends_with("added on CallEnded #1 on CallEnded\n"),
        "{out}"
    );
    let out = r.eval(":fire CallEnded CALL_HANDLE_TIME=12").await.output;
    assert!(out.contains("SUCCESS"), "{out}");
    assert_eq!(s.seen_path("/notes/C-%252B331").len(), 1, "{:?}", s.seen());
    let body = s.seen_path("/notes/")[0].json();
    assert_eq!(body["variables"]["CALL_HANDLE_TIME"], "12");
}

#[tokio::test]
async fn workflows_with_errors_are_refused_with_check_diagnostics() {
    let s = support::start().await;
    let mut r = session(&[]);
    let out = r
        .eval(&format!(
            r#"on AgentConected < GET "{}/x?p=$CALLER_ID_E146$" >"#,
            s.base
        ))
        .await
        .output;
    assert!(
        out.contains("error[E0101]") && out.contains("refused"),
        "{out}"
    );
    snap!("refused_workflow", stable(&out, &s.base));
    assert!(r.eval(":list").await.output.contains("no workflows yet"));
    let out = r
        .eval(r#"GET "ftp://x.example.com/a" body call"#)
        .await
        .output;
    assert!(
        out.contains("E0106") && out.contains("E0108") && out.contains("nothing was sent"),
        "{out}"
    );
    assert!(s.seen().is_empty());
}

#[tokio::test]
async fn fire_vars_set_unset_new_and_lifecycle() {
    let s = support::start().await;
    let mut r = session(&[]);
    let out = r
        .eval(&format!(
            r#"workflow "look-up" on AgentConnected < GET "{}/contact/$CALLER_ID$" map CRM_ID = id >"#,
            s.base
        ))
        .await
        .output;
    assert!(out.contains("added look-up"), "{out}");
    assert!(r.prompt().contains("new call"));
    let out = r
        .eval(":fire AgentConnected CALLER_ID=42 AGENT_NAME=Alice")
        .await
        .output;
    assert!(out.contains("CRM_ID=C-42"), "{out}");
    assert!(r.prompt().contains("AgentConnected"));
    r.eval(":set NOTE=hello world").await;
    let vars = r.eval(":vars").await.output;
    snap!("vars", vars);
    assert!(r.eval(":unset NOTE").await.output.contains("NOTE removed"));
    let out = r.eval(":fire CustomerAbandoned").await.output;
    assert!(
        out.starts_with("refused: `CustomerAbandoned` cannot follow AgentConnected"),
        "{out}"
    );
    assert!(r.eval(":fire Nope").await.output.contains("unknown event"));
    assert!(r.eval(":new").await.output.contains("repl-2"));
    assert!(!r.eval(":vars").await.output.contains("CRM_ID"));
}

#[tokio::test]
async fn secrets_stay_off_the_screen() {
    let s = support::start().await;
    let mut r = session(&[("CALLHOOK_REPL_TOKEN", "tok-SECRET-42")]);
    let out = r
        .eval(&format!(r#"POST "{}/echo" header Authorization = "Bearer $env.CALLHOOK_REPL_TOKEN$" map A = authorization"#, s.base))
        .await
        .output;
    assert!(!out.contains("tok-SECRET-42"), "{out}");
    assert!(out.contains("Bearer ***"), "{out}");
    assert!(!r.eval(":vars").await.output.contains("tok-SECRET-42"));
    // The typed workflow uses it too; :env names it without its value.
    r.eval(&format!(
        r#"on CallEnded < POST "{}/x" header X-K = "$env.CALLHOOK_REPL_TOKEN$" >"#,
        s.base
    ))
    .await;
    let env = r.eval(":env").await.output;
    assert_eq!(env, "CALLHOOK_REPL_TOKEN (set)\n");
    let out = r
        .eval(r#"GET "https://x.example.com/" header K = "$env.CALLHOOK_NOT_SET$""#)
        .await
        .output;
    assert!(out.contains("missing secret CALLHOOK_NOT_SET"), "{out}");
}

#[tokio::test]
async fn commands() {
    let s = support::start().await;
    let dir = std::env::temp_dir().join(format!("callhook-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("s.hook");
    std::fs::write(
        &script,
        format!(
            "workflow \"a\" on AgentConnected < GET \"{}/contact/1\" map ID = id >\n",
            s.base
        ),
    )
    .unwrap();
    let stubs = dir.join("stubs.json");
    std::fs::write(
        &stubs,
        r#"[{"url": "https://stub.example.com/*", "json": {"id": "S-1"}}]"#,
    )
    .unwrap();
    let mut r = session(&[]);
    let load = r.eval(&format!(":load {}", script.display())).await.output;
    assert!(load.ends_with("added a on AgentConnected\n"), "{load}");
    let list = r.eval(":list").await.output;
    snap!("list", stable(&list, &s.base));
    std::fs::write(
        &script,
        format!(
            "workflow \"b\" on CallEnded < GET \"{}/contact/2\" >\n",
            s.base
        ),
    )
    .unwrap();
    let reload = r.eval(":reload").await.output;
    assert!(
        reload.contains("added b") && reload.contains("1 workflows"),
        "{reload}"
    );
    let check = r.eval(":check").await.output;
    assert!(
        check.ends_with("1 workflows: 0 errors, 1 warning\n"),
        "{check}"
    );
    assert!(r
        .eval(":stubs /no/such/file")
        .await
        .output
        .starts_with("error: cannot read"));
    assert!(r
        .eval(&format!(":stubs {}", stubs.display()))
        .await
        .output
        .contains("1 stubs loaded"));
    let out = r
        .eval(r#"GET "https://stub.example.com/x" map SID = id"#)
        .await
        .output;
    assert!(out.contains("stored SID = \"S-1\""), "{out}");
    let out = r
        .eval(r#"GET "https://elsewhere.example.com/x""#)
        .await
        .output;
    assert!(out.contains("NETWORK_ERROR: no stub matches"), "{out}");
    // Back to the network: the local server answers again.
    assert!(r.eval(":stubs off").await.output.contains("stubs off"));
    let out = r
        .eval(&format!(r#"GET "{}/contact/9" map NID = id"#, s.base))
        .await
        .output;
    assert!(out.contains("stored NID = \"C-9\""), "{out}");
    r.eval(&format!(":stubs {}", stubs.display())).await;
    r.eval(":dry on").await;
    let out = r
        .eval(r#"POST "https://stub.example.com/y?p=$SID$" body { "a": "$SID$" }"#)
        .await
        .output;
    snap!("dry_run", out);
    assert!(r.eval(":dry maybe").await.output.contains("usage"));
    assert!(r
        .eval(":explain w0207")
        .await
        .output
        .starts_with("W0207 (warning)"));
    assert!(r.eval(":help").await.output.contains(":fire EVENT"));
    assert!(r
        .eval(":lod x")
        .await
        .output
        .contains("did you mean `:load`"));
    assert!(r.eval(":quit").await.quit);
}

#[test]
fn piped_stdin_is_read_line_by_line() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_callhook"))
        .args([
            "repl",
            "examples/crm-screen-pop.hook",
            "--stubs",
            "examples/stubs.json",
            "--env-file",
            "examples/demo.env",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b":fire AgentConnected CALLER_ID_E164=+33612345678 AGENT_NAME=Alice QUEUE_NAME=Support\n:fire CallEnded CALL_HANDLE_TIME=3 CALL_TERMINATION_REASON=x\non CallEnded <\n  POST \"https://crm.example.com/tickets/$TICKET_ID$/notes\"\n  body call\n>\n:quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("CRM_CONTACT_ID=C-1001"), "{text}");
    assert!(
        text.contains("Write back: POST https://crm.example.com/tickets/T-77/notes -> 201"),
        "{text}"
    );
    assert!(text.contains("added on CallEnded"), "{text}");
    assert!(!text.contains("demo-crm-token-123"));
    assert!(!text.contains("\u{1b}["), "plain output expected");
}

/// The real binary in a pseudo-terminal: a bare GET, the mapped value, Ctrl-C cancelling a
/// slow request, Tab completion of a variable name, and a clean exit.
#[test]
fn end_to_end_in_a_pseudo_terminal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(support::start());
    let home = std::env::temp_dir().join(format!("callhook-pty-{}", std::process::id()));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_callhook"));
    cmd.arg("repl")
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut p = rexpect::spawn_with_options(
        cmd,
        rexpect::reader::Options {
            timeout_ms: Some(20_000),
            strip_ansi_escape_codes: true,
        },
    )
    .unwrap();
    p.exp_string("callhook(repl-1").unwrap();
    p.send_line(&format!(
        r#"GET "{}/contact/77" map CONTACT_REF = id"#,
        s.base
    ))
    .unwrap();
    p.exp_string("stored CONTACT_REF = \"C-77\"").unwrap();
    // Input is sent only once the next prompt is up: rustyline switches the terminal to raw
    // mode before it draws the prompt, and that switch discards anything typed ahead.
    p.exp_string("callhook(repl-1").unwrap();
    // Ctrl-C cancels a request in flight (the server takes 3 s to answer /slow) and the
    // session goes on, with what it had.
    p.send_line(&format!(
        r#"GET "{}/slow" timeout 10s map LATE = id"#,
        s.base
    ))
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_string("callhook(repl-1").unwrap();
    // Tab completes the variable name inside `$...`.
    p.send(":set COPY=$CONTACT_R").unwrap();
    p.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    p.send("\t").unwrap();
    p.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("COPY = \"$CONTACT_REF$\"").unwrap();
    p.exp_string("callhook(repl-1").unwrap();
    p.send_line(":vars").unwrap();
    // Sorted: the mapped and :set variables come before `callId  = "repl-1"  (event)`.
    let vars = p.exp_string("(event)").unwrap();
    assert!(vars.contains("(workflow repl)"), "{vars}");
    assert!(
        !vars.contains("LATE"),
        "a cancelled request stores nothing: {vars}"
    );
    p.exp_string("callhook(repl-1").unwrap();
    p.send_control('d').unwrap();
    if let Err(e) = p.exp_eof() {
        panic!("no clean exit after Ctrl-D: {e:?}");
    }
    let history =
        std::fs::read_to_string(home.join("data/callhook/history.txt")).unwrap_or_default();
    assert!(history.contains("CONTACT_REF"), "history: {history}");
}
