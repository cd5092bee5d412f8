//! Filling templates at run time, with the encoding of the place each value lands
//! (SPEC section 7). Templates were split into literal parts and tokens by the parser, once;
//! rendering only walks the parts.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::ast::{Part, Template};

use super::context::Vars;
use super::secrets::Env;

/// Everything outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is percent-encoded.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a rendered value lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// In the URL: each token's value is percent-encoded (path segment or query component),
    /// except `$env.NAME$` before the path (a configured base URL or host), taken as it is.
    Url,
    /// Raw text, for header values, auth values, JSON strings (escaped when serialised),
    /// form fields (form-encoded when serialised) and conditions.
    Raw,
    /// XML text: `& < > " '` escaped in token values.
    Xml,
}

/// The template needs a variable that is not set on the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unset(pub String);

pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `t` from the call's variables and the environment.
pub fn render(t: &Template, enc: Encoding, vars: &Vars, env: &Env) -> Result<String, Unset> {
    let mut out = String::new();
    for part in &t.parts {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Var(v) => {
                let value = match (vars.get(&v.name), &v.default) {
                    (Some(value), _) => value,
                    (None, Some(default)) => default.as_str(),
                    (None, None) => return Err(Unset(v.name.clone())),
                };
                push_encoded(&mut out, value, enc, false);
            }
            Part::Env(e) => {
                let value = env
                    .get(&e.node)
                    .ok_or_else(|| Unset(format!("env.{}", e.node)))?;
                let before_path = enc == Encoding::Url && before_path(&out);
                push_encoded(&mut out, value, enc, before_path);
            }
        }
    }
    Ok(out)
}

fn push_encoded(out: &mut String, value: &str, enc: Encoding, raw: bool) {
    match enc {
        Encoding::Url if !raw => out.push_str(&percent_encode(value)),
        Encoding::Xml => out.push_str(&xml_escape(value)),
        _ => out.push_str(value),
    }
}

/// Whether a URL built so far has not reached its path yet (scheme, host or port).
fn before_path(url: &str) -> bool {
    match url.find("://") {
        None => true,
        Some(i) => !url[i + 3..].contains(['/', '?', '#']),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_only() {
        assert_eq!(
            percent_encode("+33 6/7?#&=é~._-"),
            "%2B33%206%2F7%3F%23%26%3D%C3%A9~._-"
        );
    }

    #[test]
    fn xml() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
