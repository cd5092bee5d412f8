//! Reading mapped values out of a response: JSON paths, XPath, and the `@` fields.

use serde_json::Value;

use super::http::Response;
use crate::ast::{MapPath, Meta, Segment};

/// `@raw` keeps at most this many bytes of the body.
pub const RAW_LIMIT: usize = 64 * 1024;

/// What is known about an attempt when its maps are read.
pub struct Facts<'a> {
    pub response: Option<&'a Response>,
    pub duration_ms: u64,
    pub success: bool,
    /// The failure reason (`@error`); `None` on success.
    pub reason: Option<&'static str>,
}

/// The body, parsed at most once per response, as JSON or XML as the maps need.
#[derive(Default)]
pub struct Body {
    json: Option<Result<Value, String>>,
}

/// A map's value: `Ok(None)` when the path is absent or null (the variable is not stored);
/// `Err` when the body cannot be read as the path needs (INVALID_RESPONSE).
pub fn read(path: &MapPath, facts: &Facts, body: &mut Body) -> Result<Option<String>, String> {
    Ok(match path {
        MapPath::Meta(Meta::Outcome) => {
            Some(if facts.success { "SUCCESS" } else { "FAILED" }.to_string())
        }
        MapPath::Meta(Meta::Error) => Some(facts.reason.unwrap_or("").to_string()),
        MapPath::Meta(Meta::Duration) => Some(facts.duration_ms.to_string()),
        MapPath::Meta(Meta::Status) => facts.response.map(|r| r.status.to_string()),
        MapPath::Meta(Meta::StatusClass) => {
            facts.response.map(|r| status_class(r.status).to_string())
        }
        MapPath::Meta(Meta::Raw) => facts.response.map(|r| raw(&r.body)),
        MapPath::Header(name) => facts
            .response
            .and_then(|r| r.header(name))
            .map(str::to_string),
        MapPath::Json(segments) => {
            let Some(r) = facts.response else {
                return Ok(None);
            };
            let json = body.json.get_or_insert_with(|| {
                serde_json::from_slice(&r.body)
                    .map_err(|e| format!("the response is not JSON ({e})"))
            });
            let root = json.as_ref().map_err(Clone::clone)?;
            walk(root, segments).and_then(scalar)
        }
        MapPath::XPath(expr) => {
            let Some(r) = facts.response else {
                return Ok(None);
            };
            xpath(&r.body, expr)?
        }
    })
}

fn walk<'v>(mut v: &'v Value, segments: &[Segment]) -> Option<&'v Value> {
    for s in segments {
        v = match (s, v) {
            (Segment::Key(k), Value::Object(o)) => o.get(k)?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Strings as they are; numbers, booleans, objects and arrays as compact JSON; null: unset.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn raw(body: &[u8]) -> String {
    let mut end = body.len().min(RAW_LIMIT);
    let text = loop {
        match std::str::from_utf8(&body[..end]) {
            Ok(t) => break t.to_string(),
            // Cut in the middle of a character: step back to its start.
            Err(e) if e.error_len().is_none() => end = e.valid_up_to(),
            Err(_) => break String::from_utf8_lossy(&body[..end]).into_owned(),
        }
    };
    text
}

pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "INFORMATIONAL",
        200..=299 => "SUCCESSFUL",
        300..=399 => "REDIRECTION",
        400..=499 => "CLIENT_ERROR",
        _ => "SERVER_ERROR",
    }
}

fn xpath(body: &[u8], expr: &str) -> Result<Option<String>, String> {
    let text =
        std::str::from_utf8(body).map_err(|_| "the response is not UTF-8 XML".to_string())?;
    let package = sxd_document::parser::parse(text)
        .map_err(|e| format!("the response is not XML ({e:?})"))?;
    let doc = package.as_document();
    let value =
        sxd_xpath::evaluate_xpath(&doc, expr).map_err(|e| format!("XPath `{expr}` failed: {e}"))?;
    Ok(match value {
        sxd_xpath::Value::Nodeset(ns) => ns.document_order_first().map(|n| n.string_value()),
        sxd_xpath::Value::String(s) => Some(s),
        sxd_xpath::Value::Boolean(b) => Some(b.to_string()),
        sxd_xpath::Value::Number(n) if n.is_nan() => None,
        sxd_xpath::Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
            Some(format!("{}", n as i64))
        }
        sxd_xpath::Value::Number(n) => Some(n.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(r: &Response) -> Facts<'_> {
        Facts {
            response: Some(r),
            duration_ms: 5,
            success: true,
            reason: None,
        }
    }

    #[test]
    fn json_paths_and_values() {
        let r = Response {
            status: 200,
            headers: vec![("X-Id".into(), "7".into())],
            body: br#"{"contacts":[{"id":"C-1","n":3,"vip":true,"tags":["a"],"o":{"k":1},"z":null,"first-name":"Ann"}]}"#.to_vec(),
        };
        let f = facts(&r);
        let mut b = Body::default();
        let get = |p: &str, b: &mut Body| {
            let segs: Vec<Segment> = p
                .split('.')
                .map(|s| {
                    s.parse()
                        .map(Segment::Index)
                        .unwrap_or_else(|_| Segment::Key(s.into()))
                })
                .collect();
            read(&MapPath::Json(segs), &f, b).unwrap()
        };
        assert_eq!(get("contacts.0.id", &mut b).as_deref(), Some("C-1"));
        assert_eq!(get("contacts.0.n", &mut b).as_deref(), Some("3"));
        assert_eq!(get("contacts.0.vip", &mut b).as_deref(), Some("true"));
        assert_eq!(get("contacts.0.tags", &mut b).as_deref(), Some(r#"["a"]"#));
        assert_eq!(get("contacts.0.o", &mut b).as_deref(), Some(r#"{"k":1}"#));
        assert_eq!(get("contacts.0.z", &mut b), None);
        assert_eq!(get("contacts.1.id", &mut b), None);
        assert_eq!(get("contacts.0.first-name", &mut b).as_deref(), Some("Ann"));
        assert_eq!(
            read(&MapPath::Header("x-id".into()), &f, &mut b)
                .unwrap()
                .as_deref(),
            Some("7")
        );
        assert_eq!(
            read(&MapPath::Meta(Meta::StatusClass), &f, &mut b)
                .unwrap()
                .as_deref(),
            Some("SUCCESSFUL")
        );
    }

    #[test]
    fn xml_and_bad_bodies() {
        let r = Response {
            status: 200,
            headers: vec![],
            body: b"<customer><id>42</id><segment>gold</segment></customer>".to_vec(),
        };
        let f = facts(&r);
        let mut b = Body::default();
        assert_eq!(
            read(&MapPath::XPath("/customer/id".into()), &f, &mut b)
                .unwrap()
                .as_deref(),
            Some("42")
        );
        assert_eq!(
            read(&MapPath::XPath("count(/customer/*)".into()), &f, &mut b)
                .unwrap()
                .as_deref(),
            Some("2")
        );
        assert_eq!(
            read(&MapPath::XPath("/customer/none".into()), &f, &mut b).unwrap(),
            None
        );
        assert!(read(&MapPath::Json(vec![Segment::Key("id".into())]), &f, &mut b).is_err());
        let not_xml = Response {
            body: b"{\"a\":1}".to_vec(),
            ..Default::default()
        };
        assert!(read(
            &MapPath::XPath("/a".into()),
            &facts(&not_xml),
            &mut Body::default()
        )
        .is_err());
    }

    #[test]
    fn raw_is_cut_at_a_character_boundary() {
        let body = "é".repeat(RAW_LIMIT);
        let s = raw(body.as_bytes());
        assert!(s.len() <= RAW_LIMIT && s.chars().all(|c| c == 'é'));
    }
}
