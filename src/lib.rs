//! callhook: write, check, run and explore contact-centre call automations.
//!
//! The pipeline, one module per stage:
//! [`parse`] (text to [`ast`]), [`check`] (diagnostics, using [`model`]),
//! [`run`] (call events to HTTP requests and outcomes), with [`render`] for output and
//! [`repl`] driving the same engine interactively.

pub mod ast;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod explain;
pub mod model;
pub mod parse;
pub mod program;
pub mod render;
pub mod repl;
pub mod run;
pub mod source;
pub mod span;
pub mod suggest;
