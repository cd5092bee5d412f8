//! pest errors made readable: E0001 with what was expected, what was found, and where.

use pest::error::{ErrorVariant, InputLocation};
use pest::Parser;

use super::grammar::{CallhookParser, Rule};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// Turns a pest error on `src[offset..]` into a diagnostic; also returns the absolute error
/// position, for resynchronisation.
pub fn syntax_error(
    rule: Rule,
    err: pest::error::Error<Rule>,
    file: FileId,
    offset: usize,
    src: &str,
) -> (Diagnostic, usize) {
    let mut rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&'static str> = Vec::new();
    fn push(expected: &mut Vec<&'static str>, s: &'static str) {
        if !expected.contains(&s) {
            expected.push(s);
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        positives
            .iter()
            .filter_map(|r| describe(*r))
            .for_each(|s| push(&mut expected, s));
    }
    // pest reports the farthest *rule* it tried; a missing `:` or `>` is a literal, only
    // seen with pest's error detail on, which is slow: re-parse this one chunk with it.
    pest::set_error_detail(true);
    let detailed = CallhookParser::parse(rule, &src[offset..]).err();
    pest::set_error_detail(false);
    if let Some(attempts) = detailed.as_ref().and_then(|e| e.parse_attempts()) {
        if attempts.max_position > rel {
            rel = attempts.max_position;
            expected.clear();
            for stack in attempts.call_stacks() {
                if let Some(d) = stack.deepest.get_rule().and_then(|r| describe(*r)) {
                    push(&mut expected, d);
                }
            }
        }
        if attempts.max_position == rel {
            for tok in attempts.expected_tokens() {
                if let Some(p) = punctuation(&tok.to_string()) {
                    push(&mut expected, p);
                }
            }
        }
    }
    let at = (offset + rel).min(src.len());
    let found = found_at(src, at);
    let span = Span::new(file, at, at + found.len());
    let found_text = if found.is_empty() {
        "end of input".to_string()
    } else if found.starts_with('"') {
        "a string".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {}, found {found_text}", join_or(&expected))
    };
    let mut diag = Diagnostic::new(Code::E0001, span, message).label(if found.is_empty() {
        "the script ends here".to_string()
    } else {
        format!("unexpected {}", found_text.trim_start_matches("a "))
    });
    if let Some(note) = hint(found, &expected) {
        diag = diag.note(note);
    }
    (diag, at)
}

/// "a, b or c"
pub fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The text at `at` that the parser could not take: a word, a string, or one character.
fn found_at(src: &str, at: usize) -> &str {
    let rest = &src[at..];
    let Some(first) = rest.chars().next() else {
        return "";
    };
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..]
            .find(['"', '\n'])
            .map_or(rest.len(), |i| i + 2)
            .min(rest.len())
    } else {
        first.len_utf8()
    };
    let mut len = len.min(40);
    while !rest.is_char_boundary(len) {
        len -= 1;
    }
    &rest[..len]
}

fn hint(found: &str, expected: &[&str]) -> Option<String> {
    let upper = found.to_ascii_uppercase();
    if expected.contains(&METHOD) && crate::ast::Method::parse(&upper).is_some() {
        return Some(format!("methods are written in upper case: `{upper}`"));
    }
    if expected.contains(&CLAUSE) && found == "headers" {
        return Some("one `header NAME = \"value\"` clause per header".into());
    }
    if expected.contains(&ESCAPE) {
        return Some("inside a string, write `\\\\` for a backslash".into());
    }
    if expected == [BLOCK_END] || expected.contains(&BLOCK_END) && expected.contains(&CLAUSE) {
        return Some("an action ends with `>`; each clause starts with its keyword".into());
    }
    None
}

const METHOD: &str = "an HTTP method such as `GET` or `POST`";
const CLAUSE: &str = "a clause (`header`, `query`, `auth`, `body`, `timeout`, `retry` or `map`)";
const ESCAPE: &str = "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` or `\\u{...}`)";
const BLOCK_END: &str = "`>`";

fn punctuation(token: &str) -> Option<&'static str> {
    Some(match token {
        "<" => "`<`",
        ">" => BLOCK_END,
        "=" => "`=`",
        "{" => "`{`",
        "}" => "`}`",
        "[" => "`[`",
        "]" => "`]`",
        ":" => "`:`",
        "," => "`,`",
        "\"" => "`\"`",
        "." => "`.`",
        _ => return None,
    })
}

fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "end of input",
        workflow | workflow_name | kw_workflow | workflow_scope | kw_scope | kw_on => {
            "a workflow (`workflow \"name\"`, `scope` or `on`)"
        }
        trigger => "a trigger such as `AgentConnected`",
        workflow_order | kw_order => "`order`",
        workflow_when | kw_when => "`when`",
        block => "`<`",
        else_block | kw_else => "`else`",
        condition | cond_compare | cond_not | cond_set | var_token | kw_not => {
            "a condition such as `$NAME$`"
        }
        cmp_op => "`==` or `!=`",
        kw_and => "`and`",
        action | method | bare_action => METHOD,
        string => "a string in double quotes",
        header_clause | query_clause | timeout_clause | retry_clause | map_clause | kw_header
        | kw_query | kw_auth | kw_body | kw_timeout | kw_retry | kw_map => CLAUSE,
        bare_header_name => "a header name",
        bare_query_name | form_field => "a parameter name",
        auth_bearer | auth_basic | auth_oauth2 | kw_bearer | kw_basic | kw_oauth2 => {
            "`bearer`, `basic` or `oauth2`"
        }
        oauth2_field | oauth2_key => {
            "an oauth2 setting (`token_url`, `client_id`, `client_secret` or `scope`)"
        }
        body_form | body_xml | body_call | body_json | kw_form | kw_xml | kw_call => {
            "a body (`{ ... }`, `form { ... }`, `xml \"...\"` or `call`)"
        }
        json_object | json_array | json_string | json_number | json_true | json_false
        | json_null => "a JSON value",
        json_member | json_key => "a JSON key in double quotes",
        trailing_comma => "`,`",
        duration => "a duration such as `5s` or `500ms`",
        integer => "a whole number",
        map_target => "a variable name",
        json_path | bare_key | path_index | meta_path | xpath_path | kw_xpath => {
            "a response path such as `id`, `contacts[0].id`, `@status` or `xpath \"...\"`"
        }
        index_value => "an array index",
        meta_name => "a response field such as `status` or `header`",
        kw_required => "`required`",
        kw_backoff => "`backoff`",
        escape | json_escape => ESCAPE,
        _ => return None,
    })
}
