//! pest pairs to the typed AST: one function per grammar rule, named after it.
//! Shapes the grammar cannot produce are `unreachable!`; everything a user can write that
//! the grammar accepts but the language does not (an unknown method, `@foo`) is an E0001.

use pest::iterators::Pair;

use super::grammar::Rule;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span, Spanned};

/// JSON bodies nested deeper than this are refused (and never recursed into).
const MAX_JSON_DEPTH: usize = 64;

pub struct Lower<'s> {
    file: FileId,
    /// Where the parsed chunk starts in the file.
    offset: usize,
    src: &'s str,
    pub errors: Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

impl<'s> Lower<'s> {
    pub fn new(file: FileId, offset: usize, src: &'s str) -> Self {
        Lower {
            file,
            offset,
            src,
            errors: Vec::new(),
        }
    }

    fn span(&self, p: &P) -> Span {
        let s = p.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.errors
            .push(Diagnostic::new(Code::E0001, span, message));
        self.errors.last_mut().expect("just pushed")
    }

    /// Children of a pair, keywords left out.
    fn children<'i>(p: P<'i>) -> impl Iterator<Item = P<'i>> {
        p.into_inner().filter(|c| !is_keyword(c.as_rule()))
    }

    pub fn workflow(&mut self, p: P) -> Workflow {
        let span = self.span(&p);
        let mut name = None;
        let mut scope = None;
        let mut trigger = None;
        let mut order = None;
        let mut when = None;
        let mut main = None;
        let mut otherwise = None;
        for c in Self::children(p) {
            match c.as_rule() {
                Rule::workflow_name => name = Some(self.plain_string(Self::only(c))),
                Rule::workflow_scope => scope = Some(self.plain_string(Self::only(c))),
                Rule::trigger => {
                    trigger = Some(Spanned::new(c.as_str().to_string(), self.span(&c)))
                }
                Rule::workflow_order => order = Some(self.order(Self::only(c))),
                Rule::workflow_when => when = Some(self.condition(Self::only(c))),
                Rule::block => main = Some(self.action(Self::only(c))),
                Rule::else_block => otherwise = Some(self.action(Self::only(c))),
                r => unreachable!("workflow child {r:?}"),
            }
        }
        Workflow {
            name,
            scope,
            trigger: trigger.expect("grammar: trigger"),
            order,
            when,
            main: main.expect("grammar: block"),
            otherwise,
            span,
        }
    }

    fn only<'i>(p: P<'i>) -> P<'i> {
        Self::children(p).next().expect("grammar: one child")
    }

    fn order(&mut self, p: P) -> Spanned<i64> {
        let span = self.span(&p);
        let value = p.as_str().parse::<i64>().unwrap_or_else(|_| {
            self.error(span, "`order` is out of range")
                .set_label("too large")
                .notes
                .push("use a number between -1000000 and 1000000".into());
            0
        });
        Spanned::new(value, span)
    }

    fn condition(&mut self, p: P) -> Condition {
        let span = self.span(&p);
        let atoms = Self::children(p).map(|a| self.cond_atom(a)).collect();
        Condition { atoms, span }
    }

    fn cond_atom(&mut self, p: P) -> CondAtom {
        let rule = p.as_rule();
        let mut inner = Self::children(p);
        let var = self.var_token(inner.next().expect("grammar: var_token"));
        match rule {
            Rule::cond_set => CondAtom::IsSet {
                negated: false,
                var,
            },
            Rule::cond_not => CondAtom::IsSet { negated: true, var },
            Rule::cond_compare => {
                let op = match inner.next().expect("grammar: cmp_op").as_str() {
                    "==" => CmpOp::Eq,
                    _ => CmpOp::Ne,
                };
                let value = self.string(inner.next().expect("grammar: string"));
                CondAtom::Compare { var, op, value }
            }
            r => unreachable!("cond atom {r:?}"),
        }
    }

    fn var_token(&mut self, p: P) -> Spanned<String> {
        let span = self.span(&p);
        let name = Self::only(p).as_str().to_string();
        Spanned::new(name, span)
    }

    pub fn action(&mut self, p: P) -> Action {
        let span = self.span(&p);
        let mut inner = Self::children(p);
        let m = inner.next().expect("grammar: method");
        let method = self.method(m);
        let url = self.string(inner.next().expect("grammar: url"));
        let mut action = Action {
            method,
            url,
            headers: vec![],
            queries: vec![],
            auth: None,
            body: None,
            timeout: None,
            retry: None,
            maps: vec![],
            span,
        };
        for c in inner {
            let cspan = self.span(&c);
            match c.as_rule() {
                Rule::header_clause => {
                    let h = self.header(c);
                    action.headers.push(h);
                }
                Rule::query_clause => {
                    let mut it = Self::children(c);
                    let name = self.name(it.next().expect("grammar: name"));
                    let value = self.string(it.next().expect("grammar: value"));
                    action.queries.push(Query { name, value });
                }
                Rule::auth_bearer | Rule::auth_basic | Rule::auth_oauth2 => {
                    let auth = self.auth(c);
                    if self.once(action.auth.is_some(), cspan, "auth") {
                        action.auth = Some(Spanned::new(auth, cspan));
                    }
                }
                Rule::body_form | Rule::body_xml | Rule::body_call | Rule::body_json => {
                    let body = self.body(c);
                    if self.once(action.body.is_some(), cspan, "body") {
                        action.body = Some(Spanned::new(body, cspan));
                    }
                }
                Rule::timeout_clause => {
                    let d = self.duration(Self::only(c));
                    if self.once(action.timeout.is_some(), cspan, "timeout") {
                        action.timeout = Some(d);
                    }
                }
                Rule::retry_clause => {
                    let r = self.retry(c);
                    if self.once(action.retry.is_some(), cspan, "retry") {
                        action.retry = Some(r);
                    }
                }
                Rule::map_clause => action.maps.push(self.map(c)),
                r => unreachable!("clause {r:?}"),
            }
        }
        action
    }

    /// Reports a clause given twice; returns whether this one is the first.
    fn once(&mut self, already: bool, span: Span, what: &str) -> bool {
        if already {
            self.error(span, format!("`{what}` is given twice in one action"))
                .set_label("second `".to_string() + what + "`")
                .notes
                .push(format!("an action takes at most one `{what}` clause"));
        }
        !already
    }

    fn method(&mut self, p: P) -> Spanned<Method> {
        let span = self.span(&p);
        let text = p.as_str();
        let method = Method::parse(text).unwrap_or_else(|| {
            let d = self.error(span, format!("unknown HTTP method `{text}`"));
            d.primary.message = "not a method".into();
            let upper = text.to_ascii_uppercase();
            d.notes.push(match Method::parse(&upper) {
                Some(m) => format!("methods are written in upper case: `{}`", m.as_str()),
                None => "the methods are GET, POST, PUT, PATCH, DELETE, HEAD and OPTIONS".into(),
            });
            Method::Get
        });
        Spanned::new(method, span)
    }

    fn header(&mut self, p: P) -> Header {
        let mut it = Self::children(p);
        let name_pair = it.next().expect("grammar: header name");
        let (name, name_has_token) = if name_pair.as_rule() == Rule::string {
            let t = self.string(name_pair);
            let has = t.has_tokens();
            (Spanned::new(t.source_text(), t.span), has)
        } else {
            (
                Spanned::new(name_pair.as_str().to_string(), self.span(&name_pair)),
                false,
            )
        };
        let value = self.string(it.next().expect("grammar: header value"));
        Header {
            name,
            name_has_token,
            value,
        }
    }

    /// A bare or quoted name (query parameter, form field).
    fn name(&mut self, p: P) -> Spanned<String> {
        if p.as_rule() == Rule::string {
            self.plain_string(p)
        } else {
            Spanned::new(p.as_str().to_string(), self.span(&p))
        }
    }

    fn auth(&mut self, p: P) -> Auth {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::auth_bearer => Auth::Bearer(self.string(Self::only(p))),
            Rule::auth_basic => {
                let mut it = Self::children(p);
                let user = self.string(it.next().expect("grammar: user"));
                let password = self.string(it.next().expect("grammar: password"));
                Auth::Basic { user, password }
            }
            Rule::auth_oauth2 => {
                let mut fields: Vec<(Spanned<String>, Template)> = vec![];
                for f in Self::children(p) {
                    let mut it = Self::children(f);
                    let key = it.next().expect("grammar: key");
                    let key = Spanned::new(key.as_str().to_string(), self.span(&key));
                    let value = self.string(it.next().expect("grammar: value"));
                    if !["token_url", "client_id", "client_secret", "scope"]
                        .contains(&key.node.as_str())
                    {
                        self.error(key.span, format!("unknown oauth2 setting `{}`", key.node))
                            .set_label("not an oauth2 setting")
                            .notes
                            .push(
                                "the settings are token_url, client_id, client_secret and scope"
                                    .into(),
                            );
                    } else if let Some((first, _)) = fields.iter().find(|(k, _)| k.node == key.node)
                    {
                        let first = first.span;
                        let d = self.error(
                            key.span,
                            format!("oauth2 setting `{}` is given twice", key.node),
                        );
                        d.primary.message = "second one".into();
                        d.secondary.push(crate::diagnostic::Label {
                            span: first,
                            message: "first one".into(),
                        });
                    } else {
                        fields.push((key, value));
                    }
                }
                let mut take = |name: &str| {
                    fields
                        .iter()
                        .position(|(k, _)| k.node == name)
                        .map(|i| fields.swap_remove(i).1)
                };
                let token_url = take("token_url");
                let client_id = take("client_id");
                let client_secret = take("client_secret");
                let scope = take("scope");
                let missing: Vec<&str> = [
                    ("token_url", token_url.is_none()),
                    ("client_id", client_id.is_none()),
                    ("client_secret", client_secret.is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect();
                if !missing.is_empty() {
                    self.error(span, format!("oauth2 needs {}", super::error::join_or(&missing)))
                        .set_label("incomplete oauth2 settings")
                        .notes
                        .push("write `auth oauth2 { token_url = \"https://...\" client_id = \"...\" client_secret = \"$env.SECRET$\" }`".into());
                }
                let empty = || Template::literal("", span);
                Auth::OAuth2(OAuth2 {
                    token_url: token_url.unwrap_or_else(empty),
                    client_id: client_id.unwrap_or_else(empty),
                    client_secret: client_secret.unwrap_or_else(empty),
                    scope,
                })
            }
            r => unreachable!("auth {r:?}"),
        }
    }

    fn body(&mut self, p: P) -> Body {
        match p.as_rule() {
            Rule::body_call => Body::Call,
            Rule::body_xml => Body::Xml(self.string(Self::only(p))),
            Rule::body_form => Body::Form(
                Self::children(p)
                    .map(|f| {
                        let mut it = Self::children(f);
                        let name = self.name(it.next().expect("grammar: name"));
                        let value = self.string(it.next().expect("grammar: value"));
                        FormField { name, value }
                    })
                    .collect(),
            ),
            Rule::body_json => Body::Json(self.json_value(Self::only(p), 0)),
            r => unreachable!("body {r:?}"),
        }
    }

    fn json_value(&mut self, p: P, depth: usize) -> Spanned<JsonValue> {
        let span = self.span(&p);
        if depth > MAX_JSON_DEPTH {
            self.error(
                span,
                format!("JSON body nested deeper than {MAX_JSON_DEPTH} levels"),
            )
            .set_label("too deep");
            return Spanned::new(JsonValue::Null, span);
        }
        let value = match p.as_rule() {
            Rule::json_object => {
                let mut members = vec![];
                let mut trailing_comma = None;
                for m in p.into_inner() {
                    if m.as_rule() == Rule::trailing_comma {
                        trailing_comma = Some(self.span(&m));
                        continue;
                    }
                    let mut it = m.into_inner();
                    let key = self.json_key(it.next().expect("grammar: key"));
                    let value = self.json_value(it.next().expect("grammar: value"), depth + 1);
                    members.push((key, value));
                }
                JsonValue::Object(JsonObject {
                    members,
                    trailing_comma,
                })
            }
            Rule::json_array => {
                let mut items = vec![];
                let mut trailing = None;
                for v in p.into_inner() {
                    if v.as_rule() == Rule::trailing_comma {
                        trailing = Some(self.span(&v));
                    } else {
                        items.push(self.json_value(v, depth + 1));
                    }
                }
                JsonValue::Array(items, trailing)
            }
            Rule::json_string => JsonValue::String(self.string(p)),
            Rule::json_number => JsonValue::Number(p.as_str().to_string()),
            Rule::json_true => JsonValue::Bool(true),
            Rule::json_false => JsonValue::Bool(false),
            Rule::json_null => JsonValue::Null,
            r => unreachable!("json value {r:?}"),
        };
        Spanned::new(value, span)
    }

    fn json_key(&mut self, p: P) -> Spanned<String> {
        let span = self.span(&p);
        let mut text = String::new();
        let mut units = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::json_key_text => {
                    self.flush_utf16(&mut units, &mut text, span);
                    text.push_str(c.as_str());
                }
                Rule::json_escape => self.json_escape(c.as_str(), &mut units, &mut text, span),
                r => unreachable!("json key {r:?}"),
            }
        }
        self.flush_utf16(&mut units, &mut text, span);
        Spanned::new(text, span)
    }

    fn duration(&mut self, p: P) -> Duration {
        Duration {
            text: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn retry(&mut self, p: P) -> Retry {
        let span = self.span(&p);
        let mut it = Self::children(p);
        let n = it.next().expect("grammar: count");
        let nspan = self.span(&n);
        let count = match n.as_str().parse::<u32>() {
            Ok(c) if c <= 10 => c,
            _ => {
                self.error(nspan, format!("`retry {}` is out of range", n.as_str()))
                    .set_label("expected 0 to 10")
                    .notes
                    .push(
                        "retry takes the number of retries after the first attempt, from 0 to 10"
                            .into(),
                    );
                0
            }
        };
        let backoff = it.next().map(|d| self.duration(d));
        Retry {
            count: Spanned::new(count, nspan),
            backoff,
            span,
        }
    }

    fn map(&mut self, p: P) -> Map {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let mut required = false;
        let mut target = None;
        let mut path = None;
        for c in it.by_ref() {
            match c.as_rule() {
                Rule::kw_map => {}
                Rule::kw_required => required = true,
                Rule::map_target => {
                    target = Some(Spanned::new(c.as_str().to_string(), self.span(&c)))
                }
                _ => path = Some(self.map_path(c)),
            }
        }
        Map {
            target: target.expect("grammar: target"),
            path: path.expect("grammar: path"),
            required,
            span,
        }
    }

    fn map_path(&mut self, p: P) -> Spanned<MapPath> {
        let span = self.span(&p);
        let path = match p.as_rule() {
            Rule::xpath_path => {
                let t = self.plain_string(Self::only(p));
                if t.node.trim().is_empty() {
                    self.error(t.span, "empty XPath expression")
                        .set_label("empty");
                }
                MapPath::XPath(t.node)
            }
            Rule::meta_path => {
                let mut it = p.into_inner();
                let name = it.next().expect("grammar: meta name");
                let nspan = self.span(&name);
                let suffix = it.next().map(|s| {
                    if s.as_rule() == Rule::string {
                        self.plain_string(s).node
                    } else {
                        s.as_str().to_string()
                    }
                });
                match (name.as_str(), suffix) {
                    ("header", Some(h)) => MapPath::Header(h),
                    ("header", None) => {
                        self.error(span, "`@header` needs a header name")
                            .set_label("no header name")
                            .notes
                            .push("write `@header.X-Request-Id`".into());
                        MapPath::Header(String::new())
                    }
                    (n, suffix) => match Meta::parse(n) {
                        Some(m) => {
                            if suffix.is_some() {
                                self.error(span, format!("`@{n}` takes no `.NAME`"))
                                    .set_label("only `@header.NAME` takes a name");
                            }
                            MapPath::Meta(m)
                        }
                        None => {
                            let d = self.error(nspan, format!("unknown response field `@{n}`"));
                            d.primary.message = "not a response field".into();
                            d.notes.push(format!(
                                "the response fields are {}",
                                Meta::NAMES
                                    .iter()
                                    .map(|n| format!("@{n}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                            if let Some(near) =
                                crate::suggest::nearest(n, Meta::NAMES.iter().copied())
                            {
                                d.notes.push(format!("did you mean `@{near}`?"));
                            }
                            MapPath::Meta(Meta::Raw)
                        }
                    },
                }
            }
            Rule::json_path => {
                let mut segs = vec![];
                for s in p.into_inner() {
                    match s.as_rule() {
                        Rule::bare_key => segs.push(Segment::Key(s.as_str().to_string())),
                        Rule::string => segs.push(Segment::Key(self.plain_string(s).node)),
                        Rule::path_index => {
                            let idx = Self::only(s);
                            let ispan = self.span(&idx);
                            match idx.as_str().parse::<usize>() {
                                Ok(i) => segs.push(Segment::Index(i)),
                                Err(_) => {
                                    self.error(ispan, "array index out of range")
                                        .set_label("too large");
                                }
                            }
                        }
                        r => unreachable!("path segment {r:?}"),
                    }
                }
                MapPath::Json(segs)
            }
            r => unreachable!("map path {r:?}"),
        };
        Spanned::new(path, span)
    }

    /// A string that must not hold tokens (a workflow name, a scope, a path key): its text,
    /// with `$...$` written as it stands.
    fn plain_string(&mut self, p: P) -> Spanned<String> {
        let t = self.string(p);
        let text = if t.has_tokens() {
            t.source_text()
        } else {
            t.literal_text()
        };
        Spanned::new(text, t.span)
    }

    /// A `string` or `json_string` pair as a template.
    pub fn string(&mut self, p: P) -> Template {
        let span = self.span(&p);
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let mut units: Vec<u16> = Vec::new();
        let mut stray_dollars = Vec::new();
        for c in p.into_inner() {
            if c.as_rule() != Rule::json_escape {
                self.flush_utf16(&mut units, &mut lit, span);
            }
            match c.as_rule() {
                Rule::lit_text | Rule::json_lit_text => lit.push_str(c.as_str()),
                Rule::escape => self.escape(&c, &mut lit),
                Rule::json_escape => {
                    let cs = self.span(&c);
                    self.json_escape(c.as_str(), &mut units, &mut lit, cs)
                }
                Rule::tok_dollar => lit.push('$'),
                Rule::lit_dollar => {
                    lit.push('$');
                    let dspan = self.span(&c);
                    let following: String = self.src[dspan.end..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    stray_dollars.push(StrayDollar {
                        span: dspan,
                        following,
                    });
                }
                Rule::tok_env | Rule::tok_var | Rule::tok_default => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    let tspan = self.span(&c);
                    let rule = c.as_rule();
                    let mut it = c.into_inner();
                    let name = it.next().expect("grammar: var name").as_str().to_string();
                    parts.push(match rule {
                        Rule::tok_env => Part::Env(Spanned::new(name, tspan)),
                        Rule::tok_var => Part::Var(VarRef {
                            name,
                            default: None,
                            span: tspan,
                        }),
                        _ => {
                            let mut default = String::new();
                            if let Some(d) = it.next() {
                                for dc in d.into_inner() {
                                    match dc.as_rule() {
                                        Rule::escape => self.escape(&dc, &mut default),
                                        _ => default.push_str(dc.as_str()),
                                    }
                                }
                            }
                            Part::Var(VarRef {
                                name,
                                default: Some(default),
                                span: tspan,
                            })
                        }
                    });
                }
                r => unreachable!("string part {r:?}"),
            }
        }
        self.flush_utf16(&mut units, &mut lit, span);
        if !lit.is_empty() || parts.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Template {
            parts,
            span,
            stray_dollars,
        }
    }

    /// `\"`, `\\`, `\n`, `\t`, `\r`, `\u{...}`
    fn escape(&mut self, c: &P, out: &mut String) {
        let s = c.as_str();
        match &s[1..2] {
            "n" => out.push('\n'),
            "t" => out.push('\t'),
            "r" => out.push('\r'),
            "u" => {
                let hex = &s[3..s.len() - 1];
                match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        let span = self.span(c);
                        self.error(
                            span,
                            format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                        )
                        .set_label("invalid code point");
                    }
                }
            }
            other => out.push_str(other),
        }
    }

    /// JSON escapes; `\uXXXX` are gathered as UTF-16 so that surrogate pairs decode.
    fn json_escape(&mut self, s: &str, units: &mut Vec<u16>, out: &mut String, span: Span) {
        if let Some(hex) = s.strip_prefix("\\u") {
            units.push(u16::from_str_radix(hex, 16).unwrap_or(0xFFFD));
            return;
        }
        self.flush_utf16(units, out, span);
        out.push(match &s[1..] {
            "b" => '\u{8}',
            "f" => '\u{c}',
            "n" => '\n',
            "r" => '\r',
            "t" => '\t',
            other => other.chars().next().unwrap_or('\\'),
        });
    }

    fn flush_utf16(&mut self, units: &mut Vec<u16>, out: &mut String, span: Span) {
        if units.is_empty() {
            return;
        }
        for r in char::decode_utf16(units.drain(..)) {
            match r {
                Ok(ch) => out.push(ch),
                Err(_) => {
                    self.error(span, "lone UTF-16 surrogate in a `\\u` escape")
                        .set_label("in this string")
                        .notes
                        .push(
                            "write a surrogate pair (`\\uD83D\\uDE00`) or the character itself"
                                .into(),
                        );
                }
            }
        }
    }
}

fn is_keyword(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        kw_workflow
            | kw_scope
            | kw_on
            | kw_order
            | kw_when
            | kw_else
            | kw_and
            | kw_not
            | kw_header
            | kw_query
            | kw_auth
            | kw_bearer
            | kw_basic
            | kw_oauth2
            | kw_body
            | kw_form
            | kw_xml
            | kw_call
            | kw_timeout
            | kw_retry
            | kw_backoff
            | kw_map
            | kw_required
            | kw_xpath
    )
}
