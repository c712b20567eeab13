//! The user pattern-file loader: any text as a `--patterns` file gives rules and problems,
//! never a panic; the rules that loaded then classify and mark a line, and the file's own
//! first line. The file is read alone (`RuleSet::from_text`): loading it over the built-in
//! rules compiles all of them again for every input, about 2 inputs/s under the sanitizer.
//! (Bytes that are not UTF-8 are a file error in `RuleSet::load`, before any parsing.)
#![no_main]

use breakglass::patterns::RuleSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = RuleSet::from_text(text, "fuzz.toml");
    for p in set.problems() {
        let _ = p.to_string();
    }
    for line in [
        "upgrade-executor error: failed to read Raft configuration",
        text.lines().next().unwrap_or_default(),
    ] {
        let _ = set.classify(line);
        let spans = set.spans(line);
        for s in &spans {
            assert!(
                s.range.start <= s.range.end && s.range.end <= line.len(),
                "{:?} in {line:?}",
                s.range
            );
        }
    }
});
