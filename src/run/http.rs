//! Sending requests: one attempt over real HTTP (reqwest, rustls) or stubs, the retry
//! policy, and the OAuth2 client-credentials token cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::stubs::Stubs;

/// Responses larger than this are refused (INVALID_RESPONSE).
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;
/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: &'static str,
    /// Parsed once, when the request is built.
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The body's `Content-Type` when the script sets none (sent after `headers`).
    pub default_content_type: Option<&'static str>,
    pub timeout: Duration,
    /// Whether the response headers are wanted (an `@header.X` map, or the REPL); copying
    /// them costs a few allocations per request otherwise wasted.
    pub keep_headers: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    Timeout,
    Network(String),
    TooLarge,
    /// A redirect that is not followed (too many, or https to http).
    Redirect(String),
    InvalidRequest(String),
}

impl SendError {
    fn retryable(&self) -> bool {
        matches!(self, SendError::Timeout | SendError::Network(_))
    }
}

/// Where requests go.
#[derive(Clone)]
pub enum Transport {
    Http(reqwest::Client),
    Stubs(std::sync::Arc<Stubs>),
}

impl Transport {
    pub fn http() -> Result<Transport, String> {
        Transport::http_trusting(&[])
    }

    /// A real HTTP client that also trusts `extra_roots` (see [`Transport::load_ca_certs`]),
    /// on top of the system's CAs: for a CRM behind a company CA.
    pub fn http_trusting(extra_roots: &[reqwest::Certificate]) -> Result<Transport, String> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let downgrade = attempt
                .previous()
                .last()
                .is_some_and(|u| u.scheme() == "https")
                && attempt.url().scheme() == "http";
            if downgrade {
                attempt.error("refused a redirect from https to http")
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else {
                attempt.follow()
            }
        });
        reqwest::Client::builder()
            .redirect(policy)
            .user_agent(concat!("callhook/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(256)
            .tls_certs_merge(extra_roots.iter().cloned())
            .build()
            .map(Transport::Http)
            .map_err(|e| format!("cannot start the HTTP client: {e}"))
    }

    /// Reads the CA certificates of a PEM file for [`Transport::http_trusting`].
    pub fn load_ca_certs(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{shown} is not a PEM certificate bundle: {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "{shown} holds no certificate (expected `-----BEGIN CERTIFICATE-----` blocks)"
            ));
        }
        Ok(certs)
    }

    /// One attempt, bounded by the request's timeout.
    pub async fn send(&self, req: &Request) -> Result<Response, SendError> {
        match tokio::time::timeout(req.timeout, self.send_unbounded(req)).await {
            Ok(r) => r,
            Err(_) => Err(SendError::Timeout),
        }
    }

    async fn send_unbounded(&self, req: &Request) -> Result<Response, SendError> {
        match self {
            Transport::Stubs(stubs) => {
                let r = stubs.answer(req.method, req.url.as_str()).await?;
                if r.body.len() > BODY_LIMIT {
                    return Err(SendError::TooLarge);
                }
                Ok(r)
            }
            Transport::Http(client) => {
                let method = reqwest::Method::from_bytes(req.method.as_bytes())
                    .map_err(|e| SendError::InvalidRequest(e.to_string()))?;
                let mut builder = client.request(method, req.url.clone());
                for (k, v) in &req.headers {
                    let name =
                        reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                            SendError::InvalidRequest(format!("invalid header name `{k}`"))
                        })?;
                    let value = reqwest::header::HeaderValue::from_str(v).map_err(|_| {
                        SendError::InvalidRequest(format!("invalid value for header `{k}`"))
                    })?;
                    builder = builder.header(name, value);
                }
                if let Some(ct) = req.default_content_type {
                    builder = builder.header(
                        reqwest::header::CONTENT_TYPE,
                        reqwest::header::HeaderValue::from_static(ct),
                    );
                }
                if let Some(body) = &req.body {
                    builder = builder.body(body.clone());
                }
                let mut resp = builder.send().await.map_err(classify)?;
                let status = resp.status().as_u16();
                let headers = if req.keep_headers {
                    resp.headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                if resp
                    .content_length()
                    .is_some_and(|n| n as usize > BODY_LIMIT)
                {
                    return Err(SendError::TooLarge);
                }
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(classify)? {
                    if body.len() + chunk.len() > BODY_LIMIT {
                        return Err(SendError::TooLarge);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Response {
                    status,
                    headers,
                    body,
                })
            }
        }
    }
}

fn classify(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        SendError::Timeout
    } else if e.is_redirect() {
        SendError::Redirect(source_chain(&e))
    } else if e.is_builder() {
        SendError::InvalidRequest(source_chain(&e))
    } else {
        let mut message = source_chain(&e);
        if message.contains("UnknownIssuer") {
            message.push_str(" (if the server uses a private CA, trust it with --ca-cert FILE)");
        }
        SendError::Network(message)
    }
}

/// The error with its causes ("error sending request: connection refused").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first wait; each further wait doubles.
    pub backoff: Duration,
}

/// Sends with retries on network errors, timeouts, 429 and 5xx (never on 4xx).
/// Returns the last result and the number of attempts.
pub async fn send_retrying(
    t: &Transport,
    req: &Request,
    policy: RetryPolicy,
) -> (Result<Response, SendError>, u32) {
    let mut attempts = 0;
    let mut wait = policy.backoff;
    loop {
        attempts += 1;
        let result = t.send(req).await;
        let retry = match &result {
            Ok(r) => r.status == 429 || r.status >= 500,
            Err(e) => e.retryable(),
        };
        if !retry || attempts > policy.retries {
            return (result, attempts);
        }
        tokio::time::sleep(wait).await;
        wait = wait.saturating_mul(2);
    }
}

/// OAuth2 client-credentials settings, rendered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OAuthKey {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: Option<String>,
}

/// Tokens fetched once, cached until they expire, shared by every call.
#[derive(Default)]
pub struct OAuthCache {
    tokens: tokio::sync::Mutex<HashMap<OAuthKey, (String, Instant)>>,
    /// How many token requests were made (for tests and the summary).
    pub fetches: AtomicUsize,
}

impl OAuthCache {
    /// A valid token; with `refresh`, a new one even if one is cached (after a 401).
    pub async fn token(
        &self,
        t: &Transport,
        key: &OAuthKey,
        refresh: bool,
        timeout: Duration,
    ) -> Result<String, String> {
        let mut tokens = self.tokens.lock().await;
        if !refresh {
            if let Some((tok, until)) = tokens.get(key) {
                if Instant::now() < *until {
                    return Ok(tok.clone());
                }
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            form.append_pair("client_id", &key.client_id);
            form.append_pair("client_secret", &key.client_secret);
            if let Some(s) = &key.scope {
                form.append_pair("scope", s);
            }
            form.finish()
        };
        let req = Request {
            method: "POST",
            url: url::Url::parse(&key.token_url)
                .map_err(|e| format!("the token URL `{}` is not valid: {e}", key.token_url))?,
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: Some(form.into_bytes()),
            default_content_type: None,
            timeout,
            keep_headers: false,
        };
        let resp = t
            .send(&req)
            .await
            .map_err(|e| format!("token request failed: {e:?}"))?;
        if !(200..300).contains(&resp.status) {
            return Err(format!("the token endpoint answered {}", resp.status));
        }
        let v: serde_json::Value = serde_json::from_slice(&resp.body)
            .map_err(|_| "the token endpoint did not answer JSON".to_string())?;
        let token = v["access_token"]
            .as_str()
            .ok_or("the token endpoint's answer has no access_token")?
            .to_string();
        let expires_in = v["expires_in"].as_u64().unwrap_or(3600);
        // Renew a little early, so that a token does not expire in flight.
        let until = Instant::now() + Duration::from_secs(expires_in.saturating_sub(30).max(1));
        tokens.insert(key.clone(), (token.clone(), until));
        Ok(token)
    }

    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }
}
