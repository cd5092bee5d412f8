//! W0203: credentials written into the script instead of `$env.NAME$`.

use std::sync::LazyLock;

use regex::Regex;

use crate::ast::{Action, Auth, Body, Part, Template};
use crate::diagnostic::{Code, Diagnostic};

/// `Bearer abc123...` / `Basic dXNlcjpwYXNz` written as literal text.
static SCHEME_CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{6,}=*").expect("valid regex")
});

/// `?sig=...` or `&api_key=...` with a literal value, in a URL.
static URL_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[?&](sig|signature|api[-_]?key|apikey|access[-_]?token|token|secret|client[-_]?secret|password)=[^&#]+")
        .expect("valid regex")
});

/// Whether a header, query or form field name looks like it holds a credential.
pub fn secret_like_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['-', '_', '.', ' ']).collect();
    lower == "authorization"
        || words.iter().any(|w| {
            matches!(
                *w,
                "key"
                    | "apikey"
                    | "token"
                    | "secret"
                    | "password"
                    | "passwd"
                    | "pwd"
                    | "signature"
                    | "sig"
                    | "credential"
                    | "credentials"
            )
        })
}

pub fn check_action(a: &Action, diags: &mut Vec<Diagnostic>) {
    let mut flagged: std::collections::HashSet<crate::span::Span> = Default::default();
    let mut warn = |t: &Template, why: String, fix: &str| {
        if !flagged.insert(t.span) {
            return;
        }
        diags.push(
            Diagnostic::new(Code::W0203, t.span, why)
                .label("literal credential")
                .note(format!("keep secrets out of scripts: write `$env.{fix}$` and set {fix} in the environment or an --env-file")),
        );
    };
    for t in a.templates() {
        let literal = |re: &Regex| {
            t.parts
                .iter()
                .any(|p| matches!(p, Part::Lit(s) if re.is_match(s)))
        };
        if literal(&SCHEME_CREDENTIALS) {
            warn(
                t,
                "credentials after `Bearer` or `Basic` are written in the script".into(),
                "API_TOKEN",
            );
        } else if std::ptr::eq(t, &a.url) && literal(&URL_SECRET) {
            warn(
                t,
                "the URL holds a literal signature or key".into(),
                "FLOW_SIG",
            );
        }
    }
    for h in &a.headers {
        if secret_like_name(&h.name.node) && is_literal(&h.value) {
            warn(
                &h.value,
                format!("header `{}` has a literal value", h.name.node),
                &env_name(&h.name.node),
            );
        }
    }
    for q in &a.queries {
        if secret_like_name(&q.name.node) && is_literal(&q.value) {
            warn(
                &q.value,
                format!("query parameter `{}` has a literal value", q.name.node),
                &env_name(&q.name.node),
            );
        }
    }
    if let Some(Body::Form(fields)) = a.body.as_ref().map(|b| &b.node) {
        for f in fields {
            if secret_like_name(&f.name.node) && is_literal(&f.value) {
                warn(
                    &f.value,
                    format!("form field `{}` has a literal value", f.name.node),
                    &env_name(&f.name.node),
                );
            }
        }
    }
    if let Some(auth) = &a.auth {
        match &auth.node {
            Auth::Bearer(t) if is_literal(t) => warn(
                t,
                "the bearer token is written in the script".into(),
                "API_TOKEN",
            ),
            Auth::Basic { password, .. } if is_literal(password) => warn(
                password,
                "the basic-auth password is written in the script".into(),
                "API_PASSWORD",
            ),
            Auth::OAuth2(o) if is_literal(&o.client_secret) => warn(
                &o.client_secret,
                "the oauth2 client secret is written in the script".into(),
                "CLIENT_SECRET",
            ),
            _ => {}
        }
    }
}

/// A non-empty value with no token at all.
fn is_literal(t: &Template) -> bool {
    !t.has_tokens() && !t.literal_text().trim().is_empty()
}

fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
