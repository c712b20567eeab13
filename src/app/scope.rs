//! Break glass elsewhere: the other OpenBaoClusters of the watched scope (the namespace, or
//! every namespace when the console was opened with `-A`) that are in break glass while the
//! console is open on one incident. The header announces them at its lowest priority; the
//! help says what is watched, or why nothing is (the watch is optional: an RBAC denial turns
//! it off without a banner).

use jiff::Timestamp;

use super::msg::ScopeEvent;
use crate::domain::discovery::ClusterRow;

/// What the scope watch last said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeWatch {
    /// What is watched (`namespace "x"`, `all namespaces`); None until the watch reports.
    pub scope: Option<String>,
    /// Off for good, and why.
    pub off: Option<String>,
    /// The other clusters in break glass, the longest wait first.
    pub others: Vec<ClusterRow>,
}

impl ScopeWatch {
    pub fn on(&mut self, ev: ScopeEvent) {
        match ev {
            ScopeEvent::Others { scope, rows } => {
                self.scope = Some(scope);
                self.off = None;
                self.others = rows;
            }
            ScopeEvent::Off { scope, reason } => {
                self.scope = Some(scope);
                self.off = Some(reason);
                self.others.clear();
            }
        }
    }

    /// The header's announcement, longest form first: `also in break glass: team-c/second
    /// (3m)`, then `+N more` for the rest; None when there is nothing to announce.
    pub fn announcement(&self, now: Timestamp) -> Option<Vec<String>> {
        let first = self.others.first()?;
        let age = first
            .break_glass_age(now)
            .map(|s| format!(" ({})", crate::ui::fmt_age(s)))
            .unwrap_or_default();
        let who = format!("{}/{}{age}", first.namespace, first.name);
        let more = match self.others.len() {
            1 => String::new(),
            n => format!(" +{} more", n - 1),
        };
        Some(vec![
            format!("also in break glass: {who}{more}"),
            format!("also: {who}{more}"),
            format!("+{} in break glass", self.others.len()),
        ])
    }

    /// Lines for the help: what is watched, or why nothing is (each short enough for it).
    pub fn help_lines(&self, problem: Option<&str>) -> Vec<String> {
        match (&self.scope, &self.off, problem) {
            (None, _, _) => vec!["break glass elsewhere: not watched yet".into()],
            (Some(scope), Some(why), _) => vec![
                format!("break glass elsewhere in {scope}: not watched"),
                format!("  {why}"),
            ],
            (Some(scope), None, Some(p)) => vec![
                format!("break glass elsewhere in {scope}: watch failing, retrying"),
                format!("  {p}"),
            ],
            (Some(scope), None, None) => vec![format!("break glass elsewhere: watching {scope}")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::discovery::{SAMPLE_NOW, sample_rows};

    #[test]
    fn the_announcement_names_the_longest_wait_and_counts_the_rest() {
        let now: Timestamp = SAMPLE_NOW.parse().unwrap();
        let mut w = ScopeWatch::default();
        assert_eq!(w.announcement(now), None);
        let mut rows = sample_rows();
        rows.truncate(1);
        w.on(ScopeEvent::Others {
            scope: "all namespaces".into(),
            rows: rows.clone(),
        });
        assert_eq!(
            w.announcement(now).unwrap(),
            [
                "also in break glass: security/prod (12m)",
                "also: security/prod (12m)",
                "+1 in break glass"
            ]
        );
        assert_eq!(
            w.help_lines(None),
            ["break glass elsewhere: watching all namespaces"]
        );
        rows.push(ClusterRow {
            name: "other".into(),
            ..rows[0].clone()
        });
        rows[1].break_glass.as_mut().unwrap().entered_at = None;
        w.on(ScopeEvent::Others {
            scope: "all namespaces".into(),
            rows,
        });
        let two = w.announcement(now).unwrap();
        assert_eq!(two[0], "also in break glass: security/prod (12m) +1 more");
        assert_eq!(two[2], "+2 in break glass");
        w.on(ScopeEvent::Off {
            scope: "all namespaces".into(),
            reason: "RBAC denied".into(),
        });
        assert_eq!(w.announcement(now), None);
        assert_eq!(
            w.help_lines(None),
            [
                "break glass elsewhere in all namespaces: not watched",
                "  RBAC denied"
            ]
        );
    }
}
