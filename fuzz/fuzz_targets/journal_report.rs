//! The journal reader and `report`: any file gives entries or an error naming the line,
//! and any entries give a Markdown and a JSON report.
#![no_main]

use breakglass::journal::{self, report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("j.jsonl");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(entries) = journal::read(&path) {
        let _ = report::markdown(&entries, "j.jsonl");
        let _ = report::json(&entries, "j.jsonl");
    }
});
