//! The `mlreef` binary: the command of `mlreef_cli`.

fn main() -> std::process::ExitCode {
    mlreef_cli::run(std::env::args_os()).into()
}
