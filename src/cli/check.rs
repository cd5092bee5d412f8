//! `callhook check`

use super::{CheckArgs, Format};
use crate::check::Options;
use crate::program::Program;
use crate::render;

pub fn run(args: &CheckArgs, color: bool) -> u8 {
    let program = match Program::load(&args.files, &Options::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let diags = &program.diagnostics;
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "diagnostics": diags.iter().map(|d| render::json(&program.sources, d)).collect::<Vec<_>>(),
                "errors": diags.iter().filter(|d| d.is_error()).count(),
                "warnings": diags.iter().filter(|d| !d.is_error()).count(),
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Human => {
            print!("{}", render::human_all(&program.sources, diags, color));
            let files = args.files.len();
            eprintln!(
                "checked {files} file{}: {}",
                if files == 1 { "" } else { "s" },
                render::summary(diags)
            );
        }
    }
    let failing = diags.iter().any(|d| d.is_error() || args.deny_warnings);
    u8::from(failing)
}
