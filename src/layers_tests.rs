//! The layer rules, enforced by reading the source (README "How it is built"):
//! - `domain` imports no `app`, `ui`, `sources`, `sim`, `tui`, and no tokio, ratatui or kube;
//! - `ui` imports no `sources` (the message vocabulary is `app::msg`) and no `sim`;
//! - `runtime` imports no `ui`, `tui`, `terminal`, ratatui or crossterm (it needs no terminal);
//! - live code outside `src/sim` never reaches `sim`, except the demo and sim entry points
//!   (`src/cli.rs`).
//!
//! Test code (files named `*tests*.rs` and `fixtures.rs`, `#[cfg(test)]` items) is exempt.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.contains("tests") || name == "fixtures.rs"
}

/// The live lines of a file: comments dropped, `#[cfg(test)]` module declarations
/// skipped, and everything from a `#[cfg(test)]` inline module to the end (test modules
/// close the file).
fn live_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]" {
            // Attributes between it and the item belong to the test item too.
            while lines
                .peek()
                .is_some_and(|(_, l)| l.trim().starts_with("#["))
            {
                lines.next();
            }
            match lines.next() {
                Some((_, item)) if item.trim_end().ends_with(';') => continue,
                _ => break,
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push((n + 1, line.to_string()));
    }
    out
}

/// Every `(file:line, text)` of live code under `src/<under>` that mentions one of `needles`.
fn offenders(under: &str, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join(under), &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if is_test_file(&f) || allowed.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in live_lines(&text) {
            if needles.iter().any(|needle| line.contains(needle)) {
                out.push(format!("src/{rel}:{n}: {}", line.trim()));
            }
        }
    }
    out
}

#[test]
fn domain_imports_no_outer_layer_and_no_io() {
    let found = offenders(
        "domain",
        &[
            "crate::app",
            "crate::ui",
            "crate::sources",
            "crate::sim",
            "crate::tui",
            "tokio::",
            "ratatui::",
            "kube::",
        ],
        &[],
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn ui_imports_no_sources() {
    let found = offenders("ui", &["crate::sources", "crate::sim"], &[]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_runtime_needs_no_terminal() {
    let found = offenders(
        "runtime",
        &[
            "crate::ui",
            "crate::tui",
            "crate::terminal",
            "ratatui::",
            "crossterm::",
        ],
        &[],
    );
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn live_code_never_reaches_the_simulator() {
    let found = offenders("", &["crate::sim", "sim::"], &["sim/", "cli.rs"]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_scan_sees_what_it_must_refuse() {
    // The checker itself: a live import is found, test code is not.
    let text = "use crate::sources::SourceEvent;\n// crate::sim in a comment\n#[cfg(test)]\nmod fixtures;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::sim::x;\n}\n";
    let live: Vec<String> = live_lines(text).into_iter().map(|(_, l)| l).collect();
    assert_eq!(live, ["use crate::sources::SourceEvent;", "fn f() {}"]);
}
