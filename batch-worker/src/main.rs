//! Container entrypoint of the AWS Batch worker.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
