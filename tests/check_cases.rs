//! Snapshot tests of rendered diagnostics: one `.hook` file per case under `tests/cases/`,
//! its rendering under `snapshots/`. File names say what each case must show:
//! `e0104_fail_*` must draw E0104, `e0104_pass_*` is a near miss that must check clean.

use std::path::Path;

use callhook::diagnostic::Code;
use callhook::program::Program;
use callhook::render;

fn program(path: &Path) -> Program {
    let text = std::fs::read_to_string(path).expect("case file");
    let name = format!(
        "tests/cases/check/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    Program::from_text(&name, &text)
}

fn rendered(p: &Program) -> String {
    format!(
        "{}{}\n",
        render::human_all(&p.sources, &p.diagnostics, false),
        render::summary(&p.diagnostics)
    )
}

/// `e0104_fail_order.hook` -> (E0104, true)
fn expectation(path: &Path) -> (Code, bool) {
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let mut parts = stem.splitn(3, '_');
    let code =
        Code::parse(parts.next().unwrap()).unwrap_or_else(|| panic!("{stem}: no code prefix"));
    let kind = parts.next().unwrap();
    assert!(
        kind == "fail" || kind == "pass",
        "{stem}: expected _fail_ or _pass_"
    );
    (code, kind == "fail")
}

#[test]
fn check_cases() {
    insta::glob!("cases/check/*.hook", |path| {
        let p = program(path);
        let (code, fail) = expectation(path);
        let codes: Vec<Code> = p.diagnostics.iter().map(|d| d.code).collect();
        if fail {
            assert!(
                codes.contains(&code),
                "{}: expected {code:?}, got {codes:?}",
                path.display()
            );
        } else {
            assert!(
                codes.is_empty(),
                "{}: expected no diagnostics, got {codes:?}",
                path.display()
            );
        }
        insta::with_settings!({
            snapshot_path => "../snapshots/check",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(rendered(&p));
        });
    });
}

#[test]
fn every_code_has_a_failing_and_a_passing_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/check");
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for &code in Code::ALL {
        for fail in [true, false] {
            assert!(
                files.iter().any(|f| expectation(f) == (code, fail)),
                "{code:?} has no {} case",
                if fail { "failing" } else { "passing" }
            );
        }
    }
}

#[test]
fn json_output() {
    insta::glob!("cases/json/*.hook", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!(
            "tests/cases/json/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let p = Program::from_text(&name, &text);
        let json: Vec<_> = p
            .diagnostics
            .iter()
            .map(|d| render::json(&p.sources, d))
            .collect();
        insta::with_settings!({
            snapshot_path => "../snapshots/json",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(json);
        });
    });
}

#[test]
fn explain_examples_show_their_code() {
    for e in callhook::explain::EXPLANATIONS {
        let wrong = Program::from_text("wrong.hook", e.wrong);
        let codes: Vec<Code> = wrong.diagnostics.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(&e.code),
            "{:?}: wrong example gives {codes:?}",
            e.code
        );
        let right = Program::from_text("right.hook", e.right);
        assert!(
            right.diagnostics.is_empty(),
            "{:?}: right example gives {:?}",
            e.code,
            right.diagnostics
        );
    }
    for &code in Code::ALL {
        assert!(callhook::explain::render(code).contains(code.as_str()));
    }
}

#[test]
fn examples_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "hook") {
            let p = Program::load(std::slice::from_ref(&path), &Default::default()).unwrap();
            assert!(
                p.diagnostics.is_empty(),
                "{}:\n{}",
                path.display(),
                rendered(&p)
            );
            n += 1;
        }
    }
    assert!(n >= 5, "expected at least five examples, found {n}");
}
