//! The Health pane: the OpenBaoCluster's phase, conditions and break-glass status, the
//! operator's steps (with the one that is wrong for Blue/Green called out), the blue/green
//! state and the pods of each side. The first line is the summary a collapsed pane shows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{PaneView, clean, draw_text, fmt_age, kv, pane_block};
use crate::app::{Focus, Presence, State};
use crate::domain::{ClusterView, PodView, Side};

pub(crate) fn render(state: &State, view: PaneView, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Focus::Health, view, None);
    draw_text(
        frame,
        area,
        block,
        lines(state, view.theme),
        state.health_scroll,
        (!view.collapsed).then_some("j/PgDn"),
    );
}

fn lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    let target = format!("{}/{}", state.opts.namespace, state.opts.cluster);
    let mut out = Vec::new();
    let cluster = match (state.presence, state.incident.cluster.as_ref()) {
        (Presence::Missing, _) => {
            out.push(Line::from(vec![
                Span::styled("[CLUSTER NOT FOUND]", t.error()),
                Span::raw(format!(" OpenBaoCluster {target} does not exist")),
            ]));
            out.push(Line::raw(
                "Check the namespace, the name and the kube context; still watching.",
            ));
            return out;
        }
        (_, None) => {
            out.push(Line::styled(format!("waiting for {target}…"), t.dim()));
            if let Some(u) = &state.unparseable {
                out.push(Line::styled(
                    format!("[UNPARSEABLE] {}", clean(u)),
                    t.error(),
                ));
            }
            return out;
        }
        (_, Some(c)) => c,
    };
    out.push(summary(cluster, t));
    if let Some(u) = &state.unparseable {
        out.push(Line::from(vec![
            Span::styled("[UNPARSEABLE]", t.error()),
            Span::raw(format!(" {} (showing the last good view)", clean(u))),
        ]));
    }
    // State first, the operator's (long, reference) steps last: at 80x24 and in the grid
    // the pods and revisions must be visible without scrolling.
    break_glass(state, cluster, t, &mut out);
    conditions(cluster, t, &mut out);
    blue_green(cluster, t, &mut out);
    pods(state, t, &mut out);
    jobs(state, t, &mut out);
    steps(cluster, t, &mut out);
    // Events last (scroll to them): their warnings are also findings in the Decision pane.
    out.extend(super::events::lines(state, t));
    out
}

fn summary(c: &ClusterView, t: Theme) -> Line<'static> {
    let badge = match &c.break_glass {
        Some(b) if b.active => Span::styled("[BREAK GLASS ACTIVE]", t.alarm()),
        Some(_) => Span::styled("[break glass acknowledged]", t.ok()),
        None => Span::styled("[no break glass]", t.ok()),
    };
    let mut text = format!(" phase {}", c.phase.as_deref().unwrap_or("?"));
    if let Some(bg) = &c.blue_green {
        text.push_str(&format!(
            " · {} · attempt {}",
            bg.phase.as_deref().unwrap_or("?"),
            bg.rollback_attempt
        ));
    }
    Line::from(vec![badge, Span::raw(text)])
}

/// The conditions that speak to this incident, in this order; the rest are counted, not
/// listed (TLSReady, ProductionReady, EtcdEncryptionWarning... are the same every day).
const KEY_CONDITIONS: [&str; 5] = [
    "Degraded",
    "Upgrading",
    "Available",
    "OpenBaoLeader",
    "OpenBaoSealed",
];

fn conditions(c: &ClusterView, t: Theme, out: &mut Vec<Line<'static>>) {
    let mut spans = vec![Span::styled("conditions ", t.label())];
    if c.conditions.is_empty() {
        spans.push(Span::styled("none", t.dim()));
    }
    let key = KEY_CONDITIONS.iter().filter_map(|k| c.condition(k));
    for (i, cond) in key.enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        let bad = cond.status == "True" && cond.type_ == "Degraded";
        let text = match &cond.reason {
            Some(r) => format!("{}={} ({r})", cond.type_, cond.status),
            None => format!("{}={}", cond.type_, cond.status),
        };
        spans.push(if bad {
            Span::styled(text, t.error())
        } else {
            Span::raw(text)
        });
    }
    let others = c
        .conditions
        .iter()
        .filter(|k| !KEY_CONDITIONS.contains(&k.type_.as_str()))
        .count();
    if others > 0 {
        spans.push(Span::styled(format!(" (+{others} more)"), t.dim()));
    }
    out.push(Line::from(spans));
}

fn break_glass(state: &State, c: &ClusterView, t: Theme, out: &mut Vec<Line<'static>>) {
    let Some(b) = &c.break_glass else {
        return;
    };
    let badge = if b.active {
        Span::styled("[ACTIVE]", t.error())
    } else {
        Span::styled("[inactive]", t.ok())
    };
    out.push(Line::from(vec![
        Span::styled("break glass ", t.label()),
        badge,
        Span::raw(format!(" {}", b.reason.as_deref().unwrap_or("no reason"))),
    ]));
    if let Some(m) = &b.message {
        out.push(kv(t, "message", clean(m)));
    }
    out.push(kv(
        t,
        "nonce",
        b.nonce.clone().unwrap_or_else(|| "none".into()),
    ));
    if let Some(at) = b.entered_at {
        let age = state.now.duration_since(at).as_secs().max(0);
        out.push(kv(t, "entered", format!("{} ago ({at})", fmt_age(age))));
    }
    if let Some(at) = b.acknowledged_at {
        out.push(kv(t, "acknowledged", at.to_string()));
    }
}

fn steps(c: &ClusterView, t: Theme, out: &mut Vec<Line<'static>>) {
    let Some(b) = c.break_glass.as_ref().filter(|b| !b.steps.is_empty()) else {
        return;
    };
    out.push(Line::styled("operator's steps", t.label()));
    let wrong_pod = format!("{}-0", c.name);
    for (i, step) in b.steps.iter().enumerate() {
        out.push(Line::raw(format!("{:>2}. {}", i + 1, clean(step))));
        if c.blue_green.is_some() && step.contains(&format!(" {wrong_pod} ")) {
            out.push(Line::from(vec![
                Span::raw("    "),
                Span::styled("[!]", t.warn()),
                Span::raw(format!(
                    " pod {wrong_pod} does not exist in Blue/Green mode: pods are {}-<revision>-<n>",
                    c.name
                )),
            ]));
        }
    }
}

fn blue_green(c: &ClusterView, t: Theme, out: &mut Vec<Line<'static>>) {
    let version = format!(
        "spec {} · current {}",
        c.spec_version,
        c.current_version.as_deref().unwrap_or("?")
    );
    let mut line = kv(t, "version", version);
    if c.current_version.as_deref() != Some(c.spec_version.as_str()) {
        line.push_span(Span::styled(" [differs]", t.warn()));
    }
    out.push(line);
    let Some(bg) = &c.blue_green else {
        return;
    };
    out.push(kv(
        t,
        "blue/green",
        format!(
            "{} · rollback attempt {} · job failures {}",
            bg.phase.as_deref().unwrap_or("?"),
            bg.rollback_attempt,
            bg.job_failure_count
        ),
    ));
    let rev = |r: &Option<String>| r.clone().unwrap_or_else(|| "?".into());
    out.push(kv(
        t,
        "revisions",
        format!(
            "blue {} · green {}",
            rev(&bg.blue_revision),
            rev(&bg.green_revision)
        ),
    ));
    if let Some(r) = &bg.rollback_reason {
        out.push(kv(t, "rollback reason", r.clone()));
    }
}

fn pods(state: &State, t: Theme, out: &mut Vec<Line<'static>>) {
    for side in [Side::Blue, Side::Green, Side::Other] {
        let pods: Vec<&PodView> = state.incident.pods_on(side).collect();
        if pods.is_empty() && side == Side::Other {
            continue;
        }
        out.push(Line::styled(
            format!("{} pods ({})", capitalise(side.label()), pods.len()),
            t.label(),
        ));
        if pods.is_empty() {
            out.push(Line::styled("  none", t.dim()));
        }
        for p in pods {
            out.push(pod_line(p, t));
        }
    }
}

fn pod_line(p: &PodView, t: Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(format!("  {} ", p.name))];
    spans.push(if p.ready {
        Span::styled("ready", t.ok())
    } else {
        Span::styled("[NOT READY]", t.warn())
    });
    spans.push(Span::raw(" "));
    spans.push(match p.sealed {
        Some(true) => Span::styled("[SEALED]", t.warn()),
        Some(false) => Span::raw("unsealed"),
        None => Span::styled("seal ?", t.dim()),
    });
    if p.active == Some(true) {
        spans.push(Span::styled(" active", t.info()));
    }
    if p.restarts > 0 {
        spans.push(Span::raw(format!(" restarts {}", p.restarts)));
    }
    if let Some(w) = &p.waiting_reason {
        let style = if p.is_failing() { t.error() } else { t.warn() };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("[{}]", clean(w)), style));
    }
    if p.deleting {
        spans.push(Span::styled(" [deleting]", t.warn()));
    }
    Line::from(spans)
}

fn jobs(state: &State, t: Theme, out: &mut Vec<Line<'static>>) {
    if state.incident.jobs.is_empty() {
        return;
    }
    out.push(Line::styled("repair jobs", t.label()));
    for j in &state.incident.jobs {
        let style = match j.state {
            crate::domain::JobState::Failed => t.error(),
            crate::domain::JobState::Succeeded => t.ok(),
            crate::domain::JobState::Running => t.info(),
        };
        out.push(Line::from(vec![
            Span::raw(format!("  {} ", j.run_id.as_deref().unwrap_or("no run id"))),
            Span::styled(format!("[{}]", j.state.label()), style),
            Span::raw(format!(" {}", j.name)),
        ]));
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
