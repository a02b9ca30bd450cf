fn main() -> std::process::ExitCode {
    workers_ci::cli::main()
}
