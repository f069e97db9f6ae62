//! Ctrl-C and SIGTERM for the whole process.
//!
//! `main` installs one handler before any command runs, so a signal that arrives while a
//! command is still starting cannot leave a temporary file behind. A command that checks for
//! a stop between frames (a render) calls [`cooperate`] and finishes what it has; for every
//! other command the handler removes the temporary files still open and exits with 130.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static COOPERATIVE: AtomicBool = AtomicBool::new(false);
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Held while a temporary file is made and registered, or opened again by path (FFmpeg opens
/// its output by name on its own thread): the handler takes it before removing the files, so
/// it never runs between a file's creation and its registration, nor removes a file that is
/// about to be created again.
static FILES: Mutex<()> = Mutex::new(());

/// Installs the handler (once per process; later calls do nothing).
pub fn install() {
    let _ = ctrlc::set_handler(handle);
}

fn handle() {
    // The first signal asks a cooperating command to stop; a second one abandons it.
    if COOPERATIVE.load(Ordering::SeqCst) && !STOP.swap(true, Ordering::SeqCst) {
        return;
    }
    // Held until the process ends: no file is made after the removal.
    let _files = FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    remove_temps();
    eprintln!("mandelfly: interrupted");
    std::process::exit(130);
}

/// Runs `f`, which creates a temporary file (and registers it) or opens one by its path, with
/// the handler held off until it returns.
pub fn making_files<T>(f: impl FnOnce() -> T) -> T {
    let _files = FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    f()
}

/// Removes every registered temporary file (the process is about to end).
fn remove_temps() {
    let temps = match TEMPS.lock() {
        Ok(t) => t.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for t in temps {
        let _ = std::fs::remove_file(t);
    }
}

/// From now on the caller checks the returned flag and stops by itself on a signal.
pub fn cooperate() -> &'static AtomicBool {
    COOPERATIVE.store(true, Ordering::SeqCst);
    &STOP
}

/// Has a stop been asked for?
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// A temporary file to remove if the process is interrupted.
pub fn register(path: &Path) {
    if let Ok(mut t) = TEMPS.lock() {
        t.push(path.to_path_buf());
    }
}

/// The file was renamed into place or removed: nothing to do for it any more.
pub fn unregister(path: &Path) {
    if let Ok(mut t) = TEMPS.lock()
        && let Some(i) = t.iter().position(|p| p == path)
    {
        t.swap_remove(i);
    }
}
