//! Call events, one JSON object per line (SPEC section 6):
//! `{"call":"c-1","event":"AgentConnected","vars":{"CALLER_ID_E164":"+33..."},"scope":"Sales"}`

use serde_json::Value;

use crate::model::Trigger;
use crate::suggest;

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// 1-based line in the input.
    pub line: usize,
    pub call: String,
    pub trigger: Trigger,
    pub vars: Vec<(String, String)>,
    pub scope: Option<String>,
}

/// Parses one line. Blank lines and lines starting with `#` are skipped (`Ok(None)`).
/// The error says what is wrong and names the offending value.
pub fn parse_line(line: usize, text: &str) -> Result<Option<Event>, String> {
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    match fast::parse(line, text) {
        Some(event) => Ok(Some(event)),
        None => parse_general(line, text).map(Some),
    }
}

/// Any line, through a JSON tree: every problem gets its own message.
fn parse_general(line: usize, text: &str) -> Result<Event, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let Value::Object(o) = v else {
        return Err(format!("expected a JSON object, found {}", kind(&v)));
    };
    for k in o.keys() {
        if !["call", "event", "vars", "scope"].contains(&k.as_str()) {
            return Err(format!(
                "unknown field `{k}` (the fields are call, event, vars and scope)"
            ));
        }
    }
    let call = match o.get("call") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(format!(
                "`call` must be a non-empty string, found {}",
                kind(other)
            ))
        }
        None => return Err("missing `call` (the call's id)".into()),
    };
    let event = match o.get("event") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(format!("`event` must be a string, found {}", kind(other))),
        None => return Err("missing `event`".into()),
    };
    let trigger = Trigger::parse(event).ok_or_else(|| {
        let hint = suggest::nearest(event, Trigger::ALL.iter().map(|t| t.as_str()))
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        format!("unknown event `{event}`{hint}")
    })?;
    let mut vars = Vec::new();
    match o.get("vars") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    Value::Null => continue,
                    other => {
                        return Err(format!(
                            "variable `{k}` must be a string, number or boolean, found {}",
                            kind(other)
                        ))
                    }
                };
                vars.push((k.clone(), value));
            }
        }
        Some(other) => return Err(format!("`vars` must be an object, found {}", kind(other))),
    }
    let scope = match o.get("scope") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("`scope` must be a string, found {}", kind(other))),
    };
    Ok(Event {
        line,
        call,
        trigger,
        vars,
        scope,
    })
}

/// The common case, read straight into an [`Event`] without building a JSON tree first (a
/// tree costs a dozen allocations per line). Anything it does not accept (any error, a
/// duplicate field, a float, an unknown event) goes to the general path above, which
/// gives the precise message; so the two agree on every line.
mod fast {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, Deserializer, MapAccess, Visitor};
    use serde::Deserialize;

    use super::Event;
    use crate::model::Trigger;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line<'a> {
        #[serde(deserialize_with = "call_id")]
        call: String,
        #[serde(borrow)]
        event: Cow<'a, str>,
        #[serde(default, deserialize_with = "vars")]
        vars: Vec<(String, String)>,
        #[serde(default)]
        scope: Option<String>,
    }

    pub fn parse(line: usize, text: &str) -> Option<Event> {
        let l: Line = serde_json::from_str(text).ok()?;
        let trigger = Trigger::parse(&l.event)?;
        if l.call.is_empty() {
            return None;
        }
        Some(Event {
            line,
            call: l.call,
            trigger,
            vars: l.vars,
            scope: l.scope,
        })
    }

    /// More variables than this on one line go to the general path: the fast one checks
    /// for repeated names by scanning, which is only cheap for a few.
    const MAX_FAST_VARS: usize = 16;

    /// A JSON string, integer or boolean as text (`is_bool` tells which), or null (`None`).
    /// Floats, arrays and objects are not scalars here: the general path reports them.
    struct Scalar {
        text: Option<String>,
        is_bool: bool,
    }

    impl<'de> Deserialize<'de> for Scalar {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Scalar;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string, an integer, a boolean or null")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                    Ok(Scalar::text(v.to_string()))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                    Ok(Scalar::text(v))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                    Ok(Scalar::text(v.to_string()))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                    Ok(Scalar::text(v.to_string()))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                    Ok(Scalar {
                        text: Some(v.to_string()),
                        is_bool: true,
                    })
                }
                fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                    Ok(Scalar {
                        text: None,
                        is_bool: false,
                    })
                }
            }
            d.deserialize_any(V)
        }
    }

    impl Scalar {
        fn text(s: String) -> Scalar {
            Scalar {
                text: Some(s),
                is_bool: false,
            }
        }
    }

    /// A string, or an integer written as text.
    fn call_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar {
                text: Some(t),
                is_bool: false,
            } => Ok(t),
            _ => Err(de::Error::custom("not a call id")),
        }
    }

    /// An object of strings, integers and booleans (stored as text; null skipped), or null.
    fn vars<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                let mut seen = 0;
                while let Some((k, v)) = m.next_entry::<String, Scalar>()? {
                    seen += 1;
                    // Many variables, or a repeated name: leave the line to the general path.
                    if seen > MAX_FAST_VARS || out.iter().any(|(name, _)| *name == k) {
                        return Err(de::Error::custom("not for the fast path"));
                    }
                    if let Some(v) = v.text {
                        out.push((k, v));
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path and the general one give the same event for every line the fast one
    /// accepts, and the fast one declines what it cannot read exactly.
    #[test]
    fn fast_path_agrees_with_the_general_one() {
        for line in [
            r#"{"call":"c-1","event":"AgentConnected","vars":{"A":"1","N":2,"T":true,"Z":null},"scope":"S"}"#,
            r#"{"event":"CallEnded","call":42}"#,
            r#"{"call":"c\"q","event":"Call\u0045nded","vars":null,"scope":null}"#,
            r#"{"call":"c","event":"CustomerAbandoned","vars":{"B":"x","A":"y"}}"#,
        ] {
            let fast = fast::parse(1, line).expect(line);
            assert_eq!(fast, parse_general(1, line).unwrap(), "{line}");
        }
        for line in [
            r#"{"call":"","event":"CallEnded"}"#,
            r#"{"call":"c","event":"CallEnded","vars":{"F":1.5}}"#,
            r#"{"call":"c","call":"d","event":"CallEnded"}"#,
            r#"{"call":"c","event":"CallEnded","vars":{"A":"1","A":"2"}}"#,
            r#"{"call":"c","event":"Nope"}"#,
            r#"{"call":"c","event":"CallEnded","var":{}}"#,
            r#"{"call":true,"event":"CallEnded"}"#,
            r#"{"call":null,"event":"CallEnded"}"#,
        ] {
            assert!(fast::parse(1, line).is_none(), "{line}");
        }
        // Past 16 variables the line takes the general path, which keeps them all.
        let many: Vec<String> = (0..100).map(|i| format!("\"V{i}\":\"{i}\"")).collect();
        let line = format!(
            r#"{{"call":"c","event":"CallEnded","vars":{{{}}}}}"#,
            many.join(",")
        );
        assert!(fast::parse(1, &line).is_none());
        assert_eq!(parse_line(1, &line).unwrap().unwrap().vars.len(), 100);
    }

    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            (-1e6f64..1e6).prop_map(serde_json::Value::from),
            Just(serde_json::json!([1])),
        ]
    }

    proptest! {
        /// Any text: an event or an error, never a panic.
        #[test]
        fn any_line_is_an_event_or_an_error(s in "\\PC{0,200}") {
            let _ = parse_line(1, &s);
        }

        /// Event-shaped objects, good and bad: whenever the fast path accepts one, the
        /// general path gives the same event.
        #[test]
        fn fast_and_general_paths_agree(
            call in prop_oneof![scalar(), Just(serde_json::json!("c-1"))],
            event in prop_oneof![
                Just("AgentConnected"), Just("CallEnded"), Just("AgentDeclined"),
                Just("CustomerAbandoned"), Just("IncomingCall"), Just("Nope"),
            ],
            vars in proptest::collection::vec(("[A-Z_]{1,4}", scalar()), 0..5),
            scope in proptest::option::of(scalar()),
            extra in any::<bool>(),
        ) {
            let mut o = serde_json::Map::new();
            o.insert("call".into(), call);
            o.insert("event".into(), event.into());
            o.insert("vars".into(), serde_json::Value::Object(vars.into_iter().collect()));
            if let Some(s) = scope {
                o.insert("scope".into(), s);
            }
            if extra {
                o.insert("var".into(), serde_json::json!({}));
            }
            let line = serde_json::Value::Object(o).to_string();
            if let Some(fast) = fast::parse(7, &line) {
                // (Lines it declines take the general path anyway.)
                prop_assert_eq!(Ok(fast), parse_general(7, &line));
            }
        }
    }

    #[test]
    fn good_and_bad_lines() {
        let e = parse_line(3, r#"{"call":"c-1","event":"AgentConnected","vars":{"A":"1","N":2,"Z":null},"scope":"S"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(e.trigger, Trigger::AgentConnected);
        assert_eq!(
            e.vars,
            vec![("A".into(), "1".into()), ("N".into(), "2".into())]
        );
        assert_eq!(parse_line(1, "  # comment").unwrap(), None);
        assert!(parse_line(1, "{")
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(parse_line(1, "[1]").unwrap_err().contains("an array"));
        assert!(parse_line(1, r#"{"call":"c","event":"AgentConected"}"#)
            .unwrap_err()
            .contains("did you mean `AgentConnected`"));
        assert!(
            parse_line(1, r#"{"call":"c","event":"CallEnded","var":{}}"#)
                .unwrap_err()
                .contains("unknown field `var`")
        );
        assert!(parse_line(1, r#"{"event":"CallEnded"}"#)
            .unwrap_err()
            .contains("missing `call`"));
        assert!(parse_line(1, r#"{"call":"c","event":"CallEnded","vars":{"A":[1]}}"#).is_err());
    }
}
