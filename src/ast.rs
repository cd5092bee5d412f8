//! The typed syntax tree. Built once by [`crate::parse`]; nothing after the parser sees pest.
//! Every node a diagnostic can point at carries its [`Span`].

use crate::span::{Span, Spanned};

/// A whole program: the workflows of one or more files, in the order given.
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub workflows: Vec<Workflow>,
}

/// `workflow "CRM lookup" scope "Sales" on AgentConnected order 1 when $X$ < GET "..." > else < ... >`
#[derive(Clone, Debug)]
pub struct Workflow {
    pub name: Option<Spanned<String>>,
    pub scope: Option<Spanned<String>>,
    /// The trigger as written; the checker resolves it (unknown names are E0101).
    pub trigger: Spanned<String>,
    pub order: Option<Spanned<i64>>,
    pub when: Option<Condition>,
    pub main: Action,
    pub otherwise: Option<Action>,
    /// From the first keyword to the closing `>`.
    pub span: Span,
}

impl Workflow {
    /// `order N`, 0 when absent.
    pub fn order_value(&self) -> i64 {
        self.order.as_ref().map_or(0, |o| o.node)
    }

    /// The workflow's name, or a description such as `the workflow at AgentConnected`.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) => format!("`{}`", n.node),
            None => format!("the unnamed workflow on {}", self.trigger.node),
        }
    }

    /// Both blocks, main first.
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        std::iter::once(&self.main).chain(self.otherwise.as_ref())
    }
}

/// `$A$ and not $B$ and $C$ == "x"`
#[derive(Clone, Debug)]
pub struct Condition {
    pub atoms: Vec<CondAtom>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum CondAtom {
    /// `$X$` (true when set and non-empty) or `not $X$`.
    IsSet { negated: bool, var: Spanned<String> },
    /// `$X$ == "text"` / `$X$ != "text"`; false when X is unset.
    Compare {
        var: Spanned<String>,
        op: CmpOp,
        value: Template,
    },
}

impl CondAtom {
    pub fn var(&self) -> &Spanned<String> {
        match self {
            CondAtom::IsSet { var, .. } | CondAtom::Compare { var, .. } => var,
        }
    }

    /// Whether this atom being true implies that its variable is set.
    pub fn guards(&self) -> bool {
        !matches!(self, CondAtom::IsSet { negated: true, .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Retried by default on network errors, timeouts, 429 and 5xx (SPEC section 6).
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }
}

/// `GET "https://..." header ... map ...`: one HTTP request.
#[derive(Clone, Debug)]
pub struct Action {
    pub method: Spanned<Method>,
    pub url: Template,
    pub headers: Vec<Header>,
    pub queries: Vec<Query>,
    pub auth: Option<Spanned<Auth>>,
    pub body: Option<Spanned<Body>>,
    pub timeout: Option<Duration>,
    pub retry: Option<Retry>,
    pub maps: Vec<Map>,
    pub span: Span,
}

impl Action {
    /// Every template in the action, in source order of kind (URL, headers, queries, auth, body).
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.url];
        for h in &self.headers {
            out.push(&h.value);
        }
        for q in &self.queries {
            out.push(&q.value);
        }
        if let Some(auth) = &self.auth {
            match &auth.node {
                Auth::Bearer(t) => out.push(t),
                Auth::Basic { user, password } => {
                    out.push(user);
                    out.push(password);
                }
                Auth::OAuth2(o) => {
                    out.extend([&o.token_url, &o.client_id, &o.client_secret]);
                    out.extend(o.scope.as_ref());
                }
            }
        }
        if let Some(body) = &self.body {
            match &body.node {
                Body::Json(v) => v.node.templates(&mut out),
                Body::Form(fields) => out.extend(fields.iter().map(|f| &f.value)),
                Body::Xml(t) => out.push(t),
                Body::Call => {}
            }
        }
        out
    }

    pub fn header(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.node.eq_ignore_ascii_case(name))
    }
}

/// `header Authorization = "Bearer $env.TOKEN$"`
#[derive(Clone, Debug)]
pub struct Header {
    /// The name's text; for a quoted name, its tokens are kept as written.
    pub name: Spanned<String>,
    /// A quoted name that holds a `$...$` token (E0109).
    pub name_has_token: bool,
    pub value: Template,
}

/// `query phone = "$CALLER_ID_E164$"`
#[derive(Clone, Debug)]
pub struct Query {
    pub name: Spanned<String>,
    pub value: Template,
}

#[derive(Clone, Debug)]
pub enum Auth {
    /// `auth bearer "$env.TOKEN$"`
    Bearer(Template),
    /// `auth basic "user" "$env.PASSWORD$"`
    Basic { user: Template, password: Template },
    /// `auth oauth2 { token_url = "..." client_id = "..." client_secret = "..." scope = "..." }`
    OAuth2(OAuth2),
}

#[derive(Clone, Debug)]
pub struct OAuth2 {
    pub token_url: Template,
    pub client_id: Template,
    pub client_secret: Template,
    pub scope: Option<Template>,
}

#[derive(Clone, Debug)]
pub enum Body {
    /// `body { "phone": "$CALLER_ID_E164$" }`; the checker requires an object (E0107).
    Json(Spanned<JsonValue>),
    /// `body form { name = "$AGENT_NAME$" }`
    Form(Vec<FormField>),
    /// `body xml "<a>$X$</a>"`
    Xml(Template),
    /// `body call`: the predefined call-details payload.
    Call,
}

#[derive(Clone, Debug)]
pub struct FormField {
    pub name: Spanned<String>,
    pub value: Template,
}

/// A JSON value with spans on every key and value. Strings are templates.
#[derive(Clone, Debug)]
pub enum JsonValue {
    Object(JsonObject),
    Array(Vec<Spanned<JsonValue>>, Option<Span>),
    String(Template),
    /// The number's text, as written (always valid JSON).
    Number(String),
    Bool(bool),
    Null,
}

#[derive(Clone, Debug)]
pub struct JsonObject {
    pub members: Vec<(Spanned<String>, Spanned<JsonValue>)>,
    /// Where a trailing comma stands, if any (E0107).
    pub trailing_comma: Option<Span>,
}

impl JsonValue {
    pub fn templates<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonValue::Object(o) => o.members.iter().for_each(|(_, v)| v.node.templates(out)),
            JsonValue::Array(items, _) => items.iter().for_each(|v| v.node.templates(out)),
            JsonValue::String(t) => out.push(t),
            JsonValue::Number(_) | JsonValue::Bool(_) | JsonValue::Null => {}
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            JsonValue::Object(_) => "an object",
            JsonValue::Array(..) => "an array",
            JsonValue::String(_) => "a string",
            JsonValue::Number(_) => "a number",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Null => "null",
        }
    }
}

/// `timeout 5s`, `backoff 500ms`: kept as written; the checker validates it (E0111).
#[derive(Clone, Debug)]
pub struct Duration {
    pub text: String,
    pub span: Span,
}

impl Duration {
    /// Milliseconds, for `N`ms / `N`s / `N`m; `None` when malformed.
    pub fn millis(&self) -> Option<u64> {
        let digits = self
            .text
            .trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &self.text[digits.len()..];
        let n: u64 = digits.parse().ok()?;
        let factor = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            _ => return None,
        };
        n.checked_mul(factor)
    }
}

/// `retry 3 backoff 2s`
#[derive(Clone, Debug)]
pub struct Retry {
    pub count: Spanned<u32>,
    pub backoff: Option<Duration>,
    pub span: Span,
}

/// `map CRM_CONTACT_ID = contacts[0].id required`
#[derive(Clone, Debug)]
pub struct Map {
    pub target: Spanned<String>,
    pub path: Spanned<MapPath>,
    pub required: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapPath {
    /// `contacts[0].id`, `"first-name"`, `[0].id`
    Json(Vec<Segment>),
    /// `@status`, `@duration`, ...
    Meta(Meta),
    /// `@header.X-Request-Id`
    Header(String),
    /// `xpath "/contact/id"`
    XPath(String),
}

impl MapPath {
    /// Whether a failed action still stores this map (SPEC section 6), and whether only
    /// when a response arrived.
    pub fn stored_on_failure(&self) -> Option<FailureStore> {
        match self {
            MapPath::Meta(Meta::Outcome | Meta::Error | Meta::Duration) => {
                Some(FailureStore::Always)
            }
            MapPath::Meta(Meta::Status | Meta::StatusClass | Meta::Raw) | MapPath::Header(_) => {
                Some(FailureStore::WithResponse)
            }
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureStore {
    Always,
    WithResponse,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meta {
    Status,
    StatusClass,
    Duration,
    Outcome,
    Error,
    Raw,
}

impl Meta {
    pub const NAMES: [&'static str; 7] = [
        "status",
        "status_class",
        "duration",
        "outcome",
        "error",
        "raw",
        "header",
    ];

    pub fn parse(s: &str) -> Option<Meta> {
        Some(match s {
            "status" => Meta::Status,
            "status_class" => Meta::StatusClass,
            "duration" => Meta::Duration,
            "outcome" => Meta::Outcome,
            "error" => Meta::Error,
            "raw" => Meta::Raw,
            _ => return None,
        })
    }
}

/// A string with tokens: `"https://x/?phone=$CALLER_ID_E164$"`.
#[derive(Clone, Debug)]
pub struct Template {
    pub parts: Vec<Part>,
    /// The whole string, quotes included.
    pub span: Span,
    /// `$` signs that begin no token (OData's `$filter`), with the name that follows them.
    pub stray_dollars: Vec<StrayDollar>,
}

impl Template {
    /// A template with literal text only, e.g. for tests and the REPL.
    pub fn literal(text: &str, span: Span) -> Template {
        Template {
            parts: vec![Part::Lit(text.to_string())],
            span,
            stray_dollars: vec![],
        }
    }

    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            _ => None,
        })
    }

    pub fn envs(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env(e) => Some(e),
            _ => None,
        })
    }

    pub fn has_tokens(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Lit(_)))
    }

    /// The literal text, when the template has no tokens.
    pub fn as_literal(&self) -> Option<String> {
        (!self.has_tokens()).then(|| self.literal_text())
    }

    /// The literal parts joined, tokens left out.
    pub fn literal_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Lit(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The template as a user would write it (tokens in `$...$` form), for messages.
    pub fn source_text(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(&s.replace('$', "$$")),
                Part::Var(v) => {
                    out.push('$');
                    out.push_str(&v.name);
                    if let Some(d) = &v.default {
                        out.push('?');
                        out.push_str(d);
                    }
                    out.push('$');
                }
                Part::Env(e) => {
                    out.push_str("$env.");
                    out.push_str(&e.node);
                    out.push('$');
                }
            }
        }
        out
    }

    /// `$X?$` alone: a header or query clause with such a value is left out when X is unset.
    pub fn is_lone_optional(&self) -> Option<&VarRef> {
        match self.parts.as_slice() {
            [Part::Var(v)] if v.default.as_deref() == Some("") => Some(v),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Literal text, escapes decoded, `$$` turned into `$`.
    Lit(String),
    /// `$NAME$`, `$NAME?$`, `$NAME?default$`
    Var(VarRef),
    /// `$env.NAME$`
    Env(Spanned<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct VarRef {
    pub name: String,
    /// `None` for `$NAME$`; `Some("")` for `$NAME?$`; `Some(text)` for `$NAME?text$`.
    pub default: Option<String>,
    /// The whole token, both `$` included.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StrayDollar {
    /// The `$` itself.
    pub span: Span,
    /// The name-like text right after it (may be empty).
    pub following: String,
}
