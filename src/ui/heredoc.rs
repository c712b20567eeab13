//! A kubectl command's here-document (the body of an object it creates) as block YAML whose
//! every line fits a width, so the Restore wizard's "Create the OpenBaoRestore" command
//! fits an 80-column terminal and its rows, pasted into a shell, are the same command.
//!
//! `kubectl_cmd` renders the body as the compact JSON the console sends: one line, often
//! wider than the screen, which no shell continuation can split (a `\` inside the
//! here-document would be part of the body). YAML is what kubectl reads too, and a
//! double-quoted YAML string may be folded over lines with an escaped line break (`\` at
//! the end of a line joins the next line's text, its indentation dropped; YAML 1.2 §7.3.1),
//! so even a long snapshot key fits. Strings are written as JSON strings (every JSON escape
//! is a YAML one), so the object read back is the one sent; `y` copies this form too.

use serde_json::Value;

/// `<<'EOF'` … `EOF` as `kubectl_cmd::render` writes it.
const OPEN: &str = " <<'EOF'\n";
const CLOSE: &str = "\nEOF";

/// `line` with its here-document's JSON body written as YAML lines of at most `width`
/// columns (when the nesting leaves room for them); a line without one is returned as is.
pub(crate) fn fit(line: &str, width: usize) -> String {
    let Some((cmd, rest)) = line.split_once(OPEN) else {
        return line.to_string();
    };
    let Some(doc) = rest.strip_suffix(CLOSE) else {
        return line.to_string();
    };
    match serde_json::from_str::<Value>(doc) {
        Ok(value @ Value::Object(_)) => {
            format!("{cmd}{OPEN}{}{CLOSE}", yaml(&value, width).join("\n"))
        }
        _ => line.to_string(),
    }
}

/// `value` (an object) as block YAML, each line at most `width` columns where possible.
pub(crate) fn yaml(value: &Value, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    node(value, 0, width, &mut out);
    out
}

fn node(value: &Value, indent: usize, width: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let head = format!("{pad}{}:", key(k));
                entry(head, v, indent, width, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    // `- first: …` with the rest of the object under it.
                    Value::Object(m) if !m.is_empty() => {
                        let start = out.len();
                        node(item, indent + 2, width, out);
                        if let Some(first) = out.get_mut(start) {
                            first.replace_range(..indent + 2, &format!("{pad}- "));
                        }
                    }
                    _ => entry(format!("{pad}-"), item, indent, width, out),
                }
            }
        }
        scalar => entry(pad, scalar, indent, width, out),
    }
}

/// `head` (`key:` or `-`) and its value: on the same line when a scalar or empty, else
/// nested two columns deeper.
fn entry(head: String, value: &Value, indent: usize, width: usize, out: &mut Vec<String>) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push(head);
            node(value, indent + 2, width, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push(head);
            node(value, indent + 2, width, out);
        }
        Value::String(s) => {
            let lead = if head.trim().is_empty() {
                head
            } else {
                format!("{head} ")
            };
            folded(&lead, s, indent + 2, width, out);
        }
        other => {
            let text = match other {
                Value::Object(_) => "{}".to_string(),
                Value::Array(_) => "[]".to_string(),
                v => v.to_string(),
            };
            out.push(format!("{head} {text}"));
        }
    }
}

/// A mapping key: plain when it cannot be read as anything but that string (YAML 1.1
/// readers take `on`, `yes`, `n` for booleans), else a quoted string.
fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { k.to_string() } else { quoted(k) }
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `lead` then `s` as a double-quoted string, folded with escaped line breaks so that no
/// line is wider than `width`; continuation lines are indented by `cont` (more than the
/// key, as YAML requires). A fold goes after a `/`, `-`, `_`, `.` or `:` near the end of
/// the row when there is one (a snapshot key breaks between its parts), never inside an
/// escape sequence; a row that would start with a space (a continuation's leading blanks
/// are dropped by the reader) starts with `\x20` instead.
fn folded(lead: &str, s: &str, cont: usize, width: usize, out: &mut Vec<String>) {
    let body = quoted(s);
    let len = |t: &str| t.chars().count();
    if len(lead) + len(&body) <= width {
        out.push(format!("{lead}{body}"));
        return;
    }
    let inner = &body[1..body.len() - 1];
    // Room for a row's text: without its lead or indentation, its quote, and the `\` or
    // closing quote at its end.
    let first_room = width.saturating_sub(len(lead) + 2);
    let room = width.saturating_sub(cont + 1);
    let mut rows: Vec<Vec<&str>> = vec![Vec::new()];
    for atom in atoms(inner) {
        if let Some(row) = rows.last_mut() {
            row.push(atom);
        }
        loop {
            let n = rows.len();
            let Some(row) = rows.last_mut() else { break };
            let limit = if n == 1 { first_room } else { room };
            if row.len() < 2 || shown_len(row, n > 1) <= limit {
                break;
            }
            let friendly = row[..row.len() - 1]
                .iter()
                .rposition(|a| ["/", "-", "_", ".", ":"].contains(a))
                .filter(|k| row.len() - 1 - k <= FOLD_LOOKBACK);
            let at = friendly.map_or(row.len() - 1, |k| k + 1);
            let carry = row.split_off(at);
            rows.push(carry);
        }
    }
    let last = rows.len() - 1;
    for (i, row) in rows.iter().enumerate() {
        let mut line = if i == 0 {
            format!("{lead}\"")
        } else {
            " ".repeat(cont)
        };
        for (j, atom) in row.iter().enumerate() {
            line.push_str(if i > 0 && j == 0 && *atom == " " {
                "\\x20"
            } else {
                atom
            });
        }
        line.push(if i == last { '"' } else { '\\' });
        out.push(line);
    }
}

/// How far back (in characters) a fold looks for a friendlier place than the row's end.
const FOLD_LOOKBACK: usize = 16;

/// A row's width as written (`\x20` for a leading space on a continuation row).
fn shown_len(row: &[&str], continuation: bool) -> usize {
    let lead = if continuation && row.first() == Some(&" ") {
        3
    } else {
        0
    };
    row.iter().map(|a| a.chars().count()).sum::<usize>() + lead
}

/// The pieces of a JSON string's inside that must stay whole: `\uXXXX`, `\n`, one char.
fn atoms(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        let n = match (c, rest.as_bytes().get(1)) {
            ('\\', Some(b'u')) => 6,
            ('\\', Some(_)) => 2,
            _ => c.len_utf8(),
        };
        let n = n.min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

#[cfg(test)]
#[path = "heredoc_tests.rs"]
pub(crate) mod tests;
