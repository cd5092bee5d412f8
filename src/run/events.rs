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
    Ok(Some(Event {
        line,
        call,
        trigger,
        vars,
        scope,
    }))
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
