//! `breakglass highlight` output for the bench corpus and for hostile input stays
//! byte-identical when rules are added or the engine changes: ANSI (colour and `NO_COLOR`)
//! and JSON, against files made by the build before. `UPDATE_GOLDEN=1` rewrites them (only
//! when the change to the output is intended), with the binary `GOLDEN_BIN` names if set (an
//! older build, to check that a faster engine writes what the old one wrote).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[path = "../../benches/support/corpus.rs"]
mod corpus_gen;

/// Two and a half periods of the corpus's 24-entry cycle, stack frames included.
const LINES: usize = 200;

fn highlight(args: &[&str], env: &[(&str, &str)], input: Vec<u8>) -> Vec<u8> {
    let bin = std::env::var_os("GOLDEN_BIN").unwrap_or(env!("CARGO_BIN_EXE_breakglass").into());
    let mut cmd = Command::new(bin);
    cmd.arg("highlight")
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Lines that take every path through the engine: escape sequences, CRLF, invalid UTF-8,
/// non-ASCII case folds (`ſ` matches `s` in a `(?i)` rule), secrets to redact, a tab whose
/// expansion makes a rule's text match, continuation lines, a line too long to keep whole,
/// and no newline at the end.
fn hostile() -> Vec<u8> {
    let long = format!(
        "{}\tERROR\tdial tcp {}",
        "x".repeat(5_000),
        "y".repeat(20_000)
    );
    let lines: Vec<Vec<u8>> = vec![
        b"2026-11-23T19:30:01.123Z\tERROR\tconnection refused \x1b]52;c;ZWNobyBwd25lZA==\x07 done"
            .to_vec(),
        b"2026-11-23T19:30:01.124Z\tWARN\tdial tcp 10.0.0.1:8200\r".to_vec(),
        b"\x1b[2J\x1b[H upgrade-executor error: cleared \x9b2J csi".to_vec(),
        b"\xff\xfe upgrade-executor error: \xc3 invalid utf-8".to_vec(),
        "upgrade-executor error: raft log index mi\u{17f}match"
            .as_bytes()
            .to_vec(),
        "RAFT LOG INDEX MISMATCH \u{202e}bidi".as_bytes().to_vec(),
        b"login token=hvs.CAESIJlWh0sM3p1k3Pq2uYQkq0i8xqT5n7vQw upgrade-executor error: bad"
            .to_vec(),
        br#"{"auth": {"client_token": "s.Zx4Jq2Lm8Np0Rt6Vw3Yb5Cd7"}} permission denied"#.to_vec(),
        b"abfailed to\tread Raft configuration: x\tERROR\ty".to_vec(),
        b"\tupgrade-executor error: a stack frame".to_vec(),
        b"    connection refused, indented".to_vec(),
        b"".to_vec(),
        b"Connection Refused\tContext Deadline Exceeded\tstatus 403".to_vec(),
        long.into_bytes(),
        b"Leader search completed\t{\"decision_path\": \"primary_success\"}".to_vec(),
        b"no newline at the end: upgrade-executor error:".to_vec(),
    ];
    lines.join(&b"\n"[..])
}

fn compare(name: &str, input: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 3] = [
        ("ansi", &[], &[]),
        ("nocolor", &[], &[("NO_COLOR", "1")]),
        ("json", &["--format", "json"], &[]),
    ];
    for (ext, args, env) in cases {
        let file = format!("{name}.{ext}");
        let got = highlight(args, env, input.to_vec());
        let path = dir.join(&file);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap();
        if got != want {
            let (g, w) = (
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
            );
            let first = g
                .lines()
                .zip(w.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{file}: output changed at line {}:\n got {:?}\nwant {:?}",
                first + 1,
                g.lines().nth(first),
                w.lines().nth(first)
            );
        }
    }
}

#[test]
fn highlight_output_for_the_bench_corpus_is_unchanged() {
    let input: Vec<u8> = corpus_gen::corpus(LINES)
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    compare("highlight_corpus", &input);
}

#[test]
fn highlight_output_for_hostile_input_is_unchanged() {
    compare("highlight_hostile", &hostile());
}
