//! `breakglass report JOURNAL`: a journal as a postmortem timeline (Markdown or JSON):
//! who was involved, what happened, what was decided on which evidence, what was sent and
//! what the API server answered, and how it ended.

use serde_json::{Value, json};

use super::{Entry, Event};

/// One timeline row: the kind of entry and a human sentence.
fn sentence(e: &Event) -> (&'static str, String) {
    match e {
        Event::Session {
            tool,
            os_user,
            k8s_user,
            context,
            namespace,
            cluster,
        } => (
            "session",
            format!(
                "{os_user} (Kubernetes: {k8s_user}, context {context}) opened `{tool}` on {namespace}/{cluster}"
            ),
        ),
        Event::Observed { what } => ("observed", what.clone()),
        Event::Decision {
            path,
            recommended,
            summary,
            evidence,
        } => (
            "decision",
            format!(
                "chose {path} (recommended: {}): {summary}{}",
                recommended.as_deref().unwrap_or("none"),
                if evidence.is_empty() {
                    String::new()
                } else {
                    format!(" — evidence: {}", evidence.join("; "))
                }
            ),
        ),
        Event::Request {
            method,
            path,
            dry_run,
            body,
        } => (
            "request",
            format!(
                "{method} {path}{}{}",
                if *dry_run { " (dry run)" } else { "" },
                body.as_ref()
                    .map_or(String::new(), |b| format!(" body {b}"))
            ),
        ),
        Event::Response { status, message } => ("response", format!("→ {status} {message}")),
        Event::Outcome { action, result } => ("outcome", format!("{action}: {result}")),
    }
}

fn people(entries: &[Entry]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries {
        if let Event::Session {
            os_user, k8s_user, ..
        } = &e.event
        {
            let p = format!("{os_user} as {k8s_user}");
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn target(entries: &[Entry]) -> String {
    entries
        .iter()
        .find_map(|e| match &e.event {
            Event::Session {
                namespace, cluster, ..
            } => Some(format!("{namespace}/{cluster}")),
            _ => None,
        })
        .unwrap_or_else(|| "unknown cluster".into())
}

/// The last outcome and the last observed state: how it ended.
fn ending(entries: &[Entry]) -> (Option<String>, Option<String>) {
    let last = |kind: &str| {
        entries
            .iter()
            .rev()
            .map(|e| sentence(&e.event))
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s)
    };
    (last("outcome"), last("observed"))
}

/// The ticket's first line: where, how long, who, how it ended.
fn one_line(entries: &[Entry]) -> String {
    let minutes = match (entries.first(), entries.last()) {
        (Some(a), Some(b)) => (b.at.as_second() - a.at.as_second()).max(0) / 60,
        _ => 0,
    };
    let (outcome, _) = ending(entries);
    md_cell(&format!(
        "**{}**: {} min of journal, {}; {}.",
        target(entries),
        minutes,
        match people(entries).as_slice() {
            [] => "nobody recorded".to_string(),
            p => format!("by {}", p.join(", ")),
        },
        outcome.as_deref().unwrap_or("no action was carried out")
    ))
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(entries: &[Entry], journal: &str) -> String {
    let mut out = format!("# Incident timeline: {}\n\n", target(entries));
    out.push_str(&format!("> {}\n\n", one_line(entries)));
    out.push_str(&format!("Journal: `{journal}`\n\n## Summary\n\n"));
    if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
        out.push_str(&format!("- Period: {} to {}\n", first.at, last.at));
    }
    out.push_str(&format!("- People: {}\n", people(entries).join(", ")));
    let count = |k: &str| entries.iter().filter(|e| sentence(&e.event).0 == k).count();
    let mutations = entries
        .iter()
        .filter(|e| matches!(&e.event, Event::Request { method, dry_run: false, .. } if method != "GET"))
        .count();
    out.push_str(&format!(
        "- Decisions: {}; requests sent: {} ({} mutating, not counting dry runs)\n",
        count("decision"),
        count("request"),
        mutations
    ));
    let (outcome, state) = ending(entries);
    out.push_str(&format!(
        "- Outcome: {}\n- Last observed: {}\n\n",
        outcome.as_deref().unwrap_or("no action was carried out"),
        state.as_deref().unwrap_or("nothing observed")
    ));
    out.push_str("## Timeline\n\n| time (UTC) | kind | what |\n|---|---|---|\n");
    for e in entries {
        let (kind, text) = sentence(&e.event);
        out.push_str(&format!(
            "| {} | {kind} | {} |\n",
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            md_cell(&text)
        ));
    }
    out
}

pub fn json(entries: &[Entry], journal: &str) -> Value {
    let (outcome, state) = ending(entries);
    json!({
        "journal": journal,
        "cluster": target(entries),
        "people": people(entries),
        "outcome": outcome,
        "last_observed": state,
        "timeline": entries.iter().map(|e| {
            let (kind, text) = sentence(&e.event);
            json!({"at": e.at.to_string(), "kind": kind, "text": text})
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(at: &str, event: Event) -> Entry {
        Entry::new(at.parse().unwrap(), event)
    }

    #[test]
    fn a_journal_reads_like_a_timeline() {
        let entries = vec![
            e(
                "2026-11-23T10:00:00Z",
                Event::Session {
                    tool: "console".into(),
                    os_user: "alice".into(),
                    k8s_user: "admin".into(),
                    context: "prod".into(),
                    namespace: "security".into(),
                    cluster: "prod-cluster".into(),
                },
            ),
            e(
                "2026-11-23T10:00:01Z",
                Event::Observed {
                    what: "break glass entered: nonce n1".into(),
                },
            ),
            e(
                "2026-11-23T10:01:00Z",
                Event::Request {
                    method: "PATCH".into(),
                    path: "/apis/x".into(),
                    dry_run: false,
                    body: Some(json!({"spec": {"breakGlassAck": "n1"}})),
                },
            ),
            e(
                "2026-11-23T10:01:00Z",
                Event::Outcome {
                    action: "acknowledge".into(),
                    result: "acknowledged n1".into(),
                },
            ),
        ];
        let md = markdown(&entries, "j.jsonl");
        assert!(md.starts_with("# Incident timeline: security/prod-cluster\n\n> **security/prod-cluster**: 1 min of journal, by alice as admin; acknowledge: acknowledged n1.\n"), "{md}");
        assert!(md.contains("- People: alice as admin"));
        assert!(md.contains("(1 mutating"));
        assert!(md.contains("- Outcome: acknowledge: acknowledged n1"));
        assert!(md.contains("| 2026-11-23 10:00:01 | observed | break glass entered: nonce n1 |"));
        let j = json(&entries, "j.jsonl");
        assert_eq!(j["timeline"].as_array().unwrap().len(), 4);
        assert_eq!(j["people"][0], "alice as admin");
    }
}
