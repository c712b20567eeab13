//! `highlight`'s own tests: escapes, order across chunks, one core against the workers, and
//! the literal prefilter's fast path against the full scan.

use super::*;

fn ansi(input: &str, color: bool) -> String {
    let mut out = Vec::new();
    run(
        &RuleSet::builtin(),
        Format::Ansi,
        color,
        input.as_bytes(),
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn only_our_escapes_reach_the_output() {
    let out = ansi(
        "evil \x1b]52;c;ZWNobyBwd25lZA==\x07 upgrade-executor error: x\n",
        false,
    );
    assert!(!out.contains("ZWNo"), "{out:?}");
    assert!(!out.contains("\x1b]"), "{out:?}");
    assert!(out.starts_with("\x1b[1;4m[ERR]\x1b[0m "), "{out:?}");
    assert!(
        out.contains("\x1b[1;4mupgrade-executor error:\x1b[0m"),
        "{out:?}"
    );
}

#[test]
fn many_chunks_come_back_in_order_and_numbered() {
    let input: String = (0..40_000)
        .map(|i| format!("line {i} {}\n", "x".repeat(i % 50)))
        .collect();
    assert!(input.len() > 4 * CHUNK, "several chunks");
    let mut out = Vec::new();
    run(
        &RuleSet::builtin(),
        Format::Json,
        false,
        input.as_bytes(),
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 40_000);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["n"], i as u64 + 1);
        assert!(
            r["text"]
                .as_str()
                .unwrap()
                .starts_with(&format!("line {i} "))
        );
    }
}

#[test]
fn one_core_writes_what_the_workers_write() {
    let input: String = (0..30_000)
        .map(|i| match i % 3 {
            0 => format!("{i}\tERROR\tconnection refused {}\n", "x".repeat(i % 40)),
            1 => format!("{i} \x1b[2J hostile\tWARN\tdial tcp\n"),
            _ => format!("{i} plain line\n"),
        })
        .collect();
    assert!(input.len() > 2 * CHUNK, "several chunks");
    for format in [Format::Ansi, Format::Json] {
        let mut threaded = Vec::new();
        run(
            &RuleSet::builtin(),
            format,
            true,
            input.as_bytes(),
            &mut threaded,
        )
        .unwrap();
        let mut inline = Vec::new();
        filter_inline(
            &RuleSet::builtin(),
            format,
            true,
            input.as_bytes(),
            &mut inline,
        )
        .unwrap();
        assert!(threaded == inline, "{format:?}");
    }
}

/// Every line through the full scan ([`RuleSet::classify_and_spans`]), the reference the
/// literal prefilter's fast path must give byte for byte.
fn full_scan(rules: &RuleSet, format: Format, input: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in input.split('\n').enumerate() {
        let redacted = redact(line);
        let mut text = String::new();
        sanitize_into(&redacted, &mut text);
        let (matched, spans) = rules.classify_and_spans(&redacted, &text, true);
        write_line(
            rules,
            format,
            true,
            i as u64 + 1,
            &text,
            matched,
            &spans,
            &mut out,
        );
    }
    out
}

#[test]
fn the_literal_prefilter_gives_what_the_full_scan_gives() {
    // Rules whose literals hold spaces and tabs (a tab at column 7 expands to one space,
    // at column 0 to eight: `x  y` and ` error ` are made by tabs), plus the built-ins.
    let extra = [
        r"(?i)x  y",
        r"(?i) error status",
        r"a\tb",
        r"[ ]{2}z",
        r"(?i)leader \w+",
        r"(?i)quiet",
    ]
    .iter()
    .enumerate()
    .map(|(k, r)| {
        format!("[[rule]]\nid = \"x{k}\"\nregex = '{r}'\nseverity = \"warn\"\nmeaning = \"m\"\n\n")
    })
    .collect::<String>();
    let rules = RuleSet::from_text(&format!("{extra}{}", crate::patterns::BUILTIN_TOML), "test");
    assert!(rules.problems().is_empty(), "{:?}", rules.problems());
    let words = [
        "x",
        "y",
        "\t",
        " ",
        "  ",
        "ERROR",
        "error",
        "status",
        "a",
        "b",
        "z",
        "Leader",
        "not",
        "found",
        "connection refused",
        "upgrade-executor error:",
        "\tERROR\t",
        "QUIET",
        "1234567",
        "raft",
        "permission denied",
        "é",
        "\x1b[2J",
        "hvs.",
        "abcdefghijklmnopqrstuvwx",
    ];
    // A fixed pseudo-random walk over the words (the same lines every run).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut input = String::new();
    for _ in 0..20_000 {
        let len = 1 + (seed >> 60) as usize;
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            input.push_str(words[(seed % words.len() as u64) as usize]);
        }
        input.push('\n');
    }
    input.pop();
    for format in [Format::Ansi, Format::Json] {
        let mut fast = Vec::new();
        filter_inline(&rules, format, true, input.as_bytes(), &mut fast).unwrap();
        let reference = full_scan(&rules, format, &input);
        let badged = reference
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"\x1b[1;4;33m"))
            .count();
        assert!(
            format == Format::Json || badged > 1000,
            "{badged} lines badged warn"
        );
        if fast != reference {
            let (f, r) = (
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&reference),
            );
            let (a, b) = f
                .lines()
                .zip(r.lines())
                .find(|(a, b)| a != b)
                .unwrap_or_default();
            panic!("{format:?} differs:\nfast:      {a:?}\nfull scan: {b:?}");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn an_output_pipe_is_grown_and_a_file_left_alone() {
    let (_r, w) = rustix::pipe::pipe().unwrap();
    let before = rustix::pipe::fcntl_getpipe_size(&w).unwrap();
    let limit: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    roomy_pipe(&w);
    let after = rustix::pipe::fcntl_getpipe_size(&w).unwrap();
    if PIPE <= limit {
        assert_eq!(after, PIPE, "was {before}");
    }
    let file = tempfile::tempfile().unwrap();
    roomy_pipe(&file);
}

#[test]
fn unmatched_lines_pass_through_with_an_empty_gutter() {
    assert_eq!(ansi("plain\nsecond", true), "      plain\n      second\n");
}
