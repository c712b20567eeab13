//! The incident journal: append-only JSON lines, one file per incident, under
//! `$XDG_STATE_HOME/breakglass/` (default `~/.local/state/breakglass/`).
//!
//! One incident is one upgrade attempt of one cluster: the file is
//! `<namespace>_<cluster>_<greenRevision>.jsonl`, so the console and `breakglass ack` write
//! the same file. Each line is an [`Entry`]: when, and what (a session with who, an observed
//! state transition, a decision, a request with its redacted body, a response, an outcome).
//! `update` only produces entries as effects; the runtime appends them off the UI path.
//! `report` turns a journal into a postmortem timeline.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod observe;
pub mod report;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Someone opened the console or ran `ack`.
    Session {
        /// `console` or `ack`.
        tool: String,
        os_user: String,
        /// The Kubernetes identity (SelfSubjectReview when served, else the kubeconfig user).
        k8s_user: String,
        context: String,
        namespace: String,
        cluster: String,
    },
    /// A state transition the console saw (break glass entered, phase changed, new Job...).
    Observed { what: String },
    /// The diagnosis at the moment a path was chosen.
    Decision {
        path: String,
        recommended: Option<String>,
        summary: String,
        evidence: Vec<String>,
    },
    /// A request sent to the API server (body redacted).
    Request {
        method: String,
        path: String,
        dry_run: bool,
        body: Option<Value>,
    },
    /// The API server's answer to the request before it.
    Response { status: u16, message: String },
    /// How an action ended (acknowledged, refused and why, failed and why).
    Outcome { action: String, result: String },
}

impl Entry {
    pub fn new(at: Timestamp, event: Event) -> Entry {
        Entry { at, event }
    }
}

/// The journal directory: `$XDG_STATE_HOME/breakglass`, else `~/.local/state/breakglass`.
pub(crate) fn state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(base.join("breakglass"))
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The file name of an incident's journal.
pub fn file_name(namespace: &str, cluster: &str, green_revision: Option<&str>) -> String {
    format!(
        "{}_{}_{}.jsonl",
        safe(namespace),
        safe(cluster),
        safe(green_revision.unwrap_or("no-upgrade"))
    )
}

/// Keys whose values are never written (the kubeconfig token above all).
const SECRET_KEYS: [&str; 6] = [
    "token",
    "password",
    "secret",
    "authorization",
    "client-key-data",
    "privatekey",
];

/// Replace secret-looking values (by key) with `"<redacted>"`. References such as
/// `tokenSecretRef` name a Secret, they are not one: objects are kept and walked.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    let secret = SECRET_KEYS.iter().any(|s| lower.contains(s))
                        && !matches!(v, Value::Object(_) | Value::Array(_));
                    let v = if secret {
                        Value::String("<redacted>".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write the journal {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the journal {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} line {line}: not a journal entry: {detail}")]
    Parse {
        path: String,
        line: usize,
        detail: String,
    },
}

/// Append entries to `path` (created with its directory, mode 0600 on Unix).
pub fn append(path: &Path, entries: &[Entry]) -> Result<(), JournalError> {
    let err = |source| JournalError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(err)?;
    let mut buf = String::new();
    for e in entries {
        // Entry holds only strings, numbers and JSON values: serialising cannot fail.
        if let Ok(line) = serde_json::to_string(e) {
            buf.push_str(&line);
            buf.push('\n');
        }
    }
    file.write_all(buf.as_bytes()).map_err(err)?;
    file.flush().map_err(err)
}

/// Read a journal; a line that does not parse is an error naming the line.
pub fn read(path: &Path) -> Result<Vec<Entry>, JournalError> {
    let text = std::fs::read_to_string(path).map_err(|source| JournalError::Read {
        path: path.display().to_string(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| JournalError::Parse {
                path: path.display().to_string(),
                line: i + 1,
                detail: e.to_string(),
            })
        })
        .collect()
}

/// The OS user running breakglass.
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// Collects the requests and responses of one action, for the journal.
#[derive(Debug, Default)]
pub struct Recorder {
    pub entries: Vec<Entry>,
}

impl Recorder {
    pub fn request(&mut self, method: &str, path: &str, dry_run: bool, body: Option<&Value>) {
        self.entries.push(Entry::new(
            Timestamp::now(),
            Event::Request {
                method: method.into(),
                path: path.into(),
                dry_run,
                body: body.map(redact),
            },
        ));
    }

    pub fn response(&mut self, status: u16, message: &str) {
        self.entries.push(Entry::new(
            Timestamp::now(),
            Event::Response {
                status,
                message: message.into(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_but_references_kept() {
        let v = json!({"spec": {"token": "abc", "tokenSecretRef": {"name": "t"}, "breakGlassAck": "n"},
                       "headers": [{"Authorization": "Bearer x"}]});
        let r = redact(&v);
        assert_eq!(r["spec"]["token"], "<redacted>");
        assert_eq!(r["spec"]["tokenSecretRef"]["name"], "t");
        assert_eq!(r["spec"]["breakGlassAck"], "n");
        assert_eq!(r["headers"][0]["Authorization"], "<redacted>");
    }

    #[test]
    fn entries_round_trip_as_one_json_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir
            .path()
            .join("x")
            .join(file_name("security", "prod", Some("abc")));
        let at: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let e = Entry::new(
            at,
            Event::Observed {
                what: "break glass entered".into(),
            },
        );
        append(&p, std::slice::from_ref(&e)).unwrap();
        append(&p, std::slice::from_ref(&e)).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"at":"2026-11-23T10:00:00Z","kind":"observed","what":"break glass entered"}"#
        );
        assert_eq!(read(&p).unwrap(), vec![e.clone(), e]);
        assert!(p.ends_with("security_prod_abc.jsonl"));
    }
}
