//! `--stubs FILE`: canned responses matched by method and URL pattern, so a script can be
//! tried with nothing leaving the machine.
//!
//! ```json
//! [
//!   {"method": "GET", "url": "https://crm.example.com/contacts?*", "status": 200,
//!    "json": {"contacts": [{"id": "C-1"}]}, "headers": {"X-Request-Id": "r1"}, "delay_ms": 20},
//!   {"method": "POST", "url": "https://crm.example.com/tickets", "status": 201, "body": "<id>T-1</id>"}
//! ]
//! ```
//! `*` in `url` matches any run of characters; `method` may be left out (any method).
//! The first stub that matches answers.

use serde::Deserialize;

use super::http::{Response, SendError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StubSpec {
    method: Option<String>,
    url: String,
    #[serde(default = "ok")]
    status: u16,
    json: Option<serde_json::Value>,
    body: Option<String>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    delay_ms: u64,
}

fn ok() -> u16 {
    200
}

#[derive(Debug, Clone)]
pub struct Stub {
    method: Option<String>,
    pattern: String,
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    delay: std::time::Duration,
}

#[derive(Debug, Clone, Default)]
pub struct Stubs {
    stubs: Vec<Stub>,
}

impl Stubs {
    pub fn parse(text: &str) -> Result<Stubs, String> {
        // JSON syntax first (with line and column), then each stub on its own, so that an
        // error names the stub it is in.
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
        let list = match value {
            serde_json::Value::Array(l) => l,
            serde_json::Value::Object(mut o) => match o.remove("stubs") {
                Some(serde_json::Value::Array(l)) if o.is_empty() => l,
                _ => return Err("expected a list of stubs, or {\"stubs\": [...]}".into()),
            },
            _ => return Err("expected a list of stubs, or {\"stubs\": [...]}".into()),
        };
        let mut specs = Vec::new();
        for (i, v) in list.into_iter().enumerate() {
            specs.push(
                serde_json::from_value::<StubSpec>(v)
                    .map_err(|e| format!("stub {}: {e}", i + 1))?,
            );
        }
        let mut stubs = Vec::new();
        for (i, s) in specs.into_iter().enumerate() {
            if s.json.is_some() && s.body.is_some() {
                return Err(format!("stub {}: give `json` or `body`, not both", i + 1));
            }
            if !(100..=999).contains(&s.status) {
                return Err(format!(
                    "stub {}: status {} is not an HTTP status",
                    i + 1,
                    s.status
                ));
            }
            let mut headers: Vec<(String, String)> = s.headers.into_iter().collect();
            let body = match (s.json, s.body) {
                (Some(j), _) => {
                    if !headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    {
                        headers.push(("content-type".into(), "application/json".into()));
                    }
                    j.to_string().into_bytes()
                }
                (None, Some(b)) => b.into_bytes(),
                (None, None) => Vec::new(),
            };
            stubs.push(Stub {
                method: s.method.map(|m| m.to_ascii_uppercase()),
                pattern: s.url,
                status: s.status,
                body,
                headers,
                delay: std::time::Duration::from_millis(s.delay_ms),
            });
        }
        Ok(Stubs { stubs })
    }

    pub fn load(path: &std::path::Path) -> Result<Stubs, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Stubs::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn len(&self) -> usize {
        self.stubs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stubs.is_empty()
    }

    pub async fn answer(&self, method: &str, url: &str) -> Result<Response, SendError> {
        let stub = self
            .stubs
            .iter()
            .find(|s| s.method.as_deref().is_none_or(|m| m == method) && glob(&s.pattern, url))
            .ok_or_else(|| {
                SendError::Network(format!(
                    "no stub matches {method} {url}; nothing is sent with --stubs"
                ))
            })?;
        if !stub.delay.is_zero() {
            tokio::time::sleep(stub.delay).await;
        }
        Ok(Response {
            status: stub.status,
            headers: stub.headers.clone(),
            body: stub.body.clone(),
        })
    }
}

/// `*` matches any run of characters (also none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("https://x/a?*", "https://x/a?p=1"));
        assert!(glob("https://x/*/notes", "https://x/T-1/notes"));
        assert!(!glob("https://x/*/notes", "https://x/T-1/notes/2"));
        assert!(glob("*", ""));
        assert!(!glob("https://x/a", "https://x/ab"));
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXcYb"));
    }

    #[test]
    fn parse_errors_are_located() {
        assert!(Stubs::parse("[{\"url\": ").unwrap_err().contains("line 1"));
        assert!(Stubs::parse("[{\"url\": 1}]")
            .unwrap_err()
            .starts_with("stub 1:"));
        assert!(Stubs::parse("[{\"url\": \"x\", \"stauts\": 1}]").is_err());
        assert_eq!(
            Stubs::parse("{\"stubs\": [{\"url\": \"x\"}]}")
                .unwrap()
                .len(),
            1
        );
    }
}
