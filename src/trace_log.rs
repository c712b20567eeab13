//! The log file: `tracing` events (the simulator's and the sources' warnings, e.g. "real
//! OpenBao nodes did not start") are appended to `$XDG_STATE_HOME/breakglass/breakglass.log`
//! instead of being dropped; the terminal belongs to the console. Installed once by the
//! long-running commands (console, `demo`, `sim`); the help overlay shows where it is.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;

/// The file's name in the state directory (next to the incident journals).
pub(crate) const FILE_NAME: &str = "breakglass.log";

/// What `install` answered: the file, or why there is none.
static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The subscriber: plain text (no colour codes), INFO and above, appended to `file`.
fn subscriber(file: File) -> impl Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(LevelFilter::INFO)
        .with_writer(Mutex::new(file))
        .finish()
}

fn open(path: &Path) -> Result<File, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Install the log file as the process's `tracing` subscriber (once; later calls answer
/// the first one's result).
pub fn install() -> Result<PathBuf, String> {
    INSTALLED
        .get_or_init(|| {
            let path = crate::journal::state_dir()
                .map(|d| d.join(FILE_NAME))
                .ok_or("no state directory ($XDG_STATE_HOME or $HOME unset)")?;
            let file = open(&path)?;
            tracing::subscriber::set_global_default(subscriber(file)).map_err(|e| e.to_string())?;
            Ok(path)
        })
        .clone()
}

/// For `sim`, which has no console: the same events on stderr.
pub(crate) fn install_stderr() {
    let s = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(LevelFilter::INFO)
        .with_writer(std::io::stderr)
        .finish();
    // Already installed (only in tests that call it twice): the first one stays.
    let _ = tracing::subscriber::set_global_default(s);
}

/// One line for the help overlay: where warnings go.
pub fn status() -> String {
    match INSTALLED.get() {
        Some(Ok(p)) => format!("log: {}", p.display()),
        Some(Err(e)) => format!("log: not kept ({e})"),
        None => "log: not kept".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_appended_as_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join(FILE_NAME);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "earlier\n").unwrap();
        let s = subscriber(open(&path).unwrap());
        tracing::subscriber::with_default(s, || {
            tracing::warn!("real OpenBao nodes did not start: no bao binary");
            tracing::debug!("not kept below INFO");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("earlier\n"), "{text}");
        assert!(
            text.contains("WARN") && text.contains("real OpenBao nodes did not start"),
            "{text}"
        );
        assert!(!text.contains("not kept below INFO"), "{text}");
        assert!(!text.contains('\x1b'), "no colour codes: {text:?}");
    }
}
