//! The here-document as YAML: every line fits, the shell reads the rows as one command, and
//! the YAML read back is the JSON object sent.

use serde_json::{Value, json};

use super::{fit, yaml};
use crate::app::wizard::tests::{KEY, facts};
use crate::app::wizard::{Step, Wizard};
use crate::domain::kubectl_cmd::wrap;

/// The wizard's "Create the OpenBaoRestore" request: its kubectl line and its body.
fn create_restore() -> (String, Value) {
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    w.step = Step::CreateRestore;
    let r = w.request().unwrap().unwrap();
    (r.kubectl().unwrap().line, r.body().unwrap())
}

/// What a POSIX shell feeds kubectl on stdin when it runs `rows` (kubectl replaced by
/// `cat`), after `sh -n` found the script well formed.
pub(crate) fn stdin_of(rows: &[String]) -> String {
    let script = rows.join("\n");
    let check = std::process::Command::new("sh")
        .args(["-n", "-c", &script])
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}\n{script}");
    let run = format!("kubectl() {{ cat; }}\n{script}");
    let out = std::process::Command::new("sh")
        .args(["-c", &run])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}\n{script}");
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn read_back(doc: &str) -> Value {
    serde_yaml::from_str(doc).unwrap_or_else(|e| panic!("{e}:\n{doc}"))
}

#[test]
fn the_create_restore_command_fits_every_width_and_sends_the_same_object() {
    let (line, body) = create_restore();
    assert!(line.lines().any(|l| l.chars().count() > 200), "{line}");
    for width in [20, 33, 40, 57, 78, 110] {
        let rows = wrap(&fit(&line, width), width);
        if width >= 40 {
            for r in &rows {
                assert!(r.chars().count() <= width, "{width}: {r:?} in {rows:#?}");
            }
        }
        assert_eq!(read_back(&stdin_of(&rows)), body, "{width}: {rows:#?}");
        assert_eq!(rows.last().map(String::as_str), Some("EOF"));
    }
    // At 80 columns (78 inside the wizard) the key is folded, the rest is plain YAML.
    let rows = wrap(&fit(&line, 78), 78);
    assert_eq!(
        rows[..4],
        [
            "kubectl --namespace=security create --filename=- <<'EOF'",
            "apiVersion: \"openbao.org/v1alpha1\"",
            "kind: \"OpenBaoRestore\"",
            "metadata:",
        ]
    );
    assert!(
        rows.iter().any(
            |r| r.starts_with("    key: \"security/prod-cluster/pre-upgrade-") && r.ends_with('\\')
        ),
        "{rows:#?}"
    );
    // The unwrapped command with the fitted body is runnable too (what `y` copies).
    assert_eq!(
        read_back(&stdin_of(&[fit(&line, 78)])),
        body,
        "{}",
        fit(&line, 78)
    );
}

#[test]
fn awkward_strings_and_shapes_read_back_the_same_at_every_width() {
    let value = json!({
        "spaces": "a  b   c    d     e      f       g        h         i          j",
        "quotes": "it's \"quoted\" and \\ back\\slashed \\n not a newline",
        "escapes": "line\nbreak\ttab \u{1} bell é 雪 🦀 end",
        "on": "a YAML 1.1 boolean key",
        "with space": true,
        "EOF": "not the end",
        "n": null,
        "nums": [0, -3, 12345678901234_i64, 1.5],
        "empty": {}, "none": [],
        "list": [{"name": "a", "value": "x".repeat(90)}, ["nested", "array"], "plain"],
        "deep": {"a": {"b": {"c": {"d": " leading and trailing spaces "}}}},
    });
    for width in 8..=90 {
        let doc = yaml(&value, width).join("\n");
        assert_eq!(read_back(&doc), value, "width {width}:\n{doc}");
        assert!(!doc.lines().any(|l| l == "EOF"), "{doc}");
    }
    // Only the nesting and keys may overflow a narrow width, never a string's text.
    for width in [30, 40, 60] {
        for l in yaml(&value, width) {
            assert!(
                l.chars().count() <= width || !l.contains('"'),
                "{width}: {l:?}"
            );
        }
    }
}

#[test]
fn a_command_without_a_here_document_is_left_alone() {
    let patch = r#"kubectl --namespace=security patch statefulsets.apps prod-blue --type=merge --patch='{"spec":{"replicas":0}}'"#;
    assert_eq!(fit(patch, 40), patch);
    let not_json = "kubectl create --filename=- <<'EOF'\nkind: x\nEOF";
    assert_eq!(fit(not_json, 10), not_json);
}
