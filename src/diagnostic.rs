//! Diagnostics as data: a stable [`Code`], a primary span, a message, secondary labels and
//! notes. Rendering lives in [`crate::render`].

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($($code:ident, $sev:ident, $title:literal;)*) => {
        /// The stable diagnostic codes of SPEC section 5.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($code),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$sev),* }
            }

            /// One line: what the code is about.
            pub fn title(self) -> &'static str {
                match self { $(Code::$code => $title),* }
            }
        }
    };
}

codes! {
    E0001, Error, "syntax error";
    E0101, Error, "unknown trigger";
    E0102, Error, "unknown variable";
    E0103, Error, "built-in variable never set at this trigger";
    E0104, Error, "variable used before it can be stored";
    E0105, Error, "mapping target clashes with a built-in variable";
    E0106, Error, "invalid URL";
    E0107, Error, "body is not a valid JSON object";
    E0108, Error, "body on GET or HEAD";
    E0109, Error, "invalid header name or value";
    E0110, Error, "duplicate mapping or workflow name";
    E0111, Error, "invalid timeout or backoff";
    E0112, Error, "call data in the URL's scheme, host or port";
    W0201, Warning, "variable may be unset here";
    W0202, Warning, "built-in variable only set on some calls";
    W0203, Warning, "secret-looking literal";
    W0204, Warning, "plain http:// URL";
    W0205, Warning, "retry on POST or PATCH without an Idempotency-Key";
    W0206, Warning, "mapped variable never used";
    W0207, Warning, "literal `$` before a variable name";
}

impl Code {
    /// `E0104` or `e0104`.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The text under the primary caret.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// In-place form of [`Diagnostic::label`].
    pub fn set_label(&mut self, message: impl Into<String>) -> &mut Diagnostic {
        self.primary.message = message.into();
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// Sorts diagnostics by file and position, errors before warnings at one place.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (d.primary.span.file, d.primary.span.start, d.code));
}
