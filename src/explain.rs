//! `callhook explain CODE`: the long explanation of each diagnostic, with a wrong and a
//! right example. The examples are checked by the test suite: the wrong one must draw the
//! code, the right one must not.

use crate::diagnostic::Code;

pub struct Explanation {
    pub code: Code,
    pub text: &'static str,
    pub wrong: &'static str,
    pub right: &'static str,
}

pub fn explain(code: Code) -> &'static Explanation {
    EXPLANATIONS
        .iter()
        .find(|e| e.code == code)
        .expect("every code has an explanation (tested)")
}

/// The text `callhook explain` prints.
pub fn render(code: Code) -> String {
    let e = explain(code);
    format!(
        "{code} ({sev}): {title}\n\n{text}\n\nWrong:\n\n{wrong}\n\nRight:\n\n{right}\n",
        code = code.as_str(),
        sev = code.severity().as_str(),
        title = code.title(),
        text = e.text.trim(),
        wrong = indent(e.wrong),
        right = indent(e.right),
    )
}

fn indent(s: &str) -> String {
    s.trim()
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub static EXPLANATIONS: &[Explanation] = &[
    Explanation {
        code: Code::E0001,
        text: "The script does not follow the grammar. The message says what the parser expected \
and what it found instead; the caret points at the first character it could not read. \
After a syntax error callhook skips to the next line that starts a workflow and goes on, \
so several syntax errors can be reported at once. Methods are upper case, every action \
sits between `<` and `>`, and each clause starts with its keyword.",
        wrong: r#"on AgentConnected < get "https://crm.example.com/contacts" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/contacts" >"#,
    },
    Explanation {
        code: Code::E0101,
        text: "A workflow fires on one of five call events: AgentDeclined, AgentConnected, \
CallConnected, CustomerAbandoned and CallEnded. Any other name is a typo (the note \
suggests the nearest trigger). Trigger names are written as one word, without spaces.",
        wrong: r#"on AgentConected < POST "https://hooks.example.com/pickup" body call >"#,
        right: r#"on AgentConnected < POST "https://hooks.example.com/pickup" body call >"#,
    },
    Explanation {
        code: Code::E0102,
        text: "The token names a variable that is neither built in nor mapped by any workflow. \
Portals send such a token unchanged (`$CALLER_ID_E146$` reaches the CRM as text); callhook \
refuses it. The built-in variables are callId, tenantId, CALLER_ID, CALLER_ID_E164, \
CALLED_NUMBER, FLOW_NAME, QUEUE_NAME, CALL_START_TIME, AGENT_ID, AGENT_NAME, CALL_END_TIME, \
CALL_HANDLE_TIME, CALL_TERMINATION_REASON, CALL_SUMMARY, CALL_SENTIMENT, \
TRANSCRIPT_FILE_URL and RECORDING_FILE_URL. Names are case-sensitive; secrets are written \
`$env.NAME$`.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/contacts?phone=$CALLER_ID_E146$" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/contacts?phone=$CALLER_ID_E164$" >"#,
    },
    Explanation {
        code: Code::E0103,
        text: "The built-in variable exists, but the call event of this trigger never carries it: \
the call's duration, summary and recording only exist at CallEnded, and no agent exists at \
CustomerAbandoned. The note lists where the variable is set; move the use to a workflow on \
that trigger.",
        wrong: r#"on AgentConnected < POST "https://crm.example.com/notes" body { "summary": "$CALL_SUMMARY$" } >"#,
        right: r#"on CallEnded < POST "https://crm.example.com/notes" body { "summary": "$CALL_SUMMARY?$" } >"#,
    },
    Explanation {
        code: Code::E0104,
        text: "The variable is mapped by a workflow, but no workflow that can run before this one \
stores it: it is mapped at a later trigger, later on the same trigger (by `order`, then \
script order), at a trigger that never comes on the same call (AgentConnected and \
CustomerAbandoned exclude each other), or only by this workflow, which never sees its own \
mappings. Look things up early (AgentConnected) and write back late (CallEnded).",
        wrong: r#"
workflow "write-back" on AgentConnected < POST "https://crm.example.com/t/$TICKET_ID$/notes" body call >
workflow "ticket" on CallEnded < POST "https://crm.example.com/tickets" body call map TICKET_ID = id >"#,
        right: r#"
workflow "ticket" on AgentConnected < POST "https://crm.example.com/tickets" body call map TICKET_ID = id >
workflow "write-back" on CallEnded when $TICKET_ID$ < POST "https://crm.example.com/t/$TICKET_ID$/notes" body call >"#,
    },
    Explanation {
        code: Code::E0105,
        text: "A `map` would overwrite a variable that the call event fills (such as AGENT_NAME \
or CALLER_ID_E164). Call data must stay what the platform said it is: pick a name of your \
own for the mapped value.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/agents/$AGENT_ID$" map AGENT_NAME = name >
on CallEnded < POST "https://crm.example.com/log" body { "agent": "$AGENT_NAME?$" } >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/agents/$AGENT_ID$" map CRM_AGENT_NAME = name >
on CallEnded < POST "https://crm.example.com/log" body { "agent": "$CRM_AGENT_NAME?$" } >"#,
    },
    Explanation {
        code: Code::E0106,
        text: "The URL must be a full http:// or https:// URL with a host. To check a URL with \
tokens, callhook puts a placeholder valid where each token stands and parses the result, \
so `https://crm.example.com/contacts/$CRM_CONTACT_ID$` is fine while `crm.example.com/x` \
(no scheme) or `ftp://...` is not.",
        wrong: r#"on AgentConnected < GET "crm.example.com/contacts?phone=$CALLER_ID_E164$" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/contacts?phone=$CALLER_ID_E164$" >"#,
    },
    Explanation {
        code: Code::E0107,
        text: "A `body { ... }` must be one JSON object: not an array or a bare value, with each \
key once at every level, and no trailing comma. (Use `body form { ... }` for a form, \
`body xml \"...\"` for XML.) `#` comments are allowed between values.",
        wrong: r#"on CallEnded < POST "https://crm.example.com/calls" body { "id": "$callId$", "id": "$CALLER_ID$" } >"#,
        right: r#"on CallEnded < POST "https://crm.example.com/calls" body { "id": "$callId$", "caller": "$CALLER_ID$" } >"#,
    },
    Explanation {
        code: Code::E0108,
        text: "GET and HEAD requests carry no body; many servers and proxies drop it or refuse \
the request. Send the values in the URL or with `query` clauses, or use POST.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/search" body { "phone": "$CALLER_ID_E164$" } >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/search" query phone = "$CALLER_ID_E164$" >"#,
    },
    Explanation {
        code: Code::E0109,
        text: "Header names must be HTTP tokens (letters, digits and `-`, no spaces, no tokens), \
and a header value written in the script must be one line without control characters. \
(A value that gets a line break from call data at run time is refused then, with \
INVALID_REQUEST, and never sent.)",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/x" header "X Api Key" = "$env.KEY$" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/x" header X-Api-Key = "$env.KEY$" >"#,
    },
    Explanation {
        code: Code::E0110,
        text: "A block maps the same variable twice (the second would silently overwrite the \
first), or two workflows share one name (outcomes and traces name workflows, so names \
must be unique).",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map ID = id map ID = contactId >
on CallEnded when $ID$ < POST "https://crm.example.com/c/$ID$/calls" body call >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map ID = id >
on CallEnded when $ID$ < POST "https://crm.example.com/c/$ID$/calls" body call >"#,
    },
    Explanation {
        code: Code::E0111,
        text: "`timeout` and `backoff` take a whole number with a unit: `ms`, `s` or `m`, from \
1ms to 60s. A timeout of zero never lets a request finish, and a call cannot wait more \
than a minute for an API. The default timeout is 10s per attempt.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c" timeout 90s >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c" timeout 5s >"#,
    },
    Explanation {
        code: Code::E0112,
        text: "Call data (any token but `$env.NAME$`) in the URL's scheme, host or port lets \
whoever controls that data choose where the request, and its credentials, go. Keep the \
host fixed in the script and put call data in the path or the query; a host that differs \
per environment comes from `$env.NAME$`.",
        wrong: r#"on AgentConnected < GET "https://$QUEUE_NAME$.crm.example.com/contacts" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/queues/$QUEUE_NAME$/contacts" >"#,
    },
    Explanation {
        code: Code::W0201,
        text: "The variable is stored on some calls before this workflow but not on all: the \
workflow that maps it has a `when`, an `else` block that does not map it, another scope, \
or runs on a trigger that does not come on every call (AgentConnected does not come when \
the caller hangs up in the queue), or later on AgentDeclined, which repeats. At run time \
an unset variable stops the request (INVALID_FLOW_VAR). Guard the workflow with \
`when $X$`, or give a default with `$X?default$`.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map CRM_ID = id >
on CallEnded < POST "https://crm.example.com/c/$CRM_ID$/calls" body call >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map CRM_ID = id >
on CallEnded when $CRM_ID$ < POST "https://crm.example.com/c/$CRM_ID$/calls" body call >"#,
    },
    Explanation {
        code: Code::W0202,
        text: "The built-in variable is only set on some calls at this trigger: AGENT_ID and \
AGENT_NAME at CallEnded exist only if an agent connected; CALL_SUMMARY, CALL_SENTIMENT \
and TRANSCRIPT_FILE_URL only when transcription is on; RECORDING_FILE_URL only when \
recording is on. Guard the workflow with `when $X$` or write `$X?default$`.",
        wrong: r#"on CallEnded < POST "https://crm.example.com/calls" body { "summary": "$CALL_SUMMARY$" } >"#,
        right: r#"on CallEnded < POST "https://crm.example.com/calls" body { "summary": "$CALL_SUMMARY?no summary$" } >"#,
    },
    Explanation {
        code: Code::W0203,
        text: "Text that looks like a credential is written into the script: `Bearer` or \
`Basic` followed by a literal token, a literal value in a header, query or form field \
named like a key, token, secret or password, an `auth` clause with a literal secret, or a \
URL with a literal `sig=` (Power Automate) or key. Scripts get shared and committed; put \
the secret in the environment and write `$env.NAME$`. callhook never prints secret values.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c" header Authorization = "Bearer sk_live_51HxYz" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c" header Authorization = "Bearer $env.CRM_TOKEN$" >"#,
    },
    Explanation {
        code: Code::W0204,
        text: "The URL uses plain http://: call data and credentials cross the network \
unencrypted. It is allowed (some internal services have no TLS) but worth a look.",
        wrong: r#"on CallEnded < POST "http://crm.example.com/calls" body call >"#,
        right: r#"on CallEnded < POST "https://crm.example.com/calls" body call >"#,
    },
    Explanation {
        code: Code::W0205,
        text: "POST and PATCH are not idempotent: if a response is lost, a retry can create a \
second ticket or note. Retry them only with an Idempotency-Key header that the server \
uses to drop repeats (a value that is the same for every attempt, such as the call id).",
        wrong: r#"on CallEnded < POST "https://crm.example.com/tickets" body call retry 2 >"#,
        right: r#"on CallEnded < POST "https://crm.example.com/tickets" header Idempotency-Key = "$callId$-ticket" body call retry 2 >"#,
    },
    Explanation {
        code: Code::W0206,
        text: "A `map` stores a variable that no token anywhere reads: the value is thrown away \
(or the reading token has a typo). Use it as `$NAME$` in a later workflow, or remove the map.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map CRM_ID = id >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c?p=$CALLER_ID_E164$" map CRM_ID = id >
on CallEnded when $CRM_ID$ < POST "https://crm.example.com/c/$CRM_ID$/calls" body call >"#,
    },
    Explanation {
        code: Code::W0207,
        text: "A `$` that begins no token is sent as a literal dollar sign (so OData's `$filter` \
works). When the text after it is a variable's name, the closing `$` was probably \
forgotten and the name would be sent as text. Write `$NAME$` for the value, or `$$` for a \
literal `$`.",
        wrong: r#"on AgentConnected < GET "https://crm.example.com/c?phone=$CALLER_ID_E164" >"#,
        right: r#"on AgentConnected < GET "https://crm.example.com/c?phone=$CALLER_ID_E164$" >"#,
    },
];
