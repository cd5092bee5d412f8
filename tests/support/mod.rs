//! A real HTTP server on 127.0.0.1 for the integration tests: it records every request as
//! it arrived on the wire and answers according to the path.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use callhook::program::Program;
use callhook::run::engine::Engine;
use callhook::run::http::Transport;
use callhook::run::outcome::Summary;
use callhook::run::secrets::{self, Env, Redactor};
use callhook::run::{run_events, Report};

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query exactly as sent.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
}

#[derive(Default)]
pub struct Log {
    pub seen: Mutex<Vec<Seen>>,
    pub flaky: AtomicUsize,
    pub token_fetches: AtomicUsize,
    pub revoked_sent: AtomicUsize,
}

pub struct Server {
    pub base: String,
    pub log: Arc<Log>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.log.seen.lock().unwrap().clone()
    }
    pub fn seen_path(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.target.starts_with(prefix))
            .collect()
    }
}

pub async fn start() -> Server {
    let log = Arc::new(Log::default());
    let app = axum::Router::new().fallback(handle).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        log,
    }
}

fn json(status: u16, v: serde_json::Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response()
}

async fn handle(State(log): State<Arc<Log>>, req: Request) -> Response {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let seen = Seen {
        method,
        target: target.clone(),
        headers: headers.clone(),
        body: body.clone(),
    };
    log.seen.lock().unwrap().push(seen.clone());
    let path = seen.path().to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        // /status/404
        ["status", code] => json(
            code.parse().unwrap_or(500),
            serde_json::json!({"status": code}),
        ),
        // /contact/<id>: echoes the (decoded) id
        ["contact", id] => json(
            200,
            serde_json::json!({"id": format!("C-{id}"), "n": 3, "nested": {"tier": "gold"}, "list": [{"x": 1}]}),
        ),
        ["echo"] => json(
            200,
            serde_json::json!({
                "method": seen.method, "target": target,
                "authorization": seen.header("authorization"),
                "body": String::from_utf8_lossy(&body),
            }),
        ),
        ["flaky"] => {
            if log.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                json(500, serde_json::json!({"error": "try again"}))
            } else {
                json(200, serde_json::json!({"id": "ok"}))
            }
        }
        // 429 Too Many Requests once, then an answer.
        ["busy"] => {
            if log.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
                json(429, serde_json::json!({"error": "slow down"}))
            } else {
                json(200, serde_json::json!({"id": "after-429"}))
            }
        }
        ["slow"] => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            json(200, serde_json::json!({}))
        }
        ["big"] => (StatusCode::OK, vec![b'a'; 11 * 1024 * 1024]).into_response(),
        ["text"] => (StatusCode::OK, "not json at all").into_response(),
        ["xml"] => (
            StatusCode::OK,
            [("content-type", "application/xml")],
            "<r><customer id=\"7\"><name>Zoë</name></customer></r>",
        )
            .into_response(),
        ["token"] => {
            let n = log.token_fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let form = String::from_utf8_lossy(&body).to_string();
            if !form.contains("grant_type=client_credentials")
                || !form.contains("client_secret=s3cret")
            {
                return json(400, serde_json::json!({"error": "bad request"}));
            }
            json(
                200,
                serde_json::json!({"access_token": format!("tok-{n}"), "expires_in": 3600}),
            )
        }
        ["protected"] => {
            let auth = seen.header("authorization").unwrap_or_default();
            // The first token is revoked once: the client must refresh it.
            if auth == "Bearer tok-1" && log.revoked_sent.fetch_add(1, Ordering::SeqCst) == 0 {
                return json(401, serde_json::json!({"error": "revoked"}));
            }
            if auth.starts_with("Bearer tok-") {
                json(200, serde_json::json!({"ok": true}))
            } else {
                json(401, serde_json::json!({"error": "no token"}))
            }
        }
        ["redirect", n] => {
            let n: u32 = n.parse().unwrap_or(0);
            if n == 0 {
                json(200, serde_json::json!({"id": "landed"}))
            } else {
                (
                    StatusCode::FOUND,
                    [("location", format!("/redirect/{}", n - 1))],
                    Body::empty(),
                )
                    .into_response()
            }
        }
        _ => json(200, serde_json::json!({"ok": true})),
    }
}

/// A Write that the test can read afterwards.
#[derive(Clone, Default)]
pub struct Buf(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Ran {
    pub lines: Vec<serde_json::Value>,
    pub summary: Summary,
    pub text: String,
}

impl Ran {
    pub fn outcomes(&self) -> Vec<&serde_json::Value> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "outcome")
            .collect()
    }
    pub fn outcome(&self, workflow: &str) -> &serde_json::Value {
        self.lines
            .iter()
            .find(|l| l["type"] == "outcome" && l["workflow"] == workflow)
            .unwrap_or_else(|| panic!("no outcome for {workflow}: {}", self.text))
    }
    pub fn rejected(&self) -> Vec<&serde_json::Value> {
        self.lines
            .iter()
            .filter(|l| l["type"] == "rejected")
            .collect()
    }
}

/// Checks `script` (it must have no errors), then runs `events` against real HTTP.
pub async fn run(script: &str, events: &str, env: &[(&str, &str)]) -> Ran {
    let program = Program::from_text("test.hook", script);
    let errors: Vec<_> = program
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let env = Env::from_pairs(env.iter().copied());
    let needed = secrets::used_secrets(&program.script);
    let redactor = Redactor::new(&env, &needed, &program.script);
    let engine = Engine::new(
        program.script,
        Transport::http().unwrap(),
        env,
        redactor,
        false,
    );
    let buf = Buf::default();
    let summary = run_events(
        Arc::new(engine),
        tokio::io::BufReader::new(events.as_bytes()),
        16,
        Report {
            json: true,
            color: false,
        },
        buf.clone(),
    )
    .await;
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Ran {
        lines,
        summary,
        text,
    }
}

/// `{"call":..,"event":..,"vars":{..}}`
pub fn ev(call: &str, event: &str, vars: serde_json::Value) -> String {
    format!(
        "{}\n",
        serde_json::json!({"call": call, "event": event, "vars": vars})
    )
}
