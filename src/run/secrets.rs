//! Secrets: `$env.NAME$` values from the process environment or an `--env-file`, the
//! start-up check that every secret exists, and redaction of every output.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use base64::Engine as _;

use crate::ast::{Auth, Script};

/// The secrets a run may use.
#[derive(Clone, Debug, Default)]
pub struct Env {
    values: HashMap<String, String>,
}

impl Env {
    /// The process environment, with `file` (if any) filling in what it does not set:
    /// as with dotenv, a variable already in the environment wins.
    pub fn load(file: Option<&std::path::Path>) -> Result<Env, String> {
        let mut values: HashMap<String, String> = HashMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            values = parse_env_file(&text).map_err(|e| format!("{}:{e}", path.display()))?;
        }
        for (k, v) in std::env::vars_os() {
            if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                values.insert(k.to_string(), v.to_string());
            }
        }
        Ok(Env { values })
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// `NAME=value` lines; `#` comments, blank lines, `export ` and quotes allowed.
pub fn parse_env_file(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!("{}: expected NAME=value", i + 1));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{}: `{name}` is not a variable name", i + 1));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        out.insert(name.to_string(), value.to_string());
    }
    Ok(out)
}

/// Every `$env.NAME$` the script uses.
pub fn used_secrets(script: &Script) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for w in &script.workflows {
        for a in w.actions() {
            for t in a.templates() {
                out.extend(t.envs().map(|e| e.node.clone()));
            }
        }
    }
    out
}

/// Replaces secret values, in every encoding they may take on the way out, with `***`.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// A redactor for the values of `names` in `env`, and for the basic-auth headers the
    /// script can build from them.
    pub fn new(env: &Env, names: &BTreeSet<String>, script: &Script) -> Redactor {
        let r = Redactor::default();
        for n in names {
            if let Some(v) = env.get(n) {
                r.add(v);
            }
        }
        // `auth basic "user" "$env.P$"` sends base64("user:secret").
        for w in &script.workflows {
            for a in w.actions() {
                if let Some(Auth::Basic { user, password }) = a.auth.as_ref().map(|a| &a.node) {
                    if password.has_tokens() || user.has_tokens() {
                        let render = |t: &crate::ast::Template| {
                            super::template::render(
                                t,
                                super::template::Encoding::Raw,
                                &Default::default(),
                                env,
                            )
                            .ok()
                        };
                        if let (Some(u), Some(p)) = (render(user), render(password)) {
                            r.add(
                                &base64::engine::general_purpose::STANDARD
                                    .encode(format!("{u}:{p}")),
                            );
                        }
                    }
                }
            }
        }
        r
    }

    /// Adds a secret found at run time (an OAuth2 access token), with its encodings.
    pub fn add(&self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let forms = [
            secret.to_string(),
            super::template::percent_encode(secret),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            serde_json::to_string(secret)
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
            super::template::xml_escape(secret),
        ];
        let mut needles = self.needles.write().unwrap_or_else(|e| e.into_inner());
        for f in forms {
            if !f.is_empty() && !needles.contains(&f) {
                needles.push(f);
            }
        }
        // Longest first, so that a secret containing another is replaced whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn redact(&self, text: &str) -> String {
        self.redact_owned(text.to_string())
    }

    /// [`Redactor::redact`] for a string the caller gives away: no copy when nothing matches.
    pub fn redact_owned(&self, mut out: String) -> String {
        let needles = self.needles.read().unwrap_or_else(|e| e.into_inner());
        for n in needles.iter() {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file() {
        let m = parse_env_file("# c\nA=1\nexport B = \"two words\"\nC='x=y'\n\n").unwrap();
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two words");
        assert_eq!(m["C"], "x=y");
        assert!(parse_env_file("A=1\nnonsense\n")
            .unwrap_err()
            .starts_with("2:"));
    }

    #[test]
    fn redacts_every_encoding() {
        let r = Redactor::default();
        r.add("s3cr+t/\"x");
        let out = r.redact("a s3cr+t/\"x b s3cr%2Bt%2F%22x c s3cr%2Bt%2F%22x d s3cr+t/\\\"x");
        assert!(!out.contains("s3cr"), "{out}");
    }
}
