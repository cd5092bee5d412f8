//! The command line: subcommands, their flags and their exit codes.

mod check;
mod run;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::render::ColorChoice;

#[derive(Parser, Debug)]
#[command(
    name = "callhook",
    version,
    about = "Write, check, run and explore contact-centre call automations",
    long_about = "callhook checks call-automation scripts (.hook files) before a call is made, \
runs them against call events with real HTTP, and lets you explore APIs in a REPL.\n\n\
Exit codes: 0 success, 1 problems found (check errors, failed workflows, rejected events), \
2 the command could not run (usage, I/O, missing secrets)."
)]
pub struct Cli {
    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check scripts and report every problem, without making any call.
    ///
    /// Several files are one program, concatenated in the order given.
    /// Exit code: 0 no errors, 1 errors (or warnings with --deny-warnings), 2 usage or I/O error.
    Check(CheckArgs),
    /// Run scripts against call events (JSON lines), making real HTTP requests.
    ///
    /// Exit code: 0 every event processed and every workflow succeeded; 1 an event was
    /// rejected or a workflow failed; 2 the run could not start (check errors, missing
    /// secrets, usage or I/O errors).
    Run(RunArgs),
    /// Open an interactive session on one live call: try APIs, fire events, inspect variables.
    ///
    /// When standard input is not a terminal, commands are read line by line and the
    /// output is plain, so a session can be scripted.
    Repl(ReplArgs),
    /// Explain a diagnostic code (e.g. E0104) with a wrong and a right example.
    Explain {
        /// The code, e.g. E0104 or w0201. Without it, lists every code.
        code: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Script files (.hook), one program in the order given.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Treat warnings as errors (exit 1 when there is any).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Output format: human (rendered like rustc) or json (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Script files (.hook), one program in the order given.
    #[arg(required = true)]
    pub scripts: Vec<PathBuf>,
    /// Call events, one JSON object per line, or `-` for standard input.
    #[arg(long, short)]
    pub events: PathBuf,
    /// Answer requests from this stubs file (JSON) and refuse every other request:
    /// nothing leaves the machine.
    #[arg(long)]
    pub stubs: Option<PathBuf>,
    /// Read `$env.NAME$` secrets from this file (NAME=value lines) where the environment
    /// does not set them.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file (e.g. a company CA in front of the
    /// CRM), on top of the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Render each request and print it without sending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Output: human (a readable trace) or json (one JSON object per line).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// How many calls run at the same time.
    #[arg(long, default_value_t = crate::run::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(usize))]
    pub concurrency: usize,
}

#[derive(clap::Args, Debug)]
pub struct ReplArgs {
    /// Script files to load into the session.
    pub scripts: Vec<PathBuf>,
    /// Answer requests from this stubs file and refuse every other request.
    #[arg(long)]
    pub stubs: Option<PathBuf>,
    /// Read `$env.NAME$` secrets from this file where the environment does not set them.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file, on top of the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Parses the arguments and runs the command; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let code = match cli.command {
        Command::Check(args) => {
            check::run(&args, cli.color.enabled(std::io::stdout().is_terminal()))
        }
        Command::Run(args) => run::run(&args, cli.color),
        Command::Repl(args) => repl(&args, cli.color),
        Command::Explain { code } => explain(code.as_deref()),
    };
    ExitCode::from(code)
}

fn explain(code: Option<&str>) -> u8 {
    use crate::diagnostic::Code;
    match code {
        None => {
            for c in Code::ALL {
                println!(
                    "{}  {:<7}  {}",
                    c.as_str(),
                    c.severity().as_str(),
                    c.title()
                );
            }
            0
        }
        Some(s) => {
            match Code::parse(s) {
                Some(c) => {
                    print!("{}", crate::explain::render(c));
                    0
                }
                None => {
                    eprintln!("error: `{s}` is not a callhook diagnostic code; `callhook explain` lists them");
                    2
                }
            }
        }
    }
}

/// The CA certificates of `--ca-cert`, if given.
fn ca_certs(path: Option<&std::path::Path>) -> Result<Vec<reqwest::Certificate>, String> {
    path.map_or(Ok(Vec::new()), crate::run::http::Transport::load_ca_certs)
}

/// Stubs when a stubs file is given, else real HTTP trusting `ca_certs` too.
fn transport(
    stubs: Option<&std::path::Path>,
    ca_certs: &[reqwest::Certificate],
) -> Result<crate::run::http::Transport, String> {
    use crate::run::http::Transport;
    match stubs {
        Some(p) => {
            crate::run::stubs::Stubs::load(p).map(|s| Transport::Stubs(std::sync::Arc::new(s)))
        }
        None => Transport::http_trusting(ca_certs),
    }
}

fn repl(args: &ReplArgs, color: ColorChoice) -> u8 {
    let env = match crate::run::secrets::Env::load(args.env_file.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    // Kept for `:stubs off`, which builds a real HTTP client later.
    let certs = match ca_certs(args.ca_cert.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let transport = match transport(args.stubs.as_deref(), &certs) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let mut session = crate::repl::session::Session::new(
        transport,
        env,
        color.enabled(std::io::stdout().is_terminal()),
    );
    session.ca_certs = certs;
    crate::repl::run(&args.scripts, session, &runtime)
}
