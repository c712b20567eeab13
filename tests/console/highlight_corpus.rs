//! `breakglass highlight` output for the bench corpus stays byte-identical when rules are
//! added: ANSI (colour and `NO_COLOR`) and JSON, against files made by the build before.
//! `UPDATE_GOLDEN=1` rewrites them (only when the change to the output is intended).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[path = "../../benches/support/corpus.rs"]
mod corpus_gen;

/// Two and a half periods of the corpus's 24-entry cycle, stack frames included.
const LINES: usize = 200;

fn highlight(args: &[&str], env: &[(&str, &str)], input: Vec<u8>) -> Vec<u8> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
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

#[test]
fn highlight_output_for_the_bench_corpus_is_unchanged() {
    let input: Vec<u8> = corpus_gen::corpus(LINES)
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 3] = [
        ("highlight_corpus.ansi", &[], &[]),
        ("highlight_corpus.nocolor", &[], &[("NO_COLOR", "1")]),
        ("highlight_corpus.json", &["--format", "json"], &[]),
    ];
    for (file, args, env) in cases {
        let got = highlight(args, env, input.clone());
        let path = dir.join(file);
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
