//! `callhook check` and `callhook explain` as a user runs them: exit codes and output.

use std::process::{Command, Output};

fn callhook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callhook"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("run callhook")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn examples_check_clean_together() {
    let files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hook"))
        .map(|p| p.display().to_string())
        .collect();
    for f in &files {
        let o = callhook(&["check", "--deny-warnings", f]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stdout(&o));
    }
}

#[test]
fn errors_exit_1_and_warnings_only_with_deny() {
    let o = callhook(&["check", "tests/cases/check/e0104_fail_later_trigger.hook"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error[E0104]"));
    let o = callhook(&["check", "tests/cases/check/w0204_fail_plain_http.hook"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("warning[W0204]"));
    let o = callhook(&[
        "check",
        "--deny-warnings",
        "tests/cases/check/w0204_fail_plain_http.hook",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let o = callhook(&["check", "does/not/exist.hook"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does/not/exist.hook"));
    assert_eq!(callhook(&["check"]).status.code(), Some(2));
    assert_eq!(callhook(&["check", "--bogus", "x"]).status.code(), Some(2));
    assert_eq!(callhook(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn several_files_are_one_program() {
    let dir = std::env::temp_dir().join(format!("callhook-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.hook");
    let b = dir.join("b.hook");
    std::fs::write(
        &a,
        "on AgentConnected < GET \"https://crm.example.com/c\" map CRM_ID = id >\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "on CallConnected < POST \"https://crm.example.com/c/$CRM_ID$\" body call >\n",
    )
    .unwrap();
    let o = callhook(&[
        "check",
        "--deny-warnings",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Alone, b uses a variable nothing maps.
    let o = callhook(&["check", "--format", "json", b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E0102");
    assert_eq!(d["line"], 1);
    assert_eq!(d["column"], 52);
    assert!(d["file"].as_str().unwrap().ends_with("b.hook"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let bad = "tests/cases/check/e0102_fail_typo.hook";
    let o = callhook(&["check", "--color", "always", bad]);
    assert!(stdout(&o).contains("\u{1b}["), "colour expected");
    let o = callhook(&["check", bad]);
    assert!(!stdout(&o).contains("\u{1b}["), "not a terminal: no colour");
    let o = Command::new(env!("CARGO_BIN_EXE_callhook"))
        .args(["check", "--color", "auto", bad])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&o).contains("\u{1b}["));
}

#[test]
fn explain_prints_examples() {
    let o = callhook(&["explain", "e0104"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(s.starts_with("E0104 (error)"));
    assert!(s.contains("Wrong:") && s.contains("Right:"));
    let o = callhook(&["explain"]);
    assert_eq!(
        stdout(&o).lines().count(),
        callhook::diagnostic::Code::ALL.len()
    );
}

#[test]
fn help_and_version() {
    let o = callhook(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("check"));
    let o = callhook(&["check", "--help"]);
    assert!(stdout(&o).contains("--deny-warnings"));
    let o = callhook(&["--version"]);
    assert!(stdout(&o).starts_with("callhook "));
}

/// Thousands of diagnostics on one long line would print the line thousands of times: past
/// 200 the rest are counted, not rendered, and the JSON output still has every one.
#[test]
fn many_diagnostics_are_capped_for_people_not_for_tools() {
    let dir = std::env::temp_dir().join(format!("callhook-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("many.hook");
    let tokens: String = (0..250).map(|i| format!("$UNKNOWN_{i}$")).collect();
    std::fs::write(
        &path,
        format!("on CallEnded < GET \"https://x.example/{tokens}\" >\n"),
    )
    .unwrap();
    let path = path.display().to_string();
    let o = callhook(&["check", "--color", "never", &path]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_eq!(out.matches("error[E0102]").count(), 200);
    assert!(
        out.contains("note: 50 more not shown (50 errors, 0 warnings)"),
        "{}",
        &out[out.len().saturating_sub(400)..]
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("250 errors"),
        "the summary counts them all: {err}"
    );
    let o = callhook(&["check", "--format", "json", &path]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = doc["diagnostics"].as_array().map_or(0, |a| a.len());
    assert_eq!(n, 250, "{doc}");
}
