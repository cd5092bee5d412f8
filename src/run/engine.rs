//! The interpreter: applies call events to a call, runs the trigger's workflows in order,
//! and runs one action (render, send, map). The REPL drives the same engine.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::context::{Call, Origin};
use super::http::{
    self, OAuthCache, OAuthKey, Request, Response, RetryPolicy, SendError, Transport,
};
use super::map::{self, Facts};
use super::outcome::{Outcome, Reason};
use super::secrets::{Env, Redactor};
use super::template::{self, Encoding, Unset};
use crate::ast::{Action, Auth, Body, CmpOp, CondAtom, FailureStore, JsonValue, Script, Workflow};
use crate::model::lifecycle;
use crate::model::variables::CLEARED_AFTER_DECLINED;
use crate::model::Trigger;

/// Default timeout per attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default first wait between attempts.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
/// Retries of idempotent methods when the script says nothing.
pub const DEFAULT_RETRIES: u32 = 2;

pub struct Engine {
    pub script: Script,
    /// Per trigger, the workflows in run order (`order N`, then script order).
    by_trigger: [Vec<usize>; 5],
    /// Each workflow's name in outcomes (see [`label`]), made once.
    labels: Vec<Arc<str>>,
    pub transport: Transport,
    pub env: Env,
    pub redactor: Redactor,
    pub oauth: OAuthCache,
    pub dry_run: bool,
    /// Keep every response's headers (the REPL shows them); otherwise only an action that
    /// maps `@header.X` keeps them.
    pub keep_headers: bool,
    /// Whether some action sends `body call` (which carries the call's earlier outcomes);
    /// otherwise a call keeps no outcome records.
    keep_outcomes: bool,
}

/// What firing one event did.
#[derive(Debug, Default)]
pub struct Fired {
    pub outcomes: Vec<Outcome>,
    pub workflows_failed: usize,
    /// Names of the workflows whose `when` was false.
    pub skipped: Vec<String>,
}

/// A request that could not be built: the reason and the message.
struct NotSent(Reason, String);

impl Engine {
    pub fn new(
        script: Script,
        transport: Transport,
        env: Env,
        redactor: Redactor,
        dry_run: bool,
    ) -> Engine {
        let mut engine = Engine {
            script,
            by_trigger: Default::default(),
            labels: Vec::new(),
            transport,
            env,
            redactor,
            oauth: OAuthCache::default(),
            dry_run,
            keep_headers: false,
            keep_outcomes: false,
        };
        engine.reindex();
        engine
    }

    /// Recomputes the run order (after workflows were added, as in the REPL).
    pub fn reindex(&mut self) {
        let mut by: [Vec<usize>; 5] = Default::default();
        for (i, w) in self.script.workflows.iter().enumerate() {
            if let Some(t) = Trigger::parse(&w.trigger.node) {
                by[t.index()].push(i);
            }
        }
        for list in &mut by {
            list.sort_by_key(|&i| (self.script.workflows[i].order_value(), i));
        }
        self.by_trigger = by;
        self.labels = (self.script.workflows.iter().enumerate())
            .map(|(i, w)| Arc::from(label(w, i)))
            .collect();
        self.keep_outcomes = self
            .script
            .workflows
            .iter()
            .flat_map(|w| w.actions())
            .any(|a| matches!(a.body.as_ref().map(|b| &b.node), Some(Body::Call)));
    }

    /// Applies an event: checks it against the lifecycle, adds its variables, runs its
    /// trigger's workflows one after another, and (after AgentDeclined) removes the agent.
    /// `on_outcome` sees each outcome as soon as it exists.
    pub async fn fire(
        &self,
        call: &mut Call,
        trigger: Trigger,
        scope: Option<&str>,
        vars: Vec<(String, String)>,
        on_outcome: &mut (dyn FnMut(&Outcome) + Send),
    ) -> Result<Fired, String> {
        if !lifecycle::can_follow(call.last, trigger) {
            return Err(lifecycle_error(call.last, trigger));
        }
        call.last = Some(trigger);
        for (k, v) in vars {
            call.vars.set(&k, v, Origin::Event);
        }
        let mut fired = Fired::default();
        for &i in &self.by_trigger[trigger.index()] {
            let w = &self.script.workflows[i];
            if let (Some(ws), Some(es)) = (&w.scope, scope) {
                if ws.node != es {
                    continue;
                }
            }
            let name = &self.labels[i];
            if !self.condition_holds(w, call) {
                fired.skipped.push(name.to_string());
                continue;
            }
            let main = self
                .run_action(call, trigger.as_str(), name, "main", &w.main)
                .await;
            on_outcome(&main);
            let mut ok = main.succeeded();
            if self.keep_outcomes {
                call.outcomes.push(main.clone());
            }
            fired.outcomes.push(main);
            if !ok {
                if let Some(otherwise) = &w.otherwise {
                    let o = self
                        .run_action(call, trigger.as_str(), name, "else", otherwise)
                        .await;
                    on_outcome(&o);
                    ok = o.succeeded();
                    if self.keep_outcomes {
                        call.outcomes.push(o.clone());
                    }
                    fired.outcomes.push(o);
                }
            }
            if !ok {
                fired.workflows_failed += 1;
            }
        }
        if trigger == Trigger::AgentDeclined {
            for v in CLEARED_AFTER_DECLINED {
                call.vars.remove(v);
            }
        }
        Ok(fired)
    }

    fn condition_holds(&self, w: &Workflow, call: &Call) -> bool {
        let Some(cond) = &w.when else { return true };
        cond.atoms.iter().all(|a| match a {
            CondAtom::IsSet { negated, var } => call.vars.is_truthy(&var.node) != *negated,
            CondAtom::Compare { var, op, value } => {
                let Some(actual) = call.vars.get(&var.node) else {
                    return false;
                };
                let Ok(expected) = template::render(value, Encoding::Raw, &call.vars, &self.env)
                else {
                    return false;
                };
                (actual == expected) == (*op == CmpOp::Eq)
            }
        })
    }

    /// Runs one action against the call and stores its maps. Returns the outcome; the
    /// response, when one arrived, is kept for the REPL in `last_response`.
    pub async fn run_action(
        &self,
        call: &mut Call,
        event: &'static str,
        workflow: &Arc<str>,
        block: &'static str,
        action: &Action,
    ) -> Outcome {
        self.run_action_with_response(call, event, workflow, block, action)
            .await
            .0
    }

    pub async fn run_action_with_response(
        &self,
        call: &mut Call,
        event: &'static str,
        workflow: &Arc<str>,
        block: &'static str,
        action: &Action,
    ) -> (Outcome, Option<Response>) {
        let started = Instant::now();
        let mut outcome = Outcome {
            call: call.id.clone(),
            event,
            workflow: workflow.clone(),
            block,
            method: action.method.node.as_str(),
            url: String::new(),
            status: None,
            duration_ms: 0,
            attempts: 0,
            result: "FAILED",
            reason: None,
            error: None,
            stored: BTreeMap::new(),
            dry_run: None,
        };
        let request = match self.build(call, event, action).await {
            Ok(r) => r,
            Err(NotSent(reason, msg)) => {
                outcome.reason = Some(reason);
                outcome.error = Some(msg);
                self.store(call, action, workflow, &mut outcome, None, started, false);
                return (self.finish(outcome), None);
            }
        };
        outcome.url = request.url.to_string();
        if self.dry_run {
            outcome.result = "SUCCESS";
            outcome.dry_run = Some(preview(&request));
            return (self.finish(outcome), None);
        }
        let policy = RetryPolicy {
            retries: action.retry.as_ref().map_or(
                if action.method.node.is_idempotent() {
                    DEFAULT_RETRIES
                } else {
                    0
                },
                |r| r.count.node,
            ),
            backoff: action
                .retry
                .as_ref()
                .and_then(|r| r.backoff.as_ref())
                .and_then(|b| b.millis())
                .map_or(DEFAULT_BACKOFF, Duration::from_millis),
        };
        let (mut result, mut attempts) =
            http::send_retrying(&self.transport, &request, policy).await;
        // An OAuth2 token may have been revoked: refresh it once on a 401.
        if let (Ok(r), Some(Auth::OAuth2(_))) = (&result, action.auth.as_ref().map(|a| &a.node)) {
            if r.status == 401 {
                if let Ok(req) = self.build_with(call, event, action, true).await {
                    let (again, n) = http::send_retrying(&self.transport, &req, policy).await;
                    result = again;
                    attempts += n;
                }
            }
        }
        outcome.attempts = attempts;
        let response = match result {
            Ok(r) => Some(r),
            Err(e) => {
                let (reason, msg) = match e {
                    SendError::Timeout => (
                        Reason::Timeout,
                        format!("no response within {}ms", request.timeout.as_millis()),
                    ),
                    SendError::Network(m) => (Reason::NetworkError, m),
                    SendError::TooLarge => (
                        Reason::InvalidResponse,
                        format!("the response is larger than {} bytes", http::BODY_LIMIT),
                    ),
                    SendError::Redirect(m) => (Reason::HttpError, m),
                    SendError::InvalidRequest(m) => (Reason::InvalidRequest, m),
                };
                outcome.reason = Some(reason);
                outcome.error = Some(msg);
                None
            }
        };
        if let Some(r) = &response {
            outcome.status = Some(r.status);
            if !(200..300).contains(&r.status) {
                let reason = if r.status == 401 || r.status == 403 {
                    Reason::AuthenticationFailure
                } else {
                    Reason::HttpError
                };
                outcome.reason = Some(reason);
                outcome.error = Some(format!(
                    "the server answered {} {}",
                    r.status,
                    reason_phrase(r.status)
                ));
            }
        }
        let success = outcome.reason.is_none();
        self.store(
            call,
            action,
            workflow,
            &mut outcome,
            response.as_ref(),
            started,
            success,
        );
        (self.finish(outcome), response)
    }

    /// Stores the action's maps: all of them on success (if they can be read), only the
    /// failure ones (`@outcome`, `@error`, `@duration`, and with a response `@status`,
    /// `@status_class`, `@raw`, `@header.X`) on failure.
    #[allow(clippy::too_many_arguments)]
    fn store(
        &self,
        call: &mut Call,
        action: &Action,
        workflow: &Arc<str>,
        outcome: &mut Outcome,
        response: Option<&Response>,
        started: Instant,
        success: bool,
    ) {
        let duration_ms = started.elapsed().as_millis() as u64;
        outcome.duration_ms = duration_ms;
        let mut body = map::Body::default();
        let mut values: Vec<(&str, String)> = Vec::new();
        if success {
            let facts = Facts {
                response,
                duration_ms,
                success: true,
                reason: None,
            };
            let mut problem = None;
            for m in &action.maps {
                match map::read(&m.path.node, &facts, &mut body) {
                    Ok(Some(v)) => values.push((&m.target.node, v)),
                    Ok(None) if m.required => {
                        problem.get_or_insert((
                            Reason::InvalidResponseMap,
                            format!(
                                "the required path of `{}` is missing from the response",
                                m.target.node
                            ),
                        ));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        problem.get_or_insert((Reason::InvalidResponse, e));
                    }
                }
            }
            if let Some((reason, msg)) = problem {
                outcome.reason = Some(reason);
                outcome.error = Some(msg);
                values.clear();
                return self.store(call, action, workflow, outcome, response, started, false);
            }
            outcome.result = "SUCCESS";
        } else {
            let facts = Facts {
                response,
                duration_ms,
                success: false,
                reason: outcome.reason.map(Reason::as_str),
            };
            for m in &action.maps {
                match m.path.node.stored_on_failure() {
                    Some(FailureStore::Always) => {}
                    Some(FailureStore::WithResponse) if response.is_some() => {}
                    _ => continue,
                }
                if let Ok(Some(v)) = map::read(&m.path.node, &facts, &mut body) {
                    values.push((&m.target.node, v));
                }
            }
        }
        for (name, v) in values {
            call.vars
                .set(name, v.clone(), Origin::Workflow(workflow.clone()));
            outcome.stored.insert(name.to_string(), v);
        }
    }

    /// Redacts every secret from what will be shown.
    fn finish(&self, mut o: Outcome) -> Outcome {
        let r = &self.redactor;
        o.url = r.redact_owned(std::mem::take(&mut o.url));
        o.error = o.error.map(|e| r.redact_owned(e));
        o.dry_run = o.dry_run.map(|d| r.redact_owned(d));
        for v in o.stored.values_mut() {
            *v = r.redact_owned(std::mem::take(v));
        }
        o
    }

    async fn build(&self, call: &Call, event: &str, action: &Action) -> Result<Request, NotSent> {
        self.build_with(call, event, action, false).await
    }

    /// Renders the request: every value encoded for where it lands.
    async fn build_with(
        &self,
        call: &Call,
        event: &str,
        action: &Action,
        refresh_token: bool,
    ) -> Result<Request, NotSent> {
        let vars = &call.vars;
        let unset = |Unset(name): Unset| {
            NotSent(
                Reason::InvalidFlowVar,
                format!("`${name}$` is not set on this call; nothing was sent"),
            )
        };
        let raw = |t: &crate::ast::Template| {
            template::render(t, Encoding::Raw, vars, &self.env).map_err(unset)
        };
        let mut url =
            template::render(&action.url, Encoding::Url, vars, &self.env).map_err(unset)?;
        let mut query = String::new();
        for q in &action.queries {
            if q.value
                .is_lone_optional()
                .is_some_and(|v| !vars.contains(&v.name))
            {
                continue;
            }
            let value = raw(&q.value)?;
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&template::percent_encode(&q.name.node));
            query.push('=');
            query.push_str(&template::percent_encode(&value));
        }
        if !query.is_empty() {
            let (base, fragment) = match url.find('#') {
                Some(i) => (url[..i].to_string(), url[i..].to_string()),
                None => (url.clone(), String::new()),
            };
            let sep = if !base.contains('?') {
                "?"
            } else if base.ends_with('?') || base.ends_with('&') {
                ""
            } else {
                "&"
            };
            url = format!("{base}{sep}{query}{fragment}");
        }
        let parsed = url::Url::parse(&url).map_err(|e| {
            NotSent(
                Reason::InvalidRequest,
                format!("`{url}` is not a valid URL: {e}"),
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(NotSent(
                Reason::InvalidRequest,
                format!("`{url}` is not an http or https URL"),
            ));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        for h in &action.headers {
            if h.value
                .is_lone_optional()
                .is_some_and(|v| !vars.contains(&v.name))
            {
                continue;
            }
            let value = raw(&h.value)?;
            if value.contains(['\r', '\n', '\0']) {
                return Err(NotSent(
                    Reason::InvalidRequest,
                    format!("the value of header `{}` would contain a line break or NUL; nothing was sent", h.name.node),
                ));
            }
            headers.push((h.name.node.clone(), value));
        }
        let has = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        if let Some(auth) = &action.auth {
            let value = match &auth.node {
                Auth::Bearer(t) => format!("Bearer {}", raw(t)?),
                Auth::Basic { user, password } => {
                    let pair = format!("{}:{}", raw(user)?, raw(password)?);
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    )
                }
                Auth::OAuth2(o) => {
                    let key = OAuthKey {
                        token_url: raw(&o.token_url)?,
                        client_id: raw(&o.client_id)?,
                        client_secret: raw(&o.client_secret)?,
                        scope: o.scope.as_ref().map(raw).transpose()?,
                    };
                    self.redactor.add(&key.client_secret);
                    let token = self
                        .oauth
                        .token(&self.transport, &key, refresh_token, DEFAULT_TIMEOUT)
                        .await
                        .map_err(|e| {
                            NotSent(
                                Reason::AuthenticationFailure,
                                format!("no OAuth2 token: {e}"),
                            )
                        })?;
                    self.redactor.add(&token);
                    format!("Bearer {token}")
                }
            };
            if value.contains(['\r', '\n', '\0']) {
                return Err(NotSent(
                    Reason::InvalidRequest,
                    "the auth value would contain a line break or NUL".into(),
                ));
            }
            if !has(&headers, "authorization") {
                headers.push(("authorization".into(), value));
            }
        }
        let mut default_content_type = None;
        let body = match action.body.as_ref().map(|b| &b.node) {
            None => None,
            Some(body) => {
                let (content_type, bytes) = match body {
                    Body::Json(v) => {
                        let mut bytes = Vec::with_capacity(128);
                        write_json(&v.node, &|t| raw(t), &mut bytes)?;
                        ("application/json", bytes)
                    }
                    Body::Form(fields) => {
                        let mut pairs = Vec::new();
                        for f in fields {
                            pairs.push((f.name.node.as_str(), raw(&f.value)?));
                        }
                        let form = url::form_urlencoded::Serializer::new(String::new())
                            .extend_pairs(pairs)
                            .finish();
                        ("application/x-www-form-urlencoded", form.into_bytes())
                    }
                    Body::Xml(t) => (
                        "application/xml",
                        template::render(t, Encoding::Xml, vars, &self.env)
                            .map_err(unset)?
                            .into_bytes(),
                    ),
                    Body::Call => (
                        "application/json",
                        call_payload(call, event).to_string().into_bytes(),
                    ),
                };
                if !has(&headers, "content-type") {
                    default_content_type = Some(content_type);
                }
                Some(bytes)
            }
        };
        let timeout = action
            .timeout
            .as_ref()
            .and_then(|t| t.millis())
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        Ok(Request {
            method: action.method.node.as_str(),
            url: parsed,
            headers,
            body,
            default_content_type,
            timeout,
            keep_headers: self.keep_headers
                || (action.maps.iter())
                    .any(|m| matches!(m.path.node, crate::ast::MapPath::Header(_))),
        })
    }
}

/// Writes a JSON body with its strings rendered and escaped, straight into `out` (no JSON
/// tree: a body is written once per request). Numbers go out as written in the script (the
/// grammar only accepts valid JSON numbers); duplicate keys cannot reach here (E0107).
fn write_json(
    v: &JsonValue,
    render: &dyn Fn(&crate::ast::Template) -> Result<String, NotSent>,
    out: &mut Vec<u8>,
) -> Result<(), NotSent> {
    let string = |out: &mut Vec<u8>, s: &str| {
        // Writing a &str to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    };
    match v {
        JsonValue::Object(o) => {
            out.push(b'{');
            for (i, (k, v)) in o.members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, &k.node);
                out.push(b':');
                write_json(&v.node, render, out)?;
            }
            out.push(b'}');
        }
        JsonValue::Array(items, _) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(&item.node, render, out)?;
            }
            out.push(b']');
        }
        JsonValue::String(t) => string(out, &render(t)?),
        JsonValue::Number(n) => out.extend_from_slice(n.as_bytes()),
        JsonValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        JsonValue::Null => out.extend_from_slice(b"null"),
    }
    Ok(())
}

/// The predefined call-details payload of `body call`. Secrets are never call variables,
/// so none can be in it.
pub fn call_payload(call: &Call, event: &str) -> Value {
    let variables: serde_json::Map<String, Value> = call
        .vars
        .iter()
        .map(|(k, v, _)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    json!({
        "callId": call.id,
        "event": event,
        "variables": variables,
        "outcomes": call.outcomes,
    })
}

/// A workflow's name for outcomes: its own, or `on TRIGGER #N` (N is its place in the script).
pub fn label(w: &Workflow, index: usize) -> String {
    match &w.name {
        Some(n) => n.node.clone(),
        None => format!("on {} #{}", w.trigger.node, index + 1),
    }
}

pub fn lifecycle_error(last: Option<Trigger>, next: Trigger) -> String {
    match last {
        Some(Trigger::CallEnded) => format!("`{next}` after CallEnded: nothing comes after CallEnded"),
        Some(l) => {
            let ok: Vec<&str> = lifecycle::successors(Some(l)).iter().map(|t| t.as_str()).collect();
            format!("`{next}` cannot follow {l} on the same call (after {l} come: {})", ok.join(", "))
        }
        None => format!("`{next}` cannot be a call's first event (a call starts with AgentDeclined, AgentConnected, CustomerAbandoned or CallEnded)"),
    }
}

fn preview(r: &Request) -> String {
    let mut s = format!("{} {}\n", r.method, r.url.as_str());
    for (k, v) in &r.headers {
        s.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(ct) = r.default_content_type {
        s.push_str(&format!("content-type: {ct}\n"));
    }
    if let Some(b) = &r.body {
        s.push('\n');
        s.push_str(&String::from_utf8_lossy(b));
        s.push('\n');
    }
    s
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
