//! The user pattern-file loader: any bytes as a `--patterns` file give rules and problems,
//! never a panic; the rules that loaded then run on a line.
#![no_main]

use breakglass::highlight::{Format, run};
use breakglass::patterns::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("p.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let set = RuleSet::load(Some(&path), None);
    let mut out = Vec::new();
    let _ = run(
        &set,
        Format::Ansi,
        true,
        &b"upgrade-executor error: failed to read Raft configuration\n"[..],
        &mut out,
    );
});
