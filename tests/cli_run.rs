//! `callhook run` as a user runs it: the binary, its exit codes, and what it prints.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::json;

fn callhook(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callhook"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("callhook-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_secrets_refuse_to_start_and_send_nothing() {
    let s = support::start().await;
    let script = write(
        "secrets.hook",
        &format!(
            r#"on AgentConnected < GET "{b}/a" header Authorization = "Bearer $env.CALLHOOK_T_ONE$" >
               on CallEnded < POST "{b}/b" auth basic "u" "$env.CALLHOOK_T_TWO$" >"#,
            b = s.base
        ),
    );
    let events = support::ev("c", "AgentConnected", json!({}));
    let o = tokio::task::spawn_blocking(move || {
        callhook(&["run", &script, "--events", "-"], &events, &[])
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("CALLHOOK_T_ONE") && t.contains("CALLHOOK_T_TWO"),
        "{t}"
    );
    assert!(s.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_stdout_or_stderr() {
    let s = support::start().await;
    let secret = "Zx9-very+secret/value";
    let script = write(
        "leak.hook",
        &format!(
            r#"workflow "leaky" on AgentConnected <
                 POST "{b}/echo?key=$env.CALLHOOK_SECRET$"
                 header Authorization = "Bearer $env.CALLHOOK_SECRET$"
                 body {{ "k": "$env.CALLHOOK_SECRET$" }}
                 map ECHO = @raw
                 map AUTH = authorization
               >
               workflow "fail" on CallEnded < GET "{b}/status/500?k=$env.CALLHOOK_SECRET$" retry 0 map RAW = @raw >
               on CallEnded order 1 < POST "{b}/use" body {{ "e": "$ECHO?$", "a": "$AUTH?$", "r": "$RAW?$" }} >"#,
            b = s.base
        ),
    );
    let events =
        support::ev("c", "AgentConnected", json!({})) + &support::ev("c", "CallEnded", json!({}));
    for format in ["human", "json"] {
        let (script, events) = (script.clone(), events.clone());
        let o = tokio::task::spawn_blocking(move || {
            callhook(
                &[
                    "run", &script, "--events", "-", "--format", format, "--color", "always",
                ],
                &events,
                &[("CALLHOOK_SECRET", secret)],
            )
        })
        .await
        .unwrap();
        let t = text(&o);
        assert!(t.contains("leaky"), "{t}");
        for form in [
            secret,
            "Zx9-very%2Bsecret%2Fvalue",
            "Zx9-very+secret\\/value",
        ] {
            assert!(!t.contains(form), "{format}: secret leaked as {form}:\n{t}");
        }
        assert!(t.contains("***"));
    }
    // The server did get the real value.
    assert_eq!(
        s.seen_path("/echo")[0].header("authorization").unwrap(),
        format!("Bearer {secret}")
    );
}

#[test]
fn readme_main_job_runs_offline_with_stubs() {
    let o = callhook(
        &[
            "run",
            "examples/crm-screen-pop.hook",
            "--events",
            "examples/events.jsonl",
            "--stubs",
            "examples/stubs.json",
            "--env-file",
            "examples/demo.env",
        ],
        "",
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("CRM_CONTACT_ID=C-1001"), "{t}");
    assert!(t.contains("CRM lookup (else)"), "{t}");
    assert!(t.contains("/tickets/T-77/notes"), "{t}");
    assert!(!t.contains("demo-crm-token-123"));
}

#[test]
fn every_example_runs_against_the_stubs() {
    for ex in [
        "crm-screen-pop",
        "power-automate",
        "phonon-lookup",
        "post-call-notify",
        "callback-task",
    ] {
        let o = callhook(
            &[
                "run",
                &format!("examples/{ex}.hook"),
                "--events",
                "examples/events.jsonl",
                "--stubs",
                "examples/stubs.json",
                "--env-file",
                "examples/demo.env",
                "--format",
                "json",
            ],
            "",
            &[],
        );
        let t = text(&o);
        let summary: serde_json::Value =
            serde_json::from_str(t.lines().rfind(|l| l.contains("\"summary\"")).unwrap()).unwrap();
        assert!(
            summary["actions_succeeded"].as_u64().unwrap() > 0,
            "{ex}: {t}"
        );
        assert_eq!(summary["events_rejected"], 0, "{ex}: {t}");
        assert!(!t.contains("no stub matches"), "{ex}: {t}");
    }
}

#[test]
fn stubs_refuse_unmatched_requests_and_dry_run_sends_nothing() {
    let script = write(
        "unmatched.hook",
        "workflow \"w\" on AgentConnected < GET \"https://elsewhere.example.com/x\" >\n",
    );
    let stubs = write(
        "stubs.json",
        r#"[{"url": "https://crm.example.com/*", "json": {}}]"#,
    );
    let events = support::ev("c", "AgentConnected", json!({}));
    let o = callhook(
        &["run", &script, "--events", "-", "--stubs", &stubs],
        &events,
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("no stub matches GET https://elsewhere.example.com/x"),
        "{}",
        text(&o)
    );

    // Dry run: a real URL on a closed port would fail if anything were sent.
    let script = write("dry.hook", "workflow \"w\" on AgentConnected < POST \"http://127.0.0.1:9/x?p=$CALLER_ID_E164$\" body { \"a\": \"$CALLER_ID_E164$\" } >\n");
    let events = support::ev("c", "AgentConnected", json!({"CALLER_ID_E164": "+331"}));
    let o = callhook(
        &["run", &script, "--events", "-", "--dry-run"],
        &events,
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("POST http://127.0.0.1:9/x?p=%2B331"), "{t}");
    assert!(t.contains(r#"{"a":"+331"}"#), "{t}");
}

#[test]
fn check_errors_bad_files_and_usage_exit_2() {
    let bad = write(
        "bad.hook",
        "on AgentConnected < GET \"https://x.example.com/$NOPE$\" >\n",
    );
    let o = callhook(&["run", &bad, "--events", "-"], "", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("E0102"));
    let good = write(
        "good.hook",
        "on AgentConnected < GET \"https://x.example.com/\" >\n",
    );
    assert_eq!(
        callhook(&["run", &good, "--events", "/no/such/file"], "", &[])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(callhook(&["run", &good], "", &[]).status.code(), Some(2));
    let stubs = write("broken-stubs.json", "[{\"url\": ");
    let o = callhook(&["run", &good, "--events", "-", "--stubs", &stubs], "", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("line 1"), "{}", text(&o));
    let envf = write("bad.env", "OK=1\nthis is not an assignment\n");
    let o = callhook(
        &["run", &good, "--events", "-", "--env-file", &envf],
        "",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains(":2:"), "{}", text(&o));
}

#[test]
fn warnings_are_shown_and_the_run_goes_on() {
    let script = write(
        "warn.hook",
        "workflow \"w\" on AgentConnected < GET \"http://plain.example.com/x\" >\n",
    );
    let stubs = write(
        "warn-stubs.json",
        r#"[{"url": "http://plain.example.com/x", "json": {}}]"#,
    );
    let o = callhook(
        &["run", &script, "--events", "-", "--stubs", &stubs],
        &support::ev("c", "AgentConnected", json!({})),
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("W0204"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("SUCCESS"));
}
