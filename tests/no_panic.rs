//! Parse + check never panic, whatever the input: arbitrary text, arbitrary bytes, and the
//! examples mutated at random. (Their linear running time is measured in benches/check.rs.)

use callhook::program::Program;
use proptest::prelude::*;

fn check(text: &str) {
    let p = Program::from_text("fuzz.hook", text);
    // Rendering touches every span: a span outside the text would panic here. (Only the
    // first few are rendered: each rendering shows its whole source line.)
    let _ = callhook::render::human_all(
        &p.sources,
        &p.diagnostics[..p.diagnostics.len().min(20)],
        false,
    );
    for d in &p.diagnostics {
        let _ = callhook::render::json(&p.sources, d);
        assert!(d.primary.span.end <= text.len() && d.primary.span.start <= d.primary.span.end);
    }
}

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "hook").then(|| std::fs::read_to_string(p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Pieces of the language, so that random text often gets deep into the grammar.
const PIECES: &[&str] = &[
    "on ",
    "AgentConnected ",
    "CallEnded ",
    "workflow ",
    "\"n\" ",
    "scope ",
    "order ",
    "-3 ",
    "when ",
    "$X$ ",
    "and ",
    "not ",
    "== ",
    "< ",
    "> ",
    "else ",
    "GET ",
    "POST ",
    "\"https://x/$A$?q=$B?d$&$$\" ",
    "header ",
    "query ",
    "auth ",
    "bearer ",
    "basic ",
    "oauth2 { ",
    "token_url = ",
    "body ",
    "{ ",
    "} ",
    "[ ",
    "] ",
    "\"k\": ",
    ", ",
    "form ",
    "xml ",
    "call ",
    "timeout ",
    "5s ",
    "0ms ",
    "retry ",
    "2 ",
    "backoff ",
    "map ",
    "X = ",
    "a.b[0] ",
    "@status ",
    "@header.X ",
    "xpath ",
    "required ",
    "# c\n",
    "\"",
    "\\",
    "$",
    "\n",
    "é",
    "\u{0}",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(s in "\\PC{0,300}") {
        check(&s);
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn language_pieces(pieces in proptest::collection::vec(0..PIECES.len(), 0..60)) {
        let text: String = pieces.into_iter().map(|i| PIECES[i]).collect();
        check(&text);
    }

    #[test]
    fn mutated_examples(which in 0usize..5, edits in proptest::collection::vec((any::<usize>(), 0u8..3, 0..PIECES.len()), 1..8)) {
        let all = examples();
        let mut text = all[which % all.len()].clone();
        for (at, kind, piece) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match kind {
                0 => text.insert_str(at, PIECES[piece]),
                1 => {
                    let mut end = (at + 1 + piece).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                }
                _ => text.truncate(at),
            }
        }
        check(&text);
    }
}

#[test]
fn pathological_inputs() {
    let deep = format!(
        "on CallEnded < POST \"https://x\" body {{\"a\": {}1{} }} >",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    check(&deep);
    check(&"$".repeat(100_000));
    check(&format!("on CallEnded < GET \"{}\" >", "$a".repeat(50_000)));
    check(&"on X < GET \"unterminated\n".repeat(2_000));
    check(&"{".repeat(50_000));
    check(&format!(
        "on AgentConnected < GET \"https://x\" {} >",
        "map A = a ".repeat(20_000)
    ));
}
