//! The request itself: URL (E0106, E0112, W0204), body (E0107, E0108), headers (E0109),
//! timeouts (E0111) and retries (W0205).

use rustc_hash::FxHashMap as HashMap;

use crate::ast::{Action, Auth, Body, Duration, JsonValue, Method, Part, Template};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

/// Longest timeout or backoff, in milliseconds.
pub const MAX_MILLIS: u64 = 60_000;

pub fn check_action(a: &Action, diags: &mut Vec<Diagnostic>) {
    check_url(&a.url, "URL", diags);
    if let Some(auth) = &a.auth {
        if let Auth::OAuth2(o) = &auth.node {
            if !o.token_url.literal_text().is_empty() || o.token_url.has_tokens() {
                check_url(&o.token_url, "token URL", diags);
            }
        }
    }
    if let Some(body) = &a.body {
        if matches!(a.method.node, Method::Get | Method::Head) {
            diags.push(
                Diagnostic::new(
                    Code::E0108,
                    body.span,
                    format!("a {} request cannot have a body", a.method.node.as_str()),
                )
                .label("body here")
                .secondary(a.method.span, "on this method")
                .note("send the values in the URL or with `query NAME = \"...\"`, or use POST"),
            );
        }
        if let Body::Json(v) = &body.node {
            match &v.node {
                JsonValue::Object(_) => {}
                other => diags.push(
                    Diagnostic::new(
                        Code::E0107,
                        v.span,
                        format!("the body is {}, not a JSON object", other.kind()),
                    )
                    .label("expected `{ ... }`")
                    .note("wrap the value in an object: `body { \"items\": [...] }`"),
                ),
            }
            json_problems(&v.node, diags);
        }
    }
    for h in &a.headers {
        check_header(h, diags);
    }
    if let Some(t) = &a.timeout {
        check_duration(t, "timeout", diags);
    }
    if let Some(r) = &a.retry {
        if let Some(b) = &r.backoff {
            check_duration(b, "backoff", diags);
        }
        if !a.method.node.is_idempotent()
            && r.count.node > 0
            && a.header("Idempotency-Key").is_none()
        {
            diags.push(
                Diagnostic::new(
                    Code::W0205,
                    r.span,
                    format!(
                        "`retry` on {} without an Idempotency-Key header may create duplicates",
                        a.method.node.as_str()
                    ),
                )
                .label("retried request")
                .note("add `header Idempotency-Key = \"$callId$-<step>\"` so that the server can drop repeats"),
            );
        }
    }
}

/// E0106, E0112 and W0204 for a URL.
fn check_url(url: &Template, what: &str, diags: &mut Vec<Diagnostic>) {
    // Each token becomes a placeholder valid where it stands: the whole URL start, a port,
    // or any other part.
    let mut probe = String::new();
    let mut tokens: Vec<(usize, &Part)> = Vec::new();
    // Where the authority starts (after `://`) and whether a `/`, `?` or `#` has ended it,
    // kept up to date as parts are appended (linear in the URL's length).
    let mut authority: Option<usize> = None;
    let mut authority_closed = false;
    let append =
        |probe: &mut String, text: &str, authority: &mut Option<usize>, closed: &mut bool| {
            let start = probe.len();
            probe.push_str(text);
            if authority.is_none() {
                // `://` may straddle the boundary: look back two bytes.
                let from = start.saturating_sub(2);
                if let Some(i) = probe[from..].find("://") {
                    *authority = Some(from + i + 3);
                }
            }
            if let Some(a) = *authority {
                if !*closed {
                    *closed = probe[a.max(start)..].contains(['/', '?', '#']);
                }
            }
        };
    for part in &url.parts {
        match part {
            Part::Lit(s) => append(&mut probe, s, &mut authority, &mut authority_closed),
            tok => {
                let in_authority = authority.is_some() && !authority_closed;
                let placeholder = if probe.is_empty() {
                    "https://x"
                } else if in_authority && probe.ends_with(':') && !probe.ends_with("://") {
                    "1"
                } else {
                    "x"
                };
                tokens.push((probe.len(), tok));
                append(
                    &mut probe,
                    placeholder,
                    &mut authority,
                    &mut authority_closed,
                );
            }
        }
    }
    let authority_end = probe.find("://").map(|i| {
        let start = i + 3;
        start
            + probe[start..]
                .find(['/', '?', '#'])
                .unwrap_or(probe.len() - start)
    });
    for (at, tok) in &tokens {
        if let Part::Var(v) = tok {
            if authority_end.is_some_and(|end| *at < end) {
                diags.push(
                    Diagnostic::new(
                        Code::E0112,
                        v.span,
                        format!("call data `{}` decides where the request goes", v.name),
                    )
                    .label("in the scheme, host or port")
                    .note("a caller could steer the request to another server: keep the host fixed and put the value in the path or the query")
                    .note("for a host that differs per environment, use `$env.NAME$`"),
                );
            }
        }
    }
    let shown = url.source_text();
    match url::Url::parse(&probe) {
        Err(e) => diags.push(
            Diagnostic::new(Code::E0106, url.span, format!("the {what} `{shown}` is not a valid URL: {e}"))
                .label("not a valid URL")
                .note("write a full URL such as `https://crm.example.com/contacts?phone=$CALLER_ID_E164$`"),
        ),
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => diags.push(
            Diagnostic::new(
                Code::E0106,
                url.span,
                format!("the {what} uses `{}:`, not http or https", u.scheme()),
            )
            .label("not http or https")
            .note("callhook only sends HTTP requests: start the URL with `https://`"),
        ),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => diags.push(
            Diagnostic::new(Code::E0106, url.span, format!("the {what} `{shown}` has no host"))
                .label("no host")
                .note("write a full URL such as `https://crm.example.com/...`"),
        ),
        Ok(u) if u.scheme() == "http" => diags.push(
            Diagnostic::new(Code::W0204, url.span, format!("the {what} uses plain http://"))
                .label("not encrypted")
                .note("call data and credentials travel in clear text: use https:// if the server has it"),
        ),
        Ok(_) => {}
    }
}

/// E0107: duplicate keys (at every level) and trailing commas.
fn json_problems(v: &JsonValue, diags: &mut Vec<Diagnostic>) {
    match v {
        JsonValue::Object(o) => {
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for (k, val) in &o.members {
                if let Some(first) = seen.get(k.node.as_str()) {
                    diags.push(
                        Diagnostic::new(
                            Code::E0107,
                            k.span,
                            format!("duplicate key `{}` in the JSON body", k.node),
                        )
                        .label("second one")
                        .secondary(*first, "first one")
                        .note("a JSON object has each key once: remove or rename one of them"),
                    );
                } else {
                    seen.insert(&k.node, k.span);
                }
                json_problems(&val.node, diags);
            }
            trailing(o.trailing_comma, diags);
        }
        JsonValue::Array(items, comma) => {
            items.iter().for_each(|i| json_problems(&i.node, diags));
            trailing(*comma, diags);
        }
        _ => {}
    }
}

fn trailing(comma: Option<Span>, diags: &mut Vec<Diagnostic>) {
    if let Some(span) = comma {
        diags.push(
            Diagnostic::new(Code::E0107, span, "trailing comma in the JSON body")
                .label("JSON allows no comma here")
                .note("remove the comma"),
        );
    }
}

/// E0109: header names must be HTTP tokens; literal values must not hold control characters.
fn check_header(h: &crate::ast::Header, diags: &mut Vec<Diagnostic>) {
    let name = &h.name.node;
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if h.name_has_token {
        diags.push(
            Diagnostic::new(
                Code::E0109,
                h.name.span,
                "a header name cannot hold a token",
            )
            .label("token in a header name")
            .note("header names are fixed; put call data in the value"),
        );
    } else if name.is_empty() || !name.chars().all(is_tchar) {
        let bad = name.chars().find(|c| !is_tchar(*c));
        diags.push(
            Diagnostic::new(
                Code::E0109,
                h.name.span,
                format!("`{name}` is not a valid header name"),
            )
            .label(match bad {
                Some(c) => format!("{c:?} is not allowed in a header name"),
                None => "empty header name".into(),
            })
            .note("header names are letters, digits and `-`, e.g. `X-Request-Id`"),
        );
    }
    let bad = h.value.parts.iter().find_map(|p| match p {
        Part::Lit(s) => s.chars().find(|c| c.is_control() && *c != '\t'),
        _ => None,
    });
    if let Some(c) = bad {
        diags.push(
            Diagnostic::new(
                Code::E0109,
                h.value.span,
                format!("the value of header `{name}` holds the control character {c:?}"),
            )
            .label("invalid header value")
            .note("header values are one line of text: remove the line break or control character"),
        );
    }
}

/// E0111
fn check_duration(d: &Duration, what: &str, diags: &mut Vec<Diagnostic>) {
    let problem = match d.millis() {
        None => format!("`{}` is not a duration", d.text),
        Some(0) => format!("a {what} of zero never lets a request finish"),
        Some(ms) if ms > MAX_MILLIS => format!("a {what} of {} is over the 60s limit", d.text),
        Some(_) => return,
    };
    diags.push(
        Diagnostic::new(Code::E0111, d.span, problem)
            .label(format!("invalid {what}"))
            .note("write a whole number with ms, s or m, from 1ms to 60s: `500ms`, `5s`"),
    );
}
