//! `breakglass highlight`: the real binary as a stdin → stdout filter.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn highlight(args: &[&str], input: &[u8], env: &[(&str, &str)]) -> (String, String, bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
    cmd.arg("highlight")
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

const LOG: &[u8] = b"2026-11-23T19:30:01.123Z\tINFO\tUpgrade executor starting\t{\"action\": \"bluegreen-repair-consensus\"}\n\
upgrade-executor error: failed to read Raft configuration for consensus repair: raft configuration request failed with status 403: permission denied\n\
evil \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J token hvs.CAESIJlWh0sM3p1k3Pq2uYQkq0i8xqT5n7vQw1y \xff\xfe bytes\n";

#[test]
fn json_names_the_rules_and_redacts() {
    let (out, err, ok) = highlight(&["--format", "json"], LOG, &[]);
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["rule"], serde_json::Value::Null);
    assert_eq!(rows[1]["rule"], "raft-config-forbidden");
    assert_eq!(rows[1]["severity"], "error");
    assert_eq!(rows[1]["path"], "fix-forward");
    let ids: Vec<&str> = rows[1]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["rule"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"executor-error"), "{ids:?}");
    let text = rows[2]["text"].as_str().unwrap();
    assert!(text.contains("[REDACTED:token]"), "{text}");
    assert!(!text.contains("hvs.") && !text.contains("ZWNo") && !text.contains('\u{1b}'));
    assert!(
        text.contains('\u{FFFD}'),
        "invalid UTF-8 is shown lossily: {text}"
    );
}

#[test]
fn ansi_badges_and_styles_and_lets_no_input_escape_through() {
    let (out, _, ok) = highlight(&[], LOG, &[("NO_COLOR", "1")]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("      2026-11-23T19:30:01.123Z"),
        "{:?}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("\x1b[1;4m[ERR]\x1b[0m "),
        "{:?}",
        lines[1]
    );
    assert!(lines[1].contains("\x1b[1;4mupgrade-executor error:\x1b[0m"));
    // The only escapes in the output are SGR sequences we wrote.
    for l in &lines {
        let mut rest = *l;
        while let Some(i) = rest.find('\x1b') {
            let tail = &rest[i..];
            assert!(
                tail.starts_with("\x1b[0m")
                    || tail.starts_with("\x1b[1;4m")
                    || tail.starts_with("\x1b[4m"),
                "foreign escape in {l:?}"
            );
            rest = &tail[1..];
        }
    }
}

#[test]
fn a_broken_user_rule_is_reported_and_the_rest_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        "[[rule]]\nid = \"mine\"\nregex = 'Upgrade executor starting'\nseverity = \"info\"\nmeaning = \"m\"\n\n[[rule]]\nid = \"broken\"\nregex = '('\nseverity = \"error\"\nmeaning = \"m\"\n",
    )
    .unwrap();
    let (out, err, ok) = highlight(
        &["--patterns", file.to_str().unwrap(), "--format", "json"],
        LOG,
        &[],
    );
    assert!(ok, "a broken rule never stops the tool: {err}");
    assert!(
        err.contains(&format!(
            "{}:7: rule \"broken\": regex does not compile",
            file.display()
        )),
        "{err}"
    );
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["rule"], "mine");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let big: Vec<u8> = LOG.repeat(20_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .arg("highlight")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&big);
    });
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kubectl logs -f … | breakglass highlight`: each line shows up while the input is still
/// open, not when 256 KiB have gathered or the stream ends.
#[test]
fn a_followed_stream_shows_each_line_before_the_input_ends() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .arg("highlight")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // Generous: a loaded CI machine, a debug build. The bug this catches waits forever.
    let wait = Duration::from_secs(30);
    stdin
        .write_all(b"upgrade-executor error: no leader found\n")
        .unwrap();
    stdin.flush().unwrap();
    let first = rx.recv_timeout(wait);
    stdin.write_all(b"still following\n").unwrap();
    stdin.flush().unwrap();
    let second = rx.recv_timeout(wait);
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let first = first.expect("the first line came out while the input was open");
    assert!(first.starts_with("\x1b[1;4m[ERR]\x1b[0m "), "{first:?}");
    let second = second.expect("the second line came out while the input was open");
    assert_eq!(second, "      still following");
    assert!(status.success());
}

/// `$XDG_CONFIG_HOME/breakglass/config.toml`: its `color` and `patterns` apply, an unknown
/// key is reported with file and line and the rest still applies; `--color` wins over the
/// file, and an explicit colour wins over NO_COLOR.
#[test]
fn the_config_file_sets_defaults_and_names_a_bad_key_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("breakglass");
    std::fs::create_dir(&conf).unwrap();
    let rules = dir.path().join("team.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"team-rule\"\nregex = 'Upgrade executor starting'\nseverity = \"info\"\nmeaning = \"m\"\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("config.toml"),
        format!(
            "color = \"never\"\nlog_linez = 5\npatterns = [\"{}\"]\n",
            rules.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
        cmd.arg("highlight")
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path())
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(LOG).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // A foreground colour parameter (red 31, cyan 36) in any SGR sequence.
    let coloured = |s: &str| s.contains("31m") || s.contains("36m");
    let (out, err) = run(&[], &[]);
    assert!(
        err.contains(&format!(
            "{}:2: unknown key `log_linez`",
            conf.join("config.toml").display()
        )),
        "{err}"
    );
    assert!(!coloured(&out), "config color = never: {out:?}");
    let (json, _) = run(&["--format", "json"], &[]);
    assert!(
        json.contains("\"team-rule\""),
        "config patterns apply: {json}"
    );
    let (out, _) = run(&["--color", "always"], &[("NO_COLOR", "1")]);
    assert!(coloured(&out), "--color always wins: {out:?}");
}
