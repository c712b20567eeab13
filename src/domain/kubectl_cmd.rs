//! The `kubectl` command line equivalent to a request the console sends, so a colleague can
//! check or repeat it by hand and the journal/report can quote it.
//!
//! Exact and copy-pasteable: the body is the same compact JSON the console sends (one line,
//! shell-quoted), the context and namespace are explicit, and the `--dry-run=server` variant
//! differs only by that flag. Where kubectl cannot express something the console does (a
//! delete's UID precondition), [`Command::caveat`] says so instead of pretending.

use serde_json::Value;

/// Which patch format, as kubectl's `--type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Strategic,
    Json,
}

impl PatchType {
    fn flag(self) -> &'static str {
        match self {
            PatchType::Merge => "merge",
            PatchType::Strategic => "strategic",
            PatchType::Json => "json",
        }
    }
}

/// Where the request goes: the kubeconfig context (None: the current one) and namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub context: Option<String>,
    pub namespace: String,
}

/// One request in kubectl's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Patch {
        /// kubectl's resource name, fully qualified for custom resources
        /// (`openbaoclusters.openbao.org`, `statefulsets.apps`).
        resource: String,
        name: String,
        /// `status` or `scale`.
        subresource: Option<String>,
        patch_type: PatchType,
        body: Value,
    },
    Create {
        body: Value,
    },
    Delete {
        resource: String,
        name: String,
        /// The console sends `preconditions.uid`; kubectl cannot.
        uid_precondition: bool,
    },
}

/// A rendered command line and what it cannot carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub line: String,
    pub caveat: Option<String>,
}

/// `'…'` with every `'` closed, escaped and reopened: safe in sh, bash and zsh.
pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The kubectl request for an API request the console sends (`method`, API `path`, body),
/// so the command is derived from the very request, never written twice. Merge patches
/// only (the console sends no other kind). None: a path kubectl has no verb for here.
pub(crate) fn from_api(
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<(Target, Request)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // /api/v1/namespaces/NS/PLURAL[/NAME[/SUB]] or /apis/GROUP/V/namespaces/NS/PLURAL[/NAME[/SUB]]
    let (group, rest) = match segments.as_slice() {
        ["api", _v, rest @ ..] => ("", rest),
        ["apis", group, _v, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let ["namespaces", namespace, plural, tail @ ..] = rest else {
        return None;
    };
    let resource = if group.is_empty() {
        (*plural).to_string()
    } else {
        format!("{plural}.{group}")
    };
    let target = Target {
        context: None,
        namespace: (*namespace).to_string(),
    };
    let request = match (method, tail, body) {
        ("PATCH", [name, sub @ ..], Some(body)) if sub.len() <= 1 => Request::Patch {
            resource,
            name: (*name).to_string(),
            subresource: sub.first().map(|s| (*s).to_string()),
            patch_type: PatchType::Merge,
            body: body.clone(),
        },
        ("POST", [], Some(body)) => Request::Create { body: body.clone() },
        ("DELETE", [name], body) => Request::Delete {
            resource,
            name: (*name).to_string(),
            uid_precondition: body.and_then(|b| b.pointer("/preconditions/uid")).is_some(),
        },
        _ => return None,
    };
    Some((target, request))
}

/// The kubectl command line of an API request the console sends (None: kubectl has no
/// verb for it here). The dialog shows it and `y` copies it: one derivation for both.
pub fn for_api(method: &str, path: &str, body: Option<&Value>) -> Option<Command> {
    let (target, request) = from_api(method, path, body)?;
    Some(render(&target, &request, false))
}

pub fn render(target: &Target, request: &Request, dry_run: bool) -> Command {
    let mut words: Vec<String> = vec!["kubectl".into()];
    if let Some(c) = &target.context {
        words.push(format!("--context={}", shell_quote(c)));
    }
    words.push(format!("--namespace={}", shell_quote(&target.namespace)));
    let mut caveat = None;
    let mut heredoc = None;
    match request {
        Request::Patch {
            resource,
            name,
            subresource,
            patch_type,
            body,
        } => {
            words.extend(["patch".into(), shell_quote(resource), shell_quote(name)]);
            if let Some(sub) = subresource {
                words.push(format!("--subresource={}", shell_quote(sub)));
            }
            words.push(format!("--type={}", patch_type.flag()));
            words.push(format!("--patch={}", shell_quote(&body.to_string())));
        }
        Request::Create { body } => {
            words.extend(["create".into(), "--filename=-".into()]);
            heredoc = Some(body.to_string());
        }
        Request::Delete {
            resource,
            name,
            uid_precondition,
        } => {
            words.extend(["delete".into(), shell_quote(resource), shell_quote(name)]);
            if *uid_precondition {
                caveat = Some(
                    "kubectl cannot send the UID precondition the console sends: check the object is the one you reviewed (`kubectl get … -o jsonpath={.metadata.uid}`) before running it"
                        .into(),
                );
            }
        }
    }
    if dry_run {
        words.push("--dry-run=server".into());
    }
    let mut line = words.join(" ");
    if let Some(doc) = heredoc {
        line.push_str(&format!(" <<'EOF'\n{doc}\nEOF"));
    }
    Command { line, caveat }
}

/// The command line in rows of at most `width` columns that a shell reads back as the same
/// command: rows end with ` \` (a line continuation), and a word longer than a row (the
/// quoted JSON body) is cut inside its quotes as `…'\` + `'…` (adjacent quoted strings
/// are one word), never right after an unquoted backslash. A here-document's lines (a
/// created object's body) are kept as they are: a continuation would be part of the body.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let (cmd, doc) = match line.split_once('\n') {
        Some((cmd, doc)) => (cmd, Some(doc)),
        None => (line, None),
    };
    // Room on a row for the text before ` \` or `'\`.
    let room = width.max(8) - 2;
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in words(cmd) {
        let len = |s: &str| s.chars().count();
        if cur.is_empty() && len(&word) <= room {
            cur = word;
        } else if len(&cur) + 1 + len(&word) <= room {
            cur.push(' ');
            cur.push_str(&word);
        } else if len(&word) <= room {
            out.push(format!("{cur} \\"));
            cur = word;
        } else {
            if !cur.is_empty() {
                out.push(format!("{cur} \\"));
            }
            cur = cut_word(&word, room, &mut out);
        }
    }
    out.push(cur);
    if let Some(doc) = doc {
        out.extend(doc.lines().map(str::to_string));
    }
    out
}

/// Where a POSIX shell reading a word is: inside single quotes, or right after an unquoted
/// backslash (the next character is literal).
#[derive(Default)]
struct Lex {
    quoted: bool,
    escaped: bool,
}

impl Lex {
    /// Whether the shell would end a word at `c` (an unquoted, unescaped space).
    fn step(&mut self, c: char) -> bool {
        if self.escaped {
            self.escaped = false;
            return false;
        }
        match c {
            '\\' if !self.quoted => self.escaped = true,
            '\'' => self.quoted = !self.quoted,
            ' ' if !self.quoted => return true,
            _ => {}
        }
        false
    }
}

/// The words of a command line: split at spaces outside quotes.
fn words(cmd: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut lex = Lex::default();
    for c in cmd.chars() {
        if lex.step(c) {
            out.push(String::new());
        } else if let Some(w) = out.last_mut() {
            w.push(c);
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

/// Rows of a word longer than `room` pushed to `out`; its last row returned (to go on).
fn cut_word(word: &str, room: usize, out: &mut Vec<String>) -> String {
    let mut piece = String::new();
    let mut lex = Lex::default();
    for c in word.chars() {
        // Never between a backslash and the character it escapes.
        if piece.chars().count() >= room && !lex.escaped {
            if lex.quoted {
                out.push(format!("{piece}'\\"));
                piece = "'".into();
            } else {
                out.push(format!("{piece}\\"));
                piece.clear();
            }
        }
        piece.push(c);
        lex.step(c);
    }
    piece
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            context: Some("prod-eu".into()),
            namespace: "security".into(),
        }
    }

    #[test]
    fn a_merge_patch_carries_the_exact_compact_body_and_a_dry_run_variant() {
        let body = json!({"metadata": {"resourceVersion": "35"}, "spec": {"breakGlassAck": "n'1"}});
        let req = Request::Patch {
            resource: "openbaoclusters.openbao.org".into(),
            name: "prod".into(),
            subresource: None,
            patch_type: PatchType::Merge,
            body: body.clone(),
        };
        let c = render(&target(), &req, false);
        assert_eq!(
            c.line,
            r#"kubectl --context=prod-eu --namespace=security patch openbaoclusters.openbao.org prod --type=merge --patch='{"metadata":{"resourceVersion":"35"},"spec":{"breakGlassAck":"n'\''1"}}'"#
        );
        assert_eq!(c.caveat, None);
        let dry = render(&target(), &req, true);
        assert_eq!(dry.line, format!("{} --dry-run=server", c.line));
        // The quoted body is the body: a POSIX shell gives back the same bytes.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(&body.to_string())))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), body.to_string());
    }

    #[test]
    fn scale_create_and_delete_say_what_they_are_and_what_kubectl_cannot() {
        let scale = Request::Patch {
            resource: "statefulsets.apps".into(),
            name: "prod-blue".into(),
            subresource: Some("scale".into()),
            patch_type: PatchType::Merge,
            body: json!({"spec": {"replicas": 0}}),
        };
        let t = Target {
            context: None,
            namespace: "security".into(),
        };
        assert_eq!(
            render(&t, &scale, false).line,
            r#"kubectl --namespace=security patch statefulsets.apps prod-blue --subresource=scale --type=merge --patch='{"spec":{"replicas":0}}'"#
        );
        let create = render(
            &t,
            &Request::Create {
                body: json!({"kind": "OpenBaoRestore"}),
            },
            true,
        );
        assert_eq!(
            create.line,
            "kubectl --namespace=security create --filename=- --dry-run=server <<'EOF'\n{\"kind\":\"OpenBaoRestore\"}\nEOF"
        );
        let delete = render(
            &t,
            &Request::Delete {
                resource: "persistentvolumeclaims".into(),
                name: "data-prod-0".into(),
                uid_precondition: true,
            },
            false,
        );
        assert_eq!(
            delete.line,
            "kubectl --namespace=security delete persistentvolumeclaims data-prod-0"
        );
        assert!(delete.caveat.unwrap().contains("UID precondition"));
        assert_eq!(shell_quote("a b"), "'a b'");
    }

    /// What `sh` makes of `script` run as `printf '%s\n' ARGS…` instead of kubectl: one
    /// argument a line.
    fn argv(lines: &[String]) -> String {
        let script = lines.join("\n").replacen("kubectl", "printf '%s\\n'", 1);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn a_wrapped_command_fits_the_width_and_the_shell_reads_the_same_words() {
        let body = json!({"metadata": {"resourceVersion": "35"},
            "spec": {"breakGlassAck": "9f2c4e1a7b3d5f60812a4c6e8b0d2f47", "x": "it's \\ odd"}});
        let req = Request::Patch {
            resource: "openbaoclusters.openbao.org".into(),
            name: "prod".into(),
            subresource: None,
            patch_type: PatchType::Merge,
            body,
        };
        let line = render(&target(), &req, false).line;
        let whole = argv(std::slice::from_ref(&line));
        assert!(whole.contains(r#""x":"it's \\ odd""#), "{whole}");
        for width in [20, 33, 40, 57, 78, 200] {
            let rows = wrap(&line, width);
            for r in &rows {
                assert!(r.chars().count() <= width, "{width}: {r:?} in {rows:#?}");
            }
            assert_eq!(argv(&rows), whole, "width {width}: {rows:#?}");
        }
        assert_eq!(wrap(&line, 500), [line]);
        // A here-document's body is left alone.
        let create = render(
            &target(),
            &Request::Create {
                body: json!({"kind": "OpenBaoRestore"}),
            },
            false,
        )
        .line;
        let rows = wrap(&create, 30);
        assert_eq!(
            rows[rows.len() - 2..],
            ["{\"kind\":\"OpenBaoRestore\"}", "EOF"]
        );
        assert!(
            rows[..rows.len() - 2]
                .iter()
                .all(|r| r.chars().count() <= 30),
            "{rows:#?}"
        );
    }

    #[test]
    fn the_command_is_derived_from_the_api_request() {
        let body = json!({"spec": {"replicas": 0}});
        let (t, r) = from_api(
            "PATCH",
            "/apis/apps/v1/namespaces/ops/deployments/openbao-operator/scale",
            Some(&body),
        )
        .unwrap();
        assert_eq!(t.namespace, "ops");
        assert_eq!(
            render(&t, &r, false).line,
            r#"kubectl --namespace=ops patch deployments.apps openbao-operator --subresource=scale --type=merge --patch='{"spec":{"replicas":0}}'"#
        );
        let (t, r) = from_api(
            "DELETE",
            "/api/v1/namespaces/security/persistentvolumeclaims/data-prod-0",
            None,
        )
        .unwrap();
        let c = render(&t, &r, false);
        assert_eq!(
            c.line,
            "kubectl --namespace=security delete persistentvolumeclaims data-prod-0"
        );
        assert_eq!(c.caveat, None);
        let (_, r) = from_api(
            "POST",
            "/apis/openbao.org/v1alpha1/namespaces/security/openbaorestores",
            Some(&json!({"kind": "OpenBaoRestore"})),
        )
        .unwrap();
        assert!(matches!(r, Request::Create { .. }));
        assert_eq!(from_api("GET", "/api/v1/namespaces/a/pods/p", None), None);
        assert_eq!(from_api("PATCH", "/version", Some(&body)), None);
        assert_eq!(shell_quote(""), "''");
    }
}
