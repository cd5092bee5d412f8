//! `run` against a real HTTP server on 127.0.0.1: what arrives on the wire.

mod support;

use serde_json::json;
use support::{ev, run, start};

#[tokio::test]
async fn plus_arrives_percent_encoded_in_path_and_query() {
    let s = start().await;
    let script = format!(
        r#"workflow "look-up" on AgentConnected < GET "{}/contact/$CALLER_ID_E164$?phone=$CALLER_ID_E164$" query p2 = "$CALLER_ID_E164$" map ID = id >
           on CallEnded when $ID$ < POST "{}/done" body {{ "id": "$ID$" }} >"#,
        s.base, s.base
    );
    let events = ev(
        "c-1",
        "AgentConnected",
        json!({"CALLER_ID_E164": "+33612345678"}),
    ) + &ev("c-1", "CallEnded", json!({}));
    let r = run(&script, &events, &[]).await;
    let seen = s.seen_path("/contact/");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].target,
        "/contact/%2B33612345678?phone=%2B33612345678&p2=%2B33612345678"
    );
    assert_eq!(r.outcome("look-up")["stored"]["ID"], "C-%2B33612345678");
    assert_eq!(r.summary.exit_code(), 0);
}

#[tokio::test]
async fn values_cannot_change_the_url_structure() {
    let s = start().await;
    let nasty = "a/b?c#d&e=f g%2F";
    let script = format!(
        r#"workflow "w" on AgentConnected < GET "{}/contact/$AGENT_NAME$?q=$AGENT_NAME$" query r = "$AGENT_NAME$" >"#,
        s.base
    );
    run(
        &script,
        &ev("c", "AgentConnected", json!({"AGENT_NAME": nasty})),
        &[],
    )
    .await;
    let seen = s.seen_path("/contact/");
    assert_eq!(seen.len(), 1, "{:?}", s.seen());
    let enc = "a%2Fb%3Fc%23d%26e%3Df%20g%252F";
    assert_eq!(seen[0].target, format!("/contact/{enc}?q={enc}&r={enc}"));
    // One path segment after /contact/, two query parameters, no fragment.
    assert_eq!(seen[0].path().matches('/').count(), 2);
    assert_eq!(seen[0].target.matches('&').count(), 1);
}

#[tokio::test]
async fn mapped_id_is_reused_at_call_ended_and_else_runs_on_404() {
    let s = start().await;
    let script = format!(
        r#"workflow "look-up" on AgentConnected < GET "{b}/status/404" map ID = id > else < POST "{b}/contact/new" body {{ "phone": "$CALLER_ID_E164$" }} map ID = id >
           workflow "write-back" on CallEnded when $ID$ < POST "{b}/notes/$ID$" body {{ "summary": "$CALL_SUMMARY?none$", "secs": "$CALL_HANDLE_TIME$" }} >"#,
        b = s.base
    );
    let events = ev("c-1", "AgentConnected", json!({"CALLER_ID_E164": "+1"}))
        + &ev("c-1", "CallEnded", json!({"CALL_HANDLE_TIME": "12"}));
    let r = run(&script, &events, &[]).await;
    let outs = r.outcomes();
    assert_eq!(outs.len(), 3, "{}", r.text);
    assert_eq!(outs[0]["result"], "FAILED");
    assert_eq!(outs[0]["reason"], "HTTP_ERROR");
    assert_eq!(outs[0]["status"], 404);
    assert_eq!(outs[1]["block"], "else");
    assert_eq!(outs[1]["stored"]["ID"], "C-new");
    let notes = s.seen_path("/notes/");
    assert_eq!(notes[0].path(), "/notes/C-new");
    assert_eq!(notes[0].json(), json!({"summary": "none", "secs": "12"}));
    assert_eq!(
        notes[0].header("content-type").as_deref(),
        Some("application/json")
    );
    // A failed action whose else succeeded is a success.
    assert_eq!(r.summary.workflows_failed, 0);
    assert_eq!(r.summary.exit_code(), 0);
}

#[tokio::test]
async fn when_skips_and_conditions_compare() {
    let s = start().await;
    let script = format!(
        r#"workflow "vip" on AgentConnected when $QUEUE_NAME$ == "gold" < POST "{b}/vip" >
           workflow "not-vip" on AgentConnected when $QUEUE_NAME$ != "gold" < POST "{b}/other" >
           workflow "no-tier" on AgentConnected when not $QUEUE_NAME$ < POST "{b}/none" >"#,
        b = s.base
    );
    let events = ev("c-1", "AgentConnected", json!({"QUEUE_NAME": "gold"}))
        + &ev("c-2", "AgentConnected", json!({}));
    let r = run(&script, &events, &[]).await;
    let paths: Vec<String> = s.seen().iter().map(|x| x.path().to_string()).collect();
    assert_eq!(paths.iter().filter(|p| *p == "/vip").count(), 1);
    assert_eq!(paths.iter().filter(|p| *p == "/none").count(), 1);
    // `!=` is false when the variable is unset.
    assert_eq!(paths.iter().filter(|p| *p == "/other").count(), 0);
    assert_eq!(r.summary.workflows_skipped, 4);
    assert_eq!(r.summary.exit_code(), 0);
}

#[tokio::test]
async fn get_is_retried_after_500_and_post_is_not() {
    let s = start().await;
    let script = format!(
        r#"workflow "get" on AgentConnected < GET "{}/flaky" retry 2 backoff 10ms map R = id >"#,
        s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    let o = r.outcome("get");
    assert_eq!(o["result"], "SUCCESS", "{}", r.text);
    assert_eq!(o["attempts"], 2);
    assert_eq!(o["stored"]["R"], "ok");

    let s = start().await;
    let script = format!(
        r#"workflow "post" on AgentConnected < POST "{}/flaky" >"#,
        s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    assert_eq!(r.outcome("post")["result"], "FAILED");
    assert_eq!(r.outcome("post")["attempts"], 1);
    assert_eq!(s.seen().len(), 1);
    assert_eq!(r.summary.exit_code(), 1);
}

#[tokio::test]
async fn too_many_requests_is_retried_like_a_5xx() {
    let s = start().await;
    let script = format!(
        r#"workflow "get" on AgentConnected < GET "{}/busy" retry 1 backoff 10ms map R = id >"#,
        s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    let o = r.outcome("get");
    assert_eq!(o["result"], "SUCCESS", "{}", r.text);
    assert_eq!(o["attempts"], 2);
    assert_eq!(o["stored"]["R"], "after-429");
    assert_eq!(s.seen_path("/busy").len(), 2);

    // Without retries left, the 429 is the outcome.
    let s = start().await;
    let script = format!(
        r#"workflow "get" on AgentConnected < GET "{}/busy" retry 0 map S = @status >"#,
        s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    let o = r.outcome("get");
    assert_eq!(o["reason"], "HTTP_ERROR");
    assert_eq!(o["stored"]["S"], "429");
    assert_eq!(s.seen_path("/busy").len(), 1);
}

#[tokio::test]
async fn header_maps_read_the_response_headers_on_success_and_failure() {
    let s = start().await;
    let script = format!(
        r#"workflow "ok" on AgentConnected < GET "{b}/contact/1" map CT = @header.Content-Type map ID = id >
           workflow "404" on AgentConnected < GET "{b}/status/404" map CT404 = @header.content-type map NONE = @header.X-Absent >
           workflow "plain" on AgentConnected < GET "{b}/contact/2" map ID2 = id >"#,
        b = s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    assert_eq!(
        r.outcome("ok")["stored"],
        json!({"CT": "application/json", "ID": "C-1"})
    );
    // A failed action still stores its header maps when a response arrived.
    assert_eq!(
        r.outcome("404")["stored"],
        json!({"CT404": "application/json"})
    );
    assert_eq!(r.outcome("plain")["stored"], json!({"ID2": "C-2"}));
}

#[tokio::test]
async fn four_xx_is_never_retried() {
    let s = start().await;
    let script = format!(
        r#"workflow "get" on AgentConnected < GET "{}/status/404" retry 3 backoff 10ms >"#,
        s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    assert_eq!(r.outcome("get")["attempts"], 1);
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn timeout_body_limit_xml_and_redirects() {
    let s = start().await;
    let script = format!(
        r#"workflow "slow" on AgentConnected < GET "{b}/slow" timeout 200ms retry 0 map E = @error map O = @outcome >
           workflow "big" on AgentConnected < GET "{b}/big" retry 0 >
           workflow "xml" on AgentConnected < GET "{b}/xml" map NAME = xpath "/r/customer/name" map CID = xpath "string(/r/customer/@id)" >
           workflow "redirects" on AgentConnected < GET "{b}/redirect/3" map L = id >
           workflow "too many" on AgentConnected < GET "{b}/redirect/9" retry 0 >"#,
        b = s.base
    );
    let r = run(&script, &ev("c", "AgentConnected", json!({})), &[]).await;
    let slow = r.outcome("slow");
    assert_eq!(slow["reason"], "TIMEOUT");
    assert_eq!(slow["stored"], json!({"E": "TIMEOUT", "O": "FAILED"}));
    assert!(slow["duration_ms"].as_u64().unwrap() < 2000);
    assert_eq!(r.outcome("big")["reason"], "INVALID_RESPONSE");
    assert_eq!(
        r.outcome("xml")["stored"],
        json!({"NAME": "Zoë", "CID": "7"})
    );
    assert_eq!(r.outcome("redirects")["stored"]["L"], "landed");
    assert_eq!(r.outcome("too many")["result"], "FAILED");
    assert_eq!(r.outcome("too many")["reason"], "HTTP_ERROR");
}

#[tokio::test]
async fn every_reason_code() {
    let s = start().await;
    // A port that nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let script = format!(
        r#"workflow "auth" on AgentConnected < GET "{b}/status/401" >
           workflow "timeout" on AgentConnected < GET "{b}/slow" timeout 100ms retry 0 >
           workflow "flow var" on AgentConnected < GET "{b}/contact/$MISSING$" >
           workflow "request" on AgentConnected < GET "{b}/x" header X-Agent = "$AGENT_NAME$" >
           workflow "response" on AgentConnected < GET "{b}/text" map X = id >
           workflow "response map" on AgentConnected < GET "{b}/contact/1" map X = nope required >
           workflow "http" on AgentConnected < GET "{b}/status/503" retry 0 >
           workflow "network" on AgentConnected < GET "http://127.0.0.1:{closed}/x" retry 0 >
           on CallEnded < POST "{b}/use" body {{ "x": "$X?$", "m": "$MISSING?$" }} >
           on AgentDeclined < POST "{b}/d" map MISSING = id >"#,
        b = s.base
    );
    let r = run(
        &script,
        &ev(
            "c",
            "AgentConnected",
            json!({"AGENT_NAME": "Eve\r\nX-Evil: 1"}),
        ),
        &[],
    )
    .await;
    for (w, reason) in [
        ("auth", "AUTHENTICATION_FAILURE"),
        ("timeout", "TIMEOUT"),
        ("flow var", "INVALID_FLOW_VAR"),
        ("request", "INVALID_REQUEST"),
        ("response", "INVALID_RESPONSE"),
        ("response map", "INVALID_RESPONSE_MAP"),
        ("http", "HTTP_ERROR"),
        ("network", "NETWORK_ERROR"),
    ] {
        let o = r.outcome(w);
        assert_eq!(o["result"], "FAILED", "{w}");
        assert_eq!(o["reason"], reason, "{w}: {o}");
    }
    // Neither the request with a missing variable nor the one with CR/LF was sent.
    assert!(s.seen_path("/contact/$").is_empty() && s.seen_path("/contact/%24").is_empty());
    assert!(s.seen_path("/x").is_empty(), "{:?}", s.seen_path("/x"));
    assert!(s.seen().iter().all(|x| x.headers.get("x-evil").is_none()));
    assert_eq!(r.summary.workflows_failed, 8);
    assert_eq!(r.summary.failed_by_reason.len(), 8);
    assert_eq!(r.summary.exit_code(), 1);
}

#[tokio::test]
async fn oauth2_token_is_fetched_once_for_many_calls_and_refreshed_on_401() {
    let s = start().await;
    let script = format!(
        r#"workflow "api" on AgentConnected <
             GET "{b}/protected"
             auth oauth2 {{ token_url = "{b}/token" client_id = "app" client_secret = "$env.CLIENT_SECRET$" scope = "calls" }}
           >"#,
        b = s.base
    );
    let events: String = (0..30)
        .map(|i| ev(&format!("c-{i}"), "AgentConnected", json!({})))
        .collect();
    let r = run(&script, &events, &[("CLIENT_SECRET", "s3cret")]).await;
    assert_eq!(r.summary.actions_succeeded, 30, "{}", r.text);
    // One fetch, plus one refresh after the server revoked the first token.
    assert_eq!(
        s.log
            .token_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    let token_req = &s.seen_path("/token")[0];
    assert_eq!(
        token_req.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert!(!r.text.contains("s3cret") && !r.text.contains("tok-1"));
}

#[tokio::test]
async fn oauth2_failure_is_an_authentication_failure() {
    let s = start().await;
    let script = format!(
        r#"workflow "api" on AgentConnected < GET "{b}/protected" auth oauth2 {{ token_url = "{b}/token" client_id = "app" client_secret = "$env.S$" }} >"#,
        b = s.base
    );
    let r = run(
        &script,
        &ev("c", "AgentConnected", json!({})),
        &[("S", "wrong")],
    )
    .await;
    assert_eq!(r.outcome("api")["reason"], "AUTHENTICATION_FAILURE");
    assert!(s.seen_path("/protected").is_empty());
}

#[tokio::test]
async fn bodies_headers_auth_and_optional_clauses() {
    let s = start().await;
    let script = format!(
        r#"workflow "form" on AgentConnected < POST "{b}/form" body form {{ name = "$AGENT_NAME$" note = "a&b=c d" }} >
           workflow "xml" on AgentConnected < POST "{b}/xml-in" body xml "<n a=\"1\">$AGENT_NAME$</n>" >
           workflow "hdr" on AgentConnected < GET "{b}/h" header X-Opt = "$QUEUE_NAME?$" header X-Name = "$AGENT_NAME$" query q = "$QUEUE_NAME?$" query k = "v" auth basic "user" "$env.PW$" >
           workflow "ct" on AgentConnected < POST "{b}/ct" header Content-Type = "application/vnd.x+json" body {{ "n": 1.50, "e": -2E3, "b": [true, null, {{ }}, [ ]] }} auth bearer "$env.PW$" >
           workflow "call" on AgentConnected < POST "{b}/call" body call >"#,
        b = s.base
    );
    let name = "Ann \"O'Neil\" <&>";
    let r = run(
        &script,
        &ev("c-9", "AgentConnected", json!({"AGENT_NAME": name})),
        &[("PW", "pa:ss")],
    )
    .await;
    assert_eq!(r.summary.actions_succeeded, 5, "{}", r.text);
    let form = &s.seen_path("/form")[0];
    assert_eq!(
        form.header("content-type").as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&form.body)
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("name".into(), name.into()),
            ("note".into(), "a&b=c d".into())
        ]
    );
    let xml = &s.seen_path("/xml-in")[0];
    assert_eq!(
        String::from_utf8_lossy(&xml.body),
        "<n a=\"1\">Ann &quot;O&apos;Neil&quot; &lt;&amp;&gt;</n>"
    );
    assert_eq!(
        xml.header("content-type").as_deref(),
        Some("application/xml")
    );
    let h = &s.seen_path("/h")[0];
    assert_eq!(h.target, "/h?k=v");
    assert!(h.header("x-opt").is_none());
    assert_eq!(h.header("x-name").as_deref(), Some(name));
    assert_eq!(
        h.header("authorization").as_deref(),
        Some("Basic dXNlcjpwYTpzcw==")
    );
    let ct = &s.seen_path("/ct")[0];
    assert_eq!(
        ct.header("content-type").as_deref(),
        Some("application/vnd.x+json")
    );
    // Numbers go out as written; the rest compact.
    assert_eq!(
        String::from_utf8_lossy(&ct.body),
        r#"{"n":1.50,"e":-2E3,"b":[true,null,{},[]]}"#
    );
    assert_eq!(ct.header("authorization").as_deref(), Some("Bearer pa:ss"));
    let call = s.seen_path("/call")[0].json();
    assert_eq!(call["callId"], "c-9");
    assert_eq!(call["event"], "AgentConnected");
    assert_eq!(call["variables"]["AGENT_NAME"], name);
    assert_eq!(call["outcomes"].as_array().unwrap().len(), 4);
    assert!(!call.to_string().contains("pa:ss"));
}

#[tokio::test]
async fn lifecycle_rejections_name_the_line_and_other_calls_go_on() {
    let s = start().await;
    let script = format!(
        r#"workflow "w" on CallEnded < POST "{}/end" body call >"#,
        s.base
    );
    let events = [
        ev("a", "CustomerAbandoned", json!({})),
        ev("a", "AgentConnected", json!({})), // line 2: excluded by CustomerAbandoned
        "not json\n".to_string(),             // line 3
        ev("b", "CallEnded", json!({})),
        ev("b", "CallEnded", json!({})), // line 5: a second CallEnded
        ev("a", "CallEnded", json!({})),
        r#"{"call":"c","event":"CallEndd"}"#.to_string() + "\n", // line 7
        ev("c", "CallConnected", json!({})),                     // line 8: not a first event
    ]
    .concat();
    let r = run(&script, &events, &[]).await;
    let rejected = r.rejected();
    let lines: Vec<u64> = rejected
        .iter()
        .map(|x| x["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 5, 7, 8], "{}", r.text);
    assert!(rejected[0]["error"]
        .as_str()
        .unwrap()
        .contains("AgentConnected"));
    assert!(rejected[2]["error"]
        .as_str()
        .unwrap()
        .contains("after CallEnded"));
    assert!(rejected[3]["error"].as_str().unwrap().contains("CallEndd"));
    assert_eq!(s.seen_path("/end").len(), 2);
    assert_eq!(r.summary.events_rejected, 5);
    assert_eq!(r.summary.events_processed, 3);
    assert_eq!(r.summary.exit_code(), 1);
}

#[tokio::test]
async fn many_concurrent_calls_keep_their_contexts_apart() {
    let s = start().await;
    let script = format!(
        r#"workflow "look-up" on AgentConnected < GET "{b}/contact/$CALLER_ID$" map ID = id >
           workflow "write-back" on CallEnded when $ID$ < POST "{b}/notes" body {{ "id": "$ID$", "caller": "$CALLER_ID$" }} >"#,
        b = s.base
    );
    let mut events = String::new();
    for i in 0..200 {
        events += &ev(
            &format!("c-{i}"),
            "AgentConnected",
            json!({"CALLER_ID": i.to_string()}),
        );
    }
    for i in (0..200).rev() {
        events += &ev(&format!("c-{i}"), "CallEnded", json!({}));
    }
    let r = run(&script, &events, &[]).await;
    assert_eq!(r.summary.actions_succeeded, 400, "{}", r.text);
    let notes = s.seen_path("/notes");
    assert_eq!(notes.len(), 200);
    for n in notes {
        let v = n.json();
        assert_eq!(v["id"], format!("C-{}", v["caller"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn agent_leaves_the_call_after_agent_declined_and_scopes_filter() {
    let s = start().await;
    let script = format!(
        r#"workflow "declined" on AgentDeclined < POST "{b}/declined/$AGENT_ID$" >
           workflow "connected" on AgentConnected < POST "{b}/connected" body {{ "agent": "$AGENT_ID?gone$" }} >
           workflow "sales" scope "Sales" on CallEnded < POST "{b}/sales" >
           workflow "support" scope "Support" on CallEnded < POST "{b}/support" >
           workflow "all" on CallEnded < POST "{b}/all" >"#,
        b = s.base
    );
    let events = ev("c", "AgentDeclined", json!({"AGENT_ID": "a-1"}))
        + &ev("c", "AgentConnected", json!({}))
        + &format!(
            "{}\n",
            json!({"call": "c", "event": "CallEnded", "scope": "Sales"})
        );
    let r = run(&script, &events, &[]).await;
    assert_eq!(s.seen_path("/declined/a-1").len(), 1, "{}", r.text);
    assert_eq!(
        s.seen_path("/connected")[0].json(),
        json!({"agent": "gone"})
    );
    assert_eq!(s.seen_path("/sales").len(), 1);
    assert_eq!(s.seen_path("/support").len(), 0);
    assert_eq!(s.seen_path("/all").len(), 1);
}

mod json_property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Any caller name, quotes, backslashes, newlines and all, arrives exactly.
        #[test]
        fn names_round_trip_through_json_bodies(name in "\\PC{0,40}|[\"\\\\\n\r\t\u{0}-\u{1f}]{0,10}") {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let s = start().await;
                let script = format!(r#"workflow "w" on AgentConnected < POST "{}/j" body {{ "name": "$AGENT_NAME$", "both": "<$AGENT_NAME$>" }} >"#, s.base);
                let r = run(&script, &ev("c", "AgentConnected", json!({"AGENT_NAME": name})), &[]).await;
                assert_eq!(r.summary.actions_succeeded, 1, "{}", r.text);
                let got = s.seen_path("/j")[0].json();
                assert_eq!(got["name"].as_str().unwrap(), name);
                assert_eq!(got["both"].as_str().unwrap(), format!("<{name}>"));
            });
        }
    }
}
