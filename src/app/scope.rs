//! Break glass elsewhere: the other OpenBaoClusters of the watched scope (the namespace, or
//! every namespace when the console was opened with `-A`) that are in break glass while the
//! console is open on one incident. The header announces them at low priority; the help says
//! what is watched, or why nothing is. The watch is optional: a 401, an RBAC denial or a CRD
//! not served turns it off without a banner, but never silently: the header says
//! `other clusters: not watched (…)` at low priority, so a quiet header is not mistaken for
//! "no other cluster in break glass".

use jiff::Timestamp;

use super::msg::ScopeEvent;
use crate::domain::discovery::ClusterRow;

/// Why the scope watch turned itself off (the API server's answer to its list or watch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeOff {
    /// 401: the credentials were refused.
    Unauthenticated,
    /// 403: no `list`/`watch` on `openbaoclusters.openbao.org` in the scope (cluster-wide
    /// for `-A`, else in the namespace).
    Forbidden { cluster_wide: bool },
    /// 404: `openbaoclusters.openbao.org` is not served.
    NotServed,
}

impl ScopeOff {
    /// The HTTP status the API server answered.
    pub fn code(self) -> u16 {
        match self {
            ScopeOff::Unauthenticated => 401,
            ScopeOff::Forbidden { .. } => 403,
            ScopeOff::NotServed => 404,
        }
    }

    /// The whole reason, for the help.
    pub fn explain(self) -> String {
        match self {
            ScopeOff::Unauthenticated => "401: the credentials were refused".into(),
            ScopeOff::Forbidden { cluster_wide } => format!(
                "403: needs list, watch on openbaoclusters.openbao.org {}",
                if cluster_wide {
                    "cluster-wide"
                } else {
                    "in the namespace"
                }
            ),
            ScopeOff::NotServed => "404: openbaoclusters.openbao.org is not served".into(),
        }
    }

    /// The header's note, longest form first, down to 7 columns (`others✗`, which still
    /// fits beside the mode, the operator line and `[BREAK GLASS ACTIVE]` at 80 columns;
    /// every longer form names the status).
    pub fn header_forms(self) -> Vec<String> {
        let (status, why) = match self {
            ScopeOff::Unauthenticated => ("401", "credentials refused"),
            ScopeOff::Forbidden { cluster_wide: true } => {
                ("403 RBAC", "list, watch openbaoclusters cluster-wide")
            }
            ScopeOff::Forbidden {
                cluster_wide: false,
            } => ("403 RBAC", "list, watch openbaoclusters in the namespace"),
            ScopeOff::NotServed => ("404", "openbaoclusters not served"),
        };
        vec![
            format!("other clusters: not watched ({status}: {why})"),
            format!("other clusters: not watched ({status})"),
            format!("others: not watched ({status})"),
            format!("others✗{}", self.code()),
            "others✗".into(),
        ]
    }
}

/// What the scope watch last said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeWatch {
    /// What is watched (`namespace "x"`, `all namespaces`); None until the watch reports.
    pub scope: Option<String>,
    /// Off for good, and why.
    pub off: Option<ScopeOff>,
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
                format!("  {}", why.explain()),
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
    fn each_reason_names_its_status_in_every_form_but_the_last() {
        let all = [
            ScopeOff::Unauthenticated,
            ScopeOff::Forbidden { cluster_wide: true },
            ScopeOff::Forbidden {
                cluster_wide: false,
            },
            ScopeOff::NotServed,
        ];
        for off in all {
            let forms = off.header_forms();
            let code = off.code().to_string();
            let (last, named) = forms.split_last().unwrap();
            assert_eq!(last, "others✗");
            assert!(named.iter().all(|f| f.contains(&code)), "{forms:?}");
            // Longest first, so the header can step down.
            assert!(
                forms
                    .windows(2)
                    .all(|w| w[0].chars().count() > w[1].chars().count())
            );
            assert!(off.explain().starts_with(&code), "{}", off.explain());
        }
        assert_eq!(
            all.map(|o| o.header_forms()[0].clone()),
            [
                "other clusters: not watched (401: credentials refused)",
                "other clusters: not watched (403 RBAC: list, watch openbaoclusters cluster-wide)",
                "other clusters: not watched (403 RBAC: list, watch openbaoclusters in the namespace)",
                "other clusters: not watched (404: openbaoclusters not served)",
            ]
        );
    }

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
            reason: ScopeOff::Forbidden { cluster_wide: true },
        });
        assert_eq!(w.announcement(now), None);
        assert_eq!(
            w.help_lines(None),
            [
                "break glass elsewhere in all namespaces: not watched",
                "  403: needs list, watch on openbaoclusters.openbao.org cluster-wide"
            ]
        );
    }
}
