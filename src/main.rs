use clap::Parser;
use mandelfly::{cli::Cli, commands, error::Error};

fn main() {
    // Output into a closed pipe (`mandelfly info | head -1`) ends the program quietly, as for
    // any Unix tool, instead of a panic in println!.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // SVT-AV1 prints its configuration on every open unless told otherwise (set before any
    // thread starts: the environment is not thread-safe).
    if std::env::var_os("SVT_LOG").is_none() {
        unsafe { std::env::set_var("SVT_LOG", "1") };
    }
    // Mesa's window-system code complains on every run when XDG_RUNTIME_DIR is missing,
    // though nothing here needs it: give it a private one (as scripts/env.sh does).
    #[cfg(unix)]
    private_runtime_dir();
    // Before anything else, so that no signal finds a temporary file without its handler.
    mandelfly::interrupt::install();
    let cli = Cli::parse();
    if let Err(e) = commands::run(cli) {
        // The same form as clap's own errors: "error:" in bold red on a terminal, unless
        // NO_COLOR is set.
        use std::io::IsTerminal;
        let colour = std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        if colour {
            eprintln!("\x1b[1;31merror:\x1b[0m {e}");
        } else {
            eprintln!("error: {e}");
        }
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

/// Sets XDG_RUNTIME_DIR to a private directory (mode 0700) when it is unset or not a directory.
/// Runs before any thread starts: the environment is not thread-safe.
#[cfg(unix)]
fn private_runtime_dir() {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir()) {
        return;
    }
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("mandelfly-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    // Only a directory of our own, never one another user planted.
    let ours = std::fs::symlink_metadata(&dir)
        .is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0);
    if ours {
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}
