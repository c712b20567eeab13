//! Reading rule files: TOML `[[rule]]` tables, checked one by one so that a broken rule
//! names its file, line and id and the other rules still load.

use std::fmt;
use std::path::PathBuf;

use regex::Regex;
use toml::{Spanned, Table, Value};

use super::{Resolution, Rule, RuleSource, Severity};

/// One thing wrong with a rule file. `Display`: `FILE:LINE: rule "ID": MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub file: String,
    /// 1-based; 0 when the problem is not tied to a line (unreadable file).
    pub line: usize,
    pub rule: Option<String>,
    pub message: String,
}

impl RuleProblem {
    pub(super) fn file(file: &str, message: &str) -> RuleProblem {
        RuleProblem {
            file: file.to_string(),
            line: 0,
            rule: None,
            message: message.to_string(),
        }
    }

    pub(super) fn whole_set(message: &str) -> RuleProblem {
        RuleProblem::file("(all rules)", message)
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(r) = &self.rule {
            write!(f, ": rule \"{r}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// `$XDG_CONFIG_HOME/breakglass/patterns.toml`, else `~/.config/breakglass/patterns.toml`.
pub(crate) fn user_config_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("breakglass").join("patterns.toml"))
}

#[derive(serde::Deserialize)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<Table>>,
}

/// 1-based line number of a byte offset (for problems that name file and line).
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count())
        + 1
}

/// A parsed entry: a rule, or a request to drop the rule with this id (`disabled = true`).
pub(super) enum Entry {
    Rule(Rule),
    Disable(String),
}

/// Parse `text`; every problem is pushed and the good rules returned.
pub(super) fn parse(text: &str, file: &str, problems: &mut Vec<RuleProblem>) -> Vec<Entry> {
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            problems.push(RuleProblem {
                file: file.to_string(),
                line: e.span().map_or(0, |s| line_of(text, s.start)),
                rule: None,
                message: format!("not a valid rule file: {}", e.message()),
            });
            return Vec::new();
        }
    };
    let mut out: Vec<Entry> = Vec::new();
    for spanned in raw.rule {
        let line = line_of(text, spanned.span().start);
        let table = spanned.into_inner();
        let id = table.get("id").and_then(Value::as_str).map(str::to_string);
        match entry(&table, file) {
            Ok(e) => {
                let dup = match &e {
                    Entry::Rule(r) => out
                        .iter()
                        .any(|o| matches!(o, Entry::Rule(x) if x.id == r.id)),
                    Entry::Disable(_) => false,
                };
                if dup {
                    problems.push(RuleProblem {
                        file: file.to_string(),
                        line,
                        rule: id,
                        message: "duplicate id in this file (the first one is kept)".into(),
                    });
                } else {
                    out.push(e);
                }
            }
            Err(message) => problems.push(RuleProblem {
                file: file.to_string(),
                line,
                rule: id,
                message,
            }),
        }
    }
    out
}

fn text<'a>(t: &'a Table, key: &str) -> Result<&'a str, String> {
    match t.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("{key} must be a string, not {}", other.type_str())),
        None => Err(format!("{key} is missing")),
    }
}

const KEYS: [&str; 10] = [
    "id",
    "regex",
    "severity",
    "meaning",
    "path",
    "source",
    "in_code",
    "generations",
    "uncapped",
    "disabled",
];

/// The operator lines a rule can name (`generations`), README "Operator generations".
pub(crate) const GENERATIONS: [&str; 3] = ["0.1", "0.2-0.5.0", "0.6"];

/// `generations = ["0.1", "0.6"]`: the operator lines whose source prints the string (an
/// empty list: none does, e.g. the runbook's own strings). Absent: not said (user rules).
fn generations(t: &Table) -> Result<Option<Vec<String>>, String> {
    let Some(v) = t.get("generations") else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(format!(
            "generations must be a list of strings, not {}",
            v.type_str()
        ));
    };
    let mut out = Vec::new();
    for item in items {
        match item.as_str() {
            Some(g) if GENERATIONS.contains(&g) => {
                if out.iter().any(|o| o == g) {
                    return Err(format!("generations lists {g:?} twice"));
                }
                out.push(g.to_string());
            }
            Some(g) => {
                return Err(format!(
                    "generation {g:?} is not one of {}",
                    GENERATIONS.join(", ")
                ));
            }
            None => {
                return Err(format!(
                    "generations must be strings, not {}",
                    item.type_str()
                ));
            }
        }
    }
    Ok(Some(out))
}

fn entry(t: &Table, file: &str) -> Result<Entry, String> {
    let id = text(t, "id")?;
    if id.is_empty() {
        return Err("id is empty".into());
    }
    if let Some(k) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?} (known: {})", KEYS.join(", ")));
    }
    if t.get("disabled").and_then(Value::as_bool) == Some(true) {
        return Ok(Entry::Disable(id.to_string()));
    }
    let pattern = text(t, "regex")?;
    let regex = Regex::new(pattern).map_err(|e| {
        // regex's message draws a caret diagram over several lines; keep its last line.
        let text = e.to_string();
        let last = text.lines().map(str::trim).rfind(|l| !l.is_empty());
        format!("regex does not compile: {}", last.unwrap_or("invalid"))
    })?;
    if regex.is_match("") {
        return Err("regex matches the empty string (it would match every line)".into());
    }
    let severity = match text(t, "severity")? {
        "error" => Severity::Error,
        "warn" => Severity::Warn,
        "info" => Severity::Info,
        other => return Err(format!("severity {other:?} is not error, warn or info")),
    };
    let path = match t.get("path") {
        None => Resolution::None,
        Some(_) => match text(t, "path")? {
            "retry" => Resolution::Retry,
            "fix-forward" => Resolution::FixForward,
            "restore" => Resolution::Restore,
            "none" => Resolution::None,
            other => {
                return Err(format!(
                    "path {other:?} is not retry, fix-forward, restore or none"
                ));
            }
        },
    };
    let source = match t.get("source") {
        None => RuleSource::OperatorCode,
        Some(_) => match text(t, "source")? {
            "runbook" => RuleSource::Runbook,
            "operator-code" => RuleSource::OperatorCode,
            other => return Err(format!("source {other:?} is not runbook or operator-code")),
        },
    };
    let generations = generations(t)?;
    let uncapped = match t.get("uncapped") {
        None => false,
        Some(Value::Boolean(b)) => *b,
        Some(other) => {
            return Err(format!(
                "uncapped must be true or false, not {}",
                other.type_str()
            ));
        }
    };
    let in_operator_code = match t.get("in_code") {
        None => true,
        Some(Value::Boolean(b)) => *b,
        Some(other) => {
            return Err(format!(
                "in_code must be true or false, not {}",
                other.type_str()
            ));
        }
    };
    Ok(Entry::Rule(Rule {
        id: id.to_string(),
        pattern: pattern.to_string(),
        severity,
        meaning: text(t, "meaning")?.to_string(),
        path,
        source,
        in_operator_code,
        generations,
        uncapped,
        origin: file.to_string(),
        regex,
    }))
}

/// Apply `user` on top of `base`: same id replaces in place, `disabled` removes, new rules
/// go first (a user's rule is usually more specific than the built-ins).
pub(super) fn merge(base: Vec<Rule>, user: Vec<Entry>) -> Vec<Rule> {
    let mut base = base;
    let mut new = Vec::new();
    for e in user {
        match e {
            Entry::Disable(id) => base.retain(|r| r.id != id),
            Entry::Rule(r) => match base.iter_mut().find(|b| b.id == r.id) {
                Some(slot) => *slot = r,
                None => new.push(r),
            },
        }
    }
    new.extend(base);
    new
}

/// The rules of a parsed file, ignoring `disabled` entries (for the built-ins).
pub(super) fn rules_only(entries: Vec<Entry>) -> Vec<Rule> {
    entries
        .into_iter()
        .filter_map(|e| match e {
            Entry::Rule(r) => Some(r),
            Entry::Disable(_) => None,
        })
        .collect()
}
