//! Every construct of SPEC section 2 parses, to the right AST, with the right spans.

use super::*;
use crate::ast::*;

fn one(src: &str) -> Workflow {
    let parsed = parse_file(0, src);
    assert!(
        parsed.diagnostics.is_empty(),
        "{src}\n{:#?}",
        parsed.diagnostics
    );
    assert_eq!(parsed.workflows.len(), 1);
    parsed.workflows.into_iter().next().unwrap()
}

fn text(src: &str, span: crate::span::Span) -> &str {
    &src[span.range()]
}

#[test]
fn one_line_workflow_with_spans() {
    let src = r#"on AgentConnected < GET "https://x/y?p=$CALLER_ID_E164$" map ID = id >"#;
    let w = one(src);
    assert_eq!(w.trigger.node, "AgentConnected");
    assert_eq!(text(src, w.trigger.span), "AgentConnected");
    assert_eq!(w.main.method.node, Method::Get);
    assert_eq!(
        text(src, w.main.url.span),
        r#""https://x/y?p=$CALLER_ID_E164$""#
    );
    let v = w.main.url.vars().next().unwrap();
    assert_eq!(v.name, "CALLER_ID_E164");
    assert_eq!(text(src, v.span), "$CALLER_ID_E164$");
    assert_eq!(w.main.url.parts[0], Part::Lit("https://x/y?p=".into()));
    let m = &w.main.maps[0];
    assert_eq!(text(src, m.target.span), "ID");
    assert_eq!(m.path.node, MapPath::Json(vec![Segment::Key("id".into())]));
    assert_eq!(text(src, w.span), src);
}

#[test]
fn full_workflow_header() {
    let src = r#"workflow "CRM lookup" scope "Sales" on CallEnded order -2 when $A$ and not $B$ and $C$ == "x" and $D$ != "y$E$"
        < POST "https://x" > else < PUT "https://y" >"#;
    let w = one(src);
    assert_eq!(w.name.as_ref().unwrap().node, "CRM lookup");
    assert_eq!(text(src, w.name.as_ref().unwrap().span), "\"CRM lookup\"");
    assert_eq!(w.scope.as_ref().unwrap().node, "Sales");
    assert_eq!(w.order_value(), -2);
    let atoms = &w.when.as_ref().unwrap().atoms;
    assert_eq!(atoms.len(), 4);
    assert!(matches!(&atoms[0], CondAtom::IsSet { negated: false, var } if var.node == "A"));
    assert!(matches!(&atoms[1], CondAtom::IsSet { negated: true, var } if var.node == "B"));
    assert!(matches!(&atoms[2], CondAtom::Compare { op: CmpOp::Eq, .. }));
    match &atoms[3] {
        CondAtom::Compare { var, op, value } => {
            assert_eq!(text(src, var.span), "$D$");
            assert_eq!(*op, CmpOp::Ne);
            assert_eq!(value.vars().next().unwrap().name, "E");
        }
        _ => panic!(),
    }
    assert_eq!(w.otherwise.as_ref().unwrap().method.node, Method::Put);
}

#[test]
fn every_method() {
    for m in Method::ALL {
        let w = one(&format!(r#"on CallEnded < {} "https://x" >"#, m.as_str()));
        assert_eq!(w.main.method.node, m);
    }
}

#[test]
fn every_clause() {
    let src = r#"on CallEnded <
        POST "https://x/$callId$"
        header Authorization = "Bearer $env.TOKEN$"
        header "Ocp-Apim-Subscription-Key" = "$env.APIM$"
        header X-Name = "a"
        query phone = "$CALLER_ID_E164?$"
        query "odd name" = "1"
        query a.b-c_d = "2"
        auth bearer "$env.T$"
        body form { name = "$AGENT_NAME?x$", "other field" = "2", }
        timeout 500ms
        retry 3 backoff 2s
        map A = contacts[0].id required
        map B = "first-name"
        map C = [0].id
        map D = @status
        map E = @status_class
        map F = @duration
        map G = @outcome
        map H = @error
        map I = @raw
        map J = @header.X-Request-Id
        map K = @header."Odd Header"
        map L = xpath "/a/b[1]/text()"
        map M = a."b.c"[12].d
    >"#;
    let w = one(src);
    let a = &w.main;
    assert_eq!(a.headers.len(), 3);
    assert_eq!(a.headers[1].name.node, "Ocp-Apim-Subscription-Key");
    assert_eq!(a.queries[1].name.node, "odd name");
    assert_eq!(a.queries[2].name.node, "a.b-c_d");
    assert!(a.queries[0].value.is_lone_optional().is_some());
    assert!(matches!(&a.auth.as_ref().unwrap().node, Auth::Bearer(_)));
    match &a.body.as_ref().unwrap().node {
        Body::Form(f) => {
            assert_eq!(f.len(), 2);
            assert_eq!(f[1].name.node, "other field");
            assert_eq!(
                f[0].value.vars().next().unwrap().default.as_deref(),
                Some("x")
            );
        }
        _ => panic!(),
    }
    assert_eq!(a.timeout.as_ref().unwrap().millis(), Some(500));
    let r = a.retry.as_ref().unwrap();
    assert_eq!(r.count.node, 3);
    assert_eq!(r.backoff.as_ref().unwrap().millis(), Some(2000));
    let paths: Vec<&MapPath> = a.maps.iter().map(|m| &m.path.node).collect();
    use Segment::*;
    assert_eq!(
        paths[0],
        &MapPath::Json(vec![Key("contacts".into()), Index(0), Key("id".into())])
    );
    assert!(a.maps[0].required);
    assert_eq!(paths[1], &MapPath::Json(vec![Key("first-name".into())]));
    assert_eq!(paths[2], &MapPath::Json(vec![Index(0), Key("id".into())]));
    assert_eq!(paths[3], &MapPath::Meta(Meta::Status));
    assert_eq!(paths[4], &MapPath::Meta(Meta::StatusClass));
    assert_eq!(paths[9], &MapPath::Header("X-Request-Id".into()));
    assert_eq!(paths[10], &MapPath::Header("Odd Header".into()));
    assert_eq!(paths[11], &MapPath::XPath("/a/b[1]/text()".into()));
    assert_eq!(
        paths[12],
        &MapPath::Json(vec![
            Key("a".into()),
            Key("b.c".into()),
            Index(12),
            Key("d".into())
        ])
    );
    assert_eq!(text(src, a.maps[0].path.span), "contacts[0].id");
}

#[test]
fn auth_basic_and_oauth2() {
    let w = one(r#"on CallEnded < GET "https://x" auth basic "u" "$env.P$" >"#);
    assert!(
        matches!(&w.main.auth.as_ref().unwrap().node, Auth::Basic { user, .. } if user.literal_text() == "u")
    );
    let w = one(
        r#"on CallEnded < GET "https://x" auth oauth2 { token_url = "https://t" client_id = "id", client_secret = "$env.S$" scope = "a b" } >"#,
    );
    match &w.main.auth.as_ref().unwrap().node {
        Auth::OAuth2(o) => {
            assert_eq!(o.token_url.literal_text(), "https://t");
            assert_eq!(o.scope.as_ref().unwrap().literal_text(), "a b");
            assert_eq!(o.client_secret.envs().next().unwrap().node, "S");
        }
        _ => panic!(),
    }
}

#[test]
fn json_body_with_comments_and_spans() {
    let src = r#"on CallEnded < POST "https://x" body {
        # a comment inside the body
        "a": "$callId$",   # trailing comment
        "n": -1.5e3, "t": true, "f": false, "z": null,
        "arr": [1, "two $AGENT_NAME?$", {"deep": {"er": []}}],
        "esc": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00 $$5"
    } >"#;
    let w = one(src);
    let Body::Json(v) = &w.main.body.as_ref().unwrap().node else {
        panic!()
    };
    let JsonValue::Object(o) = &v.node else {
        panic!()
    };
    let keys: Vec<&str> = o.members.iter().map(|(k, _)| k.node.as_str()).collect();
    assert_eq!(keys, ["a", "n", "t", "f", "z", "arr", "esc"]);
    assert_eq!(text(src, o.members[0].0.span), "\"a\"");
    assert_eq!(text(src, o.members[0].1.span), "\"$callId$\"");
    assert!(matches!(&o.members[1].1.node, JsonValue::Number(n) if n == "-1.5e3"));
    let JsonValue::String(esc) = &o.members[6].1.node else {
        panic!()
    };
    assert_eq!(esc.literal_text(), "q\"\\/\u{8}\u{c}\n\r\té😀 $5");
    let mut templates = vec![];
    v.node.templates(&mut templates);
    assert_eq!(templates.len(), 3);
}

#[test]
fn tokens_and_literal_dollars() {
    let src = r#"on CallEnded < GET "https://x/?$filter=a&b=$X?d\"q$&c=$$&e=$env.K$&f=$Y?$&g=$CALLER_ID_E164" >"#;
    let w = one(src);
    let parts = &w.main.url.parts;
    assert_eq!(parts[0], Part::Lit("https://x/?$filter=a&b=".into()));
    assert!(
        matches!(&parts[1], Part::Var(v) if v.name == "X" && v.default.as_deref() == Some("d\"q"))
    );
    assert_eq!(parts[2], Part::Lit("&c=$&e=".into()));
    assert!(matches!(&parts[3], Part::Env(e) if e.node == "K" && text(src, e.span) == "$env.K$"));
    assert!(matches!(&parts[5], Part::Var(v) if v.name == "Y" && v.default.as_deref() == Some("")));
    let strays: Vec<&str> = w
        .main
        .url
        .stray_dollars
        .iter()
        .map(|s| s.following.as_str())
        .collect();
    assert_eq!(strays, ["filter", "CALLER_ID_E164"]);
    assert_eq!(text(src, w.main.url.stray_dollars[0].span), "$");
}

#[test]
fn string_escapes() {
    let w = one(r#"on CallEnded < POST "https://x" body xml "<a>\"\\\n\t\r\u{1F600}</a>" >"#);
    let Body::Xml(t) = &w.main.body.as_ref().unwrap().node else {
        panic!()
    };
    assert_eq!(t.literal_text(), "<a>\"\\\n\t\r😀</a>");
    let w = one(r#"on CallEnded < POST "https://x" body call >"#);
    assert!(matches!(w.main.body.unwrap().node, Body::Call));
}

#[test]
fn comments_anywhere_and_several_workflows() {
    let src = "# head\non AgentConnected # after trigger\n < # in block\n GET \"https://x#frag\" # after url\n > # end\n\n on CallEnded<POST\"https://y\"body call>";
    let parsed = parse_file(3, src);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.workflows.len(), 2);
    assert_eq!(
        parsed.workflows[0].main.url.literal_text(),
        "https://x#frag"
    );
    assert_eq!(parsed.workflows[1].trigger.span.file, 3);
    assert_eq!(text(src, parsed.workflows[1].trigger.span), "CallEnded");
}

#[test]
fn examples_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "hook") {
            let src = std::fs::read_to_string(&path).unwrap();
            let parsed = parse_file(0, &src);
            assert!(
                parsed.diagnostics.is_empty(),
                "{}: {:?}",
                path.display(),
                parsed.diagnostics
            );
            assert!(!parsed.workflows.is_empty());
        }
    }
}

#[test]
fn syntax_errors_recover_to_the_next_workflow() {
    let src = "on AgentConnected < GET >\non CallEnded < POST \"https://x\" >\non X < GET \"https://y\" timeout >\n";
    let parsed = parse_file(0, src);
    assert_eq!(parsed.diagnostics.len(), 2);
    assert_eq!(parsed.workflows.len(), 1);
    assert_eq!(parsed.workflows[0].trigger.node, "CallEnded");
}

#[test]
fn repl_input_is_a_workflow_or_a_bare_action() {
    match parse_repl_input(0, r#"GET "https://x" map A = id"#).unwrap() {
        ReplInput::Action(a) => assert_eq!(a.maps[0].target.node, "A"),
        _ => panic!(),
    }
    match parse_repl_input(0, r#"on CallEnded < POST "https://x" >"#).unwrap() {
        ReplInput::Workflows(w) => assert_eq!(w.len(), 1),
        _ => panic!(),
    }
    assert!(parse_repl_input(0, r#"GET "https://x" map"#).is_err());
}

#[test]
fn deep_json_is_refused_not_overflowed() {
    let depth = 200;
    let src = format!(
        "on CallEnded < POST \"https://x\" body {{\"a\": {}1{} }} >",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let parsed = parse_file(0, &src);
    assert!(!parsed.diagnostics.is_empty());
}

/// A large file is parsed in chunks, in parallel; the result must be the one a single pass
/// gives, syntax errors and their recovery included.
#[test]
fn chunked_parse_matches_one_pass() {
    let mut src = String::new();
    for i in 0..6000 {
        src.push_str(&format!(
            "# {i} < not a block\nworkflow \"w{i}\" on AgentConnected <\n  POST \"https://x/{i}?a=$CALLER_ID_E164$\" # c\n  body {{ \"k\": \"v > # \\\" $$\" }} map V{i} = id\n>\n"
        ));
        if i % 997 == 0 {
            src.push_str("on CallEnded < GET \"https://x\" timeout >\nscope \"s\"\n");
        }
    }
    assert!(src.len() > 2 * CHUNK);
    let starts = chunk_starts(&src, CHUNK);
    assert!(starts.len() > 1, "{starts:?}");
    for &s in &starts[1..] {
        assert!(src[s..].starts_with("workflow"), "{}", &src[s..s + 40]);
    }
    let chunked = parse_file(0, &src);
    let single = parse_chunk(0, &src, 0);
    // Each broken pair costs the workflow after it (recovery resumes at the next start).
    assert_eq!(chunked.workflows.len(), 6000 - 7);
    assert_eq!(chunked.diagnostics.len(), 14);
    assert_eq!(format!("{chunked:?}"), format!("{single:?}"));
}
