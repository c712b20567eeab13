//! The header's layout (`fit`) and its 80-column rendering in every state.

use ratatui::style::Style;

use super::{Cut, Segment, fit};

fn text(segments: &[Segment], width: u16) -> String {
    fit(segments, width).to_string()
}

fn seg(t: &str, priority: u8, cut: Cut) -> Segment {
    Segment::new(t, priority, cut, Style::new())
}

fn right(t: &str, priority: u8) -> Segment {
    Segment {
        right: true,
        ..seg(t, priority, Cut::End)
    }
}

#[test]
fn everything_fits_when_there_is_room() {
    let s = [
        seg("a", 1, Cut::End),
        seg("bb", 2, Cut::End),
        right("[X]", 9),
    ];
    assert_eq!(text(&s, 20), "a · bb           [X]");
}

#[test]
fn the_lowest_priority_is_cut_first_with_an_ellipsis() {
    let s = [
        seg("context-name", 1, Cut::End),
        seg("[MODE]", 9, Cut::End),
        right("[BADGE]", 9),
    ];
    // 12 + 3 + 6 + 1 + 7 = 29: two columns short.
    assert_eq!(text(&s, 27), "context-n… · [MODE] [BADGE]");
}

#[test]
fn a_middle_cut_keeps_both_ends() {
    let s = [seg("namespace/cluster-name", 1, Cut::Middle)];
    let t = text(&s, 12);
    assert_eq!(t, "namesp…-name");
    assert_eq!(t.chars().count(), 12);
}

#[test]
fn shorter_forms_come_before_any_cut() {
    let s = [
        seg("context", 1, Cut::End),
        Segment {
            forms: vec!["operator 0.6".into(), "op 0.6".into()],
            ..seg("", 5, Cut::End)
        },
        right("[B]", 9),
    ];
    // The short form saves 6 columns, so the context stays whole.
    assert_eq!(text(&s, 20), "context · op 0.6 [B]");
}

#[test]
fn a_segment_too_short_to_cut_is_dropped_with_its_separator() {
    let s = [
        seg("ctx", 1, Cut::End),
        seg("[MODE]", 9, Cut::End),
        right("[B]", 9),
    ];
    assert_eq!(text(&s, 11), "[MODE]  [B]");
    let never_cut = [seg("name", 1, Cut::No), seg("[MODE]", 9, Cut::End)];
    assert_eq!(text(&never_cut, 8), "[MODE]");
}

#[test]
fn the_line_is_never_wider_than_the_terminal() {
    let s = [
        seg("breakglass", 1, Cut::No),
        seg("a-rather-long-context", 2, Cut::End),
        seg("ns/cluster", 4, Cut::Middle),
        seg("[WRITE 4:59]", 10, Cut::End),
        right("[BREAK GLASS ACTIVE]", 9),
    ];
    for w in 0..=90u16 {
        let line = fit(&s, w);
        assert!(line.width() <= usize::from(w), "{w}: {line}");
    }
    // Down to both badges and one gap, both stay whole.
    assert_eq!(text(&s, 33), "[WRITE 4:59] [BREAK GLASS ACTIVE]");
    // Below that the lower of the two is cut, never overlapped.
    assert_eq!(text(&s, 30), "[WRITE 4:59] [BREAK GLASS ACT…");
}

mod rendered {
    //! The header row of an 80x24 frame in every state: both badges always whole.

    use jiff::SignedDuration;

    use crate::app::fixtures::{self, feed, incident_state};
    use crate::app::msg::{SourceEvent, SourceName};
    use crate::app::{Msg, State, update};
    use crate::domain::generation::{CrdSignal, ImageSignal, Signals};

    fn header_row(state: &State, w: u16) -> String {
        crate::ui::test_screen::rows(state, w, 24).swap_remove(0)
    }

    /// Snapshot the 80-column header and check that `badges` are whole in it.
    fn check(name: &str, state: &State, badges: &[&str]) {
        let row = header_row(state, 80);
        for b in badges {
            assert!(row.contains(b), "{b} not whole in {row:?}");
        }
        insta::assert_snapshot!(format!("header_{name}_80x24"), row);
        // Narrow terminals must not panic, and keep the line inside the width.
        for w in [0, 1, 10, 20, 33, 40, 60] {
            assert_eq!(header_row(state, w).chars().count(), usize::from(w));
        }
    }

    fn read_only() -> State {
        let mut s = incident_state(true);
        s.write.leave();
        s
    }

    fn with_crd(mut s: State, yaml: &str) -> State {
        let v: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        feed(
            &mut s,
            [SourceEvent::Operator(Signals {
                crd: std::sync::Arc::new(CrdSignal::Read(serde_json::to_value(v).unwrap())),
                image: ImageSignal::default(),
            })],
        );
        s
    }

    const CRD_01: &str = include_str!("../../assets/crds/openbao.org_openbaoclusters.yaml");
    const CRD_06: &str = include_str!("../../assets/crds/0.6/openbao.org_openbaoclusters.yaml");

    #[test]
    fn read_only_with_break_glass_active() {
        check(
            "read_only",
            &read_only(),
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]"],
        );
    }

    #[test]
    fn write_mode_counts_down() {
        let mut s = incident_state(true);
        let later = s.now.checked_add(SignedDuration::from_secs(61)).unwrap();
        update(&mut s, Msg::Tick(later));
        check(
            "write_countdown",
            &s,
            &["[WRITE 3:59]", "[BREAK GLASS ACTIVE]"],
        );
    }

    #[test]
    fn break_glass_inactive() {
        let mut s = read_only();
        let mut c = fixtures::cluster();
        c.break_glass = None;
        feed(&mut s, [SourceEvent::Cluster(Some(c))]);
        check(
            "break_glass_inactive",
            &s,
            &["[READ-ONLY]", "[ok · Upgrading]"],
        );
    }

    #[test]
    fn each_operator_line() {
        let s = with_crd(read_only(), CRD_01);
        check(
            "operator_01",
            &s,
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]", "0.1"],
        );
        let s = with_crd(read_only(), CRD_06);
        check(
            "operator_06",
            &s,
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]", "0.6"],
        );
        check(
            "operator_unknown",
            &read_only(),
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]", "unknown"],
        );
    }

    #[test]
    fn a_long_cluster_name_is_cut_in_the_middle() {
        let mut o = fixtures::opts(true);
        o.cluster = "openbao-production-eu-west-1-blue-green-primary".into();
        o.namespace = "security-platform".into();
        let mut s = State::new(o);
        let mut c = fixtures::cluster();
        c.name = "openbao-production-eu-west-1-blue-green-primary".into();
        feed(&mut s, [SourceEvent::Cluster(Some(c))]);
        s.write.leave();
        check(
            "long_cluster",
            &s,
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]", "…", "primary"],
        );
    }

    #[test]
    fn another_cluster_in_break_glass_is_announced_down_to_80_columns() {
        use crate::app::msg::ScopeEvent;
        use crate::domain::discovery::{BreakGlassRow, ClusterRow};
        let mut s = read_only();
        let row = |name: &str| ClusterRow {
            namespace: "team-c".into(),
            name: name.into(),
            break_glass: Some(BreakGlassRow {
                reason: Some("RollbackConsensusRepairFailed".into()),
                entered_at: Some(fixtures::ts("2026-11-23T10:04:00Z")),
            }),
            ..Default::default()
        };
        feed(
            &mut s,
            [SourceEvent::Scope(ScopeEvent::Others {
                scope: "all namespaces".into(),
                rows: vec![row("second")],
            })],
        );
        // At 80 columns the announcement keeps its shortest form (the context and the
        // operator line give way first); both badges stay whole.
        check(
            "another_cluster",
            &s,
            &["[READ-ONLY]", "[BREAK GLASS ACTIVE]"],
        );
        let narrow = header_row(&s, 80);
        assert!(narrow.contains("+1 in break glass"), "{narrow}");
        // It never disappears between 80 and 160 columns, in one of its forms.
        for cols in (80..=160).step_by(5) {
            let row = header_row(&s, cols);
            assert!(
                row.contains("team-c/second (3m)") || row.contains("+1 in break glass"),
                "{cols}: {row}"
            );
        }
        // With room, it is whole: the other cluster and how long it has waited.
        let wide = header_row(&s, 160);
        assert!(
            wide.contains("also in break glass: team-c/second (3m)"),
            "{wide}"
        );
        feed(
            &mut s,
            [SourceEvent::Scope(ScopeEvent::Others {
                scope: "all namespaces".into(),
                rows: vec![row("second"), row("third")],
            })],
        );
        assert!(header_row(&s, 160).contains("team-c/second (3m) +1 more"));
        // Gone from break glass: gone from the header.
        feed(
            &mut s,
            [SourceEvent::Scope(ScopeEvent::Others {
                scope: "all namespaces".into(),
                rows: vec![],
            })],
        );
        assert!(!header_row(&s, 160).contains("also"));
    }

    fn screen(state: &State, w: u16, h: u16) -> Vec<String> {
        crate::ui::test_screen::rows(state, w, h)
    }

    #[test]
    fn a_scope_watch_turned_off_is_said_down_to_80_columns() {
        use crate::app::Focus;
        use crate::app::msg::ScopeEvent;
        use crate::app::scope::ScopeOff;
        let off = |s: &mut State, reason| {
            feed(
                s,
                [SourceEvent::Scope(ScopeEvent::Off {
                    scope: "all namespaces".into(),
                    reason,
                })],
            )
        };
        let mut s = read_only();
        s.focus = Focus::Health;
        let before = screen(&s, 80, 24);
        off(&mut s, ScopeOff::Forbidden { cluster_wide: true });
        check("scope_off", &s, &["[READ-ONLY]", "[BREAK GLASS ACTIVE]"]);
        let after = screen(&s, 80, 24);
        assert!(after[0].contains("op unknown · others✗"), "{}", after[0]);
        // Only the header changed (the context gave way): the nonce and everything below stay.
        assert_eq!(before[1..], after[1..]);
        assert!(
            after.iter().any(|r| r.contains(fixtures::NONCE)),
            "{after:#?}"
        );
        // Write mode's longer badge still leaves room for it.
        let mut w = incident_state(true);
        off(&mut w, ScopeOff::Forbidden { cluster_wide: true });
        let row = header_row(&w, 80);
        assert!(
            row.contains("[WRITE 5:00]") && row.contains("others✗"),
            "{row}"
        );
        assert!(row.ends_with("[BREAK GLASS ACTIVE]"), "{row}");
        for (reason, whole) in [
            (
                ScopeOff::Forbidden { cluster_wide: true },
                "other clusters: not watched (403 RBAC: list, watch openbaoclusters cluster-wide)",
            ),
            (
                ScopeOff::Forbidden {
                    cluster_wide: false,
                },
                "other clusters: not watched (403 RBAC: list, watch openbaoclusters in the namespace)",
            ),
            (
                ScopeOff::Unauthenticated,
                "other clusters: not watched (401: credentials refused)",
            ),
            (
                ScopeOff::NotServed,
                "other clusters: not watched (404: openbaoclusters not served)",
            ),
        ] {
            off(&mut s, reason);
            let wide = header_row(&s, 200);
            assert!(wide.contains(whole), "{wide}");
            // Never gone between 80 and 200 columns; the status shows once there is room.
            for cols in (80..=200).step_by(5) {
                let row = header_row(&s, cols);
                assert!(
                    row.contains("others✗") || row.contains("not watched"),
                    "{cols}: {row}"
                );
                assert!(row.ends_with("[BREAK GLASS ACTIVE]"), "{cols}: {row}");
                let code = reason.code().to_string();
                assert!(cols < 120 || row.contains(&code), "{cols}: {row}");
            }
        }
        // Low priority: at no width does it cut or drop the cluster, the mode, the operator
        // line or the badge (they may take a shorter form of their own, as for the
        // announcement; the program name and the context give way to it).
        let theme = crate::ui::theme::Theme { color: true };
        let plain = read_only();
        let segs = crate::ui::header::segments(&s, theme);
        let whole =
            |i: usize, t: &Option<String>| t.as_ref().is_some_and(|t| segs[i].forms.contains(t));
        for cols in 0..=220 {
            let with = crate::ui::header::shown(&segs, cols);
            let without =
                crate::ui::header::shown(&crate::ui::header::segments(&plain, theme), cols);
            for i in 2..6 {
                assert!(
                    !whole(i, &without[i]) || whole(i, &with[i]),
                    "{cols}: {with:?} / {without:?}"
                );
            }
        }
        // Watching again (the console restarted the watch): the note is gone.
        feed(
            &mut s,
            [SourceEvent::Scope(ScopeEvent::Others {
                scope: "all namespaces".into(),
                rows: vec![],
            })],
        );
        let row = header_row(&s, 200);
        assert!(
            !row.contains("not watched") && !row.contains("others✗"),
            "{row}"
        );
    }

    #[test]
    fn connecting_not_found_and_stale() {
        let mut s = State::new(fixtures::opts(true));
        s.write.leave();
        check("connecting", &s, &["[READ-ONLY]", "[connecting…]"]);
        feed(&mut s, [SourceEvent::Cluster(None)]);
        check("not_found", &s, &["[READ-ONLY]", "[CLUSTER NOT FOUND]"]);
        // The staleness banner is the footer's; the header keeps both badges.
        let mut s = read_only();
        feed(
            &mut s,
            [SourceEvent::Problem {
                source: SourceName::Cluster,
                message: "API unreachable".into(),
            }],
        );
        update(&mut s, Msg::Tick(fixtures::ts("2026-11-23T10:07:39Z")));
        check("stale", &s, &["[READ-ONLY]", "[BREAK GLASS ACTIVE]"]);
    }
}
