//! The `koppeling` binary: parse the command line, run it, decide the exit code.

fn main() -> std::process::ExitCode {
    koppeling::cli::main()
}
