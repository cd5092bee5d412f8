fn main() -> std::process::ExitCode {
    callhook::cli::main()
}
