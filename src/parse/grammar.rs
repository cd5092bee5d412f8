//! The pest parser generated from `grammar/callhook.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/callhook.pest"]
pub struct CallhookParser;
