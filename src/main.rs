use clap::Parser;
use mandelfly::{cli::Cli, commands, error::Error};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = commands::run(cli) {
        eprintln!("mandelfly: error: {e}");
        let code = match e {
            // Bad input: the same exit code clap uses for bad arguments.
            Error::Source(_) | Error::InvalidArgument(_) => 2,
            // The shell's code for a SIGINT death, though the output was finalised.
            Error::Interrupted(_) => 130,
            _ => 1,
        };
        std::process::exit(code);
    }
}
