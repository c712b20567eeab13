//! The kubeconfig handling the console does itself: arbitrary bytes as a kubeconfig file
//! (kube-rs's YAML parsing, multi-document merging included), then the console's context
//! selection (`sources::connect::choose_context`) with and without `--context`. Never a
//! client: building one would run a context's `exec` credential plugin. Errors are fine;
//! panics are not, and a chosen context must be one of the file's.
#![no_main]

use breakglass::sources::connect::choose_context;
use kube::config::Kubeconfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line (when there is one) is the `--context` asked for, the rest the file.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (wanted, yaml) = match text.split_once('\n') {
        Some((w, rest)) if w.len() < 64 => (Some(w), rest),
        _ => (None, text),
    };
    let Ok(kc) = Kubeconfig::from_yaml(yaml) else {
        return;
    };
    for w in [None, wanted] {
        match choose_context(&kc, w, "fuzz") {
            Ok(chosen) => assert!(kc.contexts.iter().any(|c| c.name == chosen.context)),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
