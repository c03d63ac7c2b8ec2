//! `shoplab`: every engine capability, headless. The only place that turns errors into exit
//! codes: 0 done, 1 an error (its chain printed once), 130 interrupted by Ctrl-C.

mod cli;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        // Interrupted by Ctrl-C (a cancelled run), as shells expect.
        Ok(()) if progress::interrupted() => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
