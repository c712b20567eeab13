//! The log line path as `highlight` runs it: sanitise → redact → classify → spans, in
//! both output formats, with and without colour. Any panic is a finding.
#![no_main]

use breakglass::highlight::{Format, run};
use breakglass::patterns::RuleSet;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(RuleSet::builtin)
}

fuzz_target!(|data: &[u8]| {
    let (format, color) = match data.first().map(|b| b % 4) {
        Some(0) => (Format::Json, false),
        Some(1) => (Format::Ansi, false),
        _ => (Format::Ansi, true),
    };
    let mut out = Vec::new();
    let _ = run(rules(), format, color, data, &mut out);
    // Whatever came in, no raw ESC other than the styles we write reaches the output.
    if matches!(format, Format::Json) {
        assert!(!out.contains(&0x1b), "ESC in JSON output");
    }
});
