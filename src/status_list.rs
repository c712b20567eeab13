//! `breakglass status -A` (or without CLUSTER): the OpenBaoClusters found, as a table or JSON.
//!
//! Exit status as for one cluster: 3 when any is in break glass, 0 when none, 1 on error.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::domain::discovery::{ClusterRow, Scope, sort_rows};
use crate::exit::Exit;
use crate::logs::sanitize;
use crate::ui::fmt_age;

pub fn exit_code(rows: &[ClusterRow]) -> Exit {
    if rows.iter().any(ClusterRow::in_break_glass) {
        Exit::BreakGlassActive
    } else {
        Exit::Ok
    }
}

pub(crate) fn to_json(rows: &[ClusterRow], scope: &Scope, now: Timestamp) -> Value {
    let mut rows = rows.to_vec();
    sort_rows(&mut rows);
    json!({
        "scope": match scope {
            Scope::All => Value::Null,
            Scope::Namespace(ns) => json!(ns),
        },
        "allNamespaces": matches!(scope, Scope::All),
        "breakGlassActive": rows.iter().filter(|r| r.in_break_glass()).count(),
        "clusters": rows.iter().map(|r| r.to_json(now)).collect::<Vec<_>>(),
    })
}

/// The cells of one row, as the table and the picker show them.
pub(crate) fn cells(r: &ClusterRow, now: Timestamp) -> [String; 6] {
    let dash = || "-".to_string();
    let break_glass = match (&r.problem, &r.break_glass) {
        (Some(p), _) => format!("does not parse: {p}"),
        // The age first: in a narrow column the reason's end is what gets cut.
        (None, Some(b)) => format!(
            "{} {}",
            r.break_glass_age(now).map_or_else(|| "?".into(), fmt_age),
            b.reason.as_deref().unwrap_or("active")
        ),
        (None, None) => dash(),
    };
    [
        r.namespace.clone(),
        r.name.clone(),
        r.phase.clone().unwrap_or_else(dash),
        r.blue_green_phase.clone().unwrap_or_else(dash),
        break_glass,
        r.rollback_attempt.to_string(),
    ]
    .map(|c| sanitize(&c))
}

pub(crate) const HEADERS: [&str; 6] = [
    "NAMESPACE",
    "NAME",
    "PHASE",
    "BLUE/GREEN",
    "BREAK GLASS",
    "ATTEMPT",
];

pub(crate) fn to_text(rows: &[ClusterRow], scope: &Scope, now: Timestamp) -> String {
    if rows.is_empty() {
        return format!("No OpenBaoClusters found in {}.\n", scope.describe());
    }
    let mut rows = rows.to_vec();
    sort_rows(&mut rows);
    let table: Vec<[String; 6]> = rows.iter().map(|r| cells(r, now)).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &table {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(HEADERS);
    for row in &table {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    let n = rows.iter().filter(|r| r.in_break_glass()).count();
    out.push_str(&format!(
        "{n} of {} in break glass ({}).\n",
        rows.len(),
        scope.describe()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::discovery::{SAMPLE_NOW, sample_rows};

    #[test]
    fn the_table_lists_break_glass_first_with_reason_and_age() {
        let now: Timestamp = SAMPLE_NOW.parse().unwrap();
        let mut rows = sample_rows();
        rows.reverse();
        let text = to_text(&rows, &Scope::All, now);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAMESPACE  NAME   PHASE"), "{text}");
        assert!(
            lines[1].contains("prod") && lines[1].contains("12m RollbackConsensusRepairFailed"),
            "{text}"
        );
        assert!(lines[2].contains("vault"), "{text}");
        assert_eq!(lines[3], "1 of 2 in break glass (all namespaces).");
        assert_eq!(exit_code(&rows), Exit::BreakGlassActive);
        assert_eq!(exit_code(&rows[..1]), Exit::Ok);
        let j = to_json(&rows, &Scope::All, now);
        assert_eq!(j["breakGlassActive"], 1);
        assert_eq!(j["clusters"][0]["name"], "prod");
        assert_eq!(
            to_text(&[], &Scope::Namespace("x".into()), now),
            "No OpenBaoClusters found in namespace \"x\".\n"
        );
    }
}
