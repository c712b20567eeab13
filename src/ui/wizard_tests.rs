//! The Restore wizard overlay: a typed snapshot key (age unknown), and the last step
//! following the OpenBaoRestore (phase, message, the restore Job's log).

use serde_json::json;

use crate::app::fixtures::incident_state;
use crate::app::msg::{RestoreEvent, SourceEvent};
use crate::app::wizard::{Facts, Operator, Step, Wizard};
use crate::app::{Msg, State, update};
use crate::domain::restore_status::{RestoreFollow, RestoreStatus};

fn facts() -> Facts {
    Facts {
        namespace: "security".into(),
        cluster: "prod-cluster".into(),
        backup: Some(
            json!({"target": {"bucket": "acme-openbao-backups"}, "jwtAuthRole": "backup"}),
        ),
        operator: Some(Operator {
            namespace: "openbao-operator-system".into(),
            name: "openbao-operator-controller".into(),
            replicas: 1,
        }),
        pvcs: vec!["data-prod-cluster-a-0".into()],
        line: crate::domain::generation::Line::V01,
        restore_role: None,
        blue_revision: None,
    }
}

fn with_wizard(step: Step, key: Option<&str>) -> State {
    let mut s = incident_state(true);
    let mut w = Wizard::new(facts(), key.map(str::to_string));
    w.step = step;
    s.wizard = Some(w);
    s.wizard_key_source = Some("pre-upgrade snapshot Job log".into());
    s
}

fn text(state: &State, w: u16, h: u16) -> String {
    crate::ui::test_screen::text(state, w, h)
}

fn snap(name: &str, state: &State) {
    insta::assert_snapshot!(name, text(state, 160, 48));
}

fn following() -> State {
    let mut s = with_wizard(
        Step::Follow,
        Some("security/prod-cluster/pre-upgrade-2026-11-23T09-41-07Z-1a2b3c4d.snap"),
    );
    s.restore = Some(RestoreFollow::new("prod-cluster-breakglass-restore"));
    for ev in [
        RestoreEvent::Status(Some(RestoreStatus {
            phase: Some("Running".into()),
            message: Some("Restore job in progress".into()),
            snapshot_key: None,
            ..RestoreStatus::default()
        })),
        RestoreEvent::Lines(vec![
            "Starting restore operation...".into(),
            "Configuration loaded - cluster=prod-cluster, namespace=security, replicas=3".into(),
            "Finding cluster leader...".into(),
            "bao-restore error: failed to find leader: no leader found among 3 pods after 5 attempts\u{1b}[2J".into(),
        ]),
    ] {
        update(&mut s, Msg::Source(SourceEvent::Restore(ev)));
    }
    s
}

#[test]
fn snapshot_wizard_following_the_restore() {
    let s = following();
    let t = text(&s, 160, 48);
    assert!(t.contains(
        "OpenBaoRestore prod-cluster-breakglass-restore Running: Restore job in progress"
    ));
    assert!(t.contains("Job restore-prod-cluster-breakglass-restore log (streaming)"));
    assert!(!t.contains('\u{1b}'), "hostile log text is neutralised");
    snap("wizard_follow", &s);
    // Finished: the consequence the operator leaves behind is said.
    let mut s = s;
    update(
        &mut s,
        Msg::Source(SourceEvent::Restore(RestoreEvent::Status(Some(
            RestoreStatus {
                phase: Some("Failed".into()),
                message: Some(
                    "Restore job failed: Job has reached the specified backoff limit".into(),
                ),
                snapshot_key: None,
                ..RestoreStatus::default()
            },
        )))),
    );
    let t = text(&s, 160, 48);
    assert!(t.contains("Failed: Restore job failed: Job has reached"));
    assert!(t.contains("acknowledging re-enters the rollback"));
}

#[test]
fn snapshot_wizard_with_a_typed_key() {
    let mut s = with_wizard(Step::Snapshot, None);
    if let Some(w) = s.wizard.as_mut() {
        w.typed = "ns/prod-cluster/Weekly.snap".into();
    }
    snap("wizard_typing_key", &s);
    // Accepted: shown as typed, with no age.
    let mut s = with_wizard(Step::ScaleDown, Some("ns/prod-cluster/Weekly.snap"));
    if let Some(w) = s.wizard.as_mut() {
        w.key_typed = true;
    }
    let t = text(&s, 160, 48);
    assert!(t.contains("ns/prod-cluster/Weekly.snap (typed by user, age unknown)"));
    assert!(!t.contains("min ago"));
}

#[test]
fn the_follow_step_says_when_the_controller_has_not_acted_yet() {
    let mut s = with_wizard(Step::Follow, Some("k.snap"));
    s.restore = Some(RestoreFollow::new("r"));
    assert!(text(&s, 160, 48).contains("OpenBaoRestore r reading…"));
    update(
        &mut s,
        Msg::Source(SourceEvent::Restore(RestoreEvent::Status(Some(
            RestoreStatus::default(),
        )))),
    );
    assert!(text(&s, 160, 48).contains("none yet: the restore controller runs in the operator"));
    // Small terminals never panic.
    for (w, h) in [(10, 5), (40, 12), (80, 24)] {
        let _ = text(&s, w, h);
    }
}

#[test]
fn a_closed_wizard_leaves_the_followed_restore_in_the_decision_pane() {
    let mut s = following();
    assert!(
        !text(&s, 160, 48).contains("[RESTORE]"),
        "the wizard shows it itself"
    );
    s.wizard = None;
    s.focus = crate::app::Focus::Decision;
    // Wide enough that the line is not wrapped.
    let t = text(&s, 400, 48);
    let line = t
        .lines()
        .find(|l| l.contains("[RESTORE]"))
        .unwrap_or_else(|| panic!("no restore line:\n{t}"));
    assert!(
        line.contains("prod-cluster-breakglass-restore Running"),
        "{line}"
    );
    assert!(line.contains("bao-restore error"), "{line}");
    assert!(!t.contains('\u{1b}'), "hostile log text neutralised");
}

/// The wizard's rows between its side borders, trailing blanks trimmed.
fn wizard_rows(screen: &str) -> Vec<String> {
    crate::ui::test_screen::inside_borders(screen.lines())
}

#[test]
fn at_80x24_the_create_restore_step_fits_and_copies_what_it_shows() {
    use crate::app::wizard::tests::{KEY, facts};
    use crate::ui::heredoc::tests::{read_back, stdin_of};
    let mut s = incident_state(false);
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    w.step = Step::CreateRestore;
    let request = w.request().unwrap().unwrap();
    s.wizard = Some(w);
    // Every row of the request and of its kubectl command fits the 78 columns inside an
    // 80-column wizard: nothing is left for the terminal to break mid-word.
    let theme = crate::ui::theme::Theme { color: false };
    let wizard = s.wizard.as_ref().unwrap();
    let all = super::lines(&s, wizard, theme, 78);
    let from = all
        .iter()
        .position(|l| l.to_string() == "Enter sends exactly (after a dry run):")
        .unwrap();
    let to = all
        .iter()
        .position(|l| l.to_string() == "EOF")
        .unwrap_or_else(|| panic!("{all:#?}"));
    let command: Vec<String> = all[from..=to].iter().map(|l| l.to_string()).collect();
    // The heading is prose (wrapped between words); the rows of code all fit.
    assert!(
        command.iter().any(|r| r.contains("Ctrl-Y copies")),
        "{command:#?}"
    );
    for row in command
        .iter()
        .filter(|r| !r.starts_with("Same request by kubectl"))
    {
        assert!(row.chars().count() <= 78, "{row:?} in {command:#?}");
    }
    assert!(
        !command.iter().any(|r| r.contains("{\"")),
        "no JSON blob: {command:#?}"
    );
    // Scrolled through at 80x24, every row is on screen whole.
    let mut pages = Vec::new();
    for _ in 0..40 {
        pages.extend(wizard_rows(&text(&s, 80, 24)));
        update(
            &mut s,
            Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Down,
                crossterm::event::KeyModifiers::NONE,
            )),
        );
    }
    for row in command[1..]
        .iter()
        .filter(|r| !r.starts_with("Same request by kubectl"))
    {
        assert!(pages.contains(row), "{row:?} never shown whole");
    }
    // What Ctrl-Y copies is what is shown (the command fits one row here), and it runs: the
    // object kubectl reads from it is the one the console sends.
    let Ok((_, copied)) = crate::app::copy::selection(&s) else {
        panic!("nothing to copy");
    };
    let kubectl_at = command
        .iter()
        .position(|r| r.starts_with("kubectl "))
        .unwrap();
    assert_eq!(copied, command[kubectl_at..].join("\n"));
    assert_eq!(read_back(&stdin_of(&[copied])), request.body().unwrap());
}

#[test]
fn at_80_columns_every_step_request_and_command_fits() {
    use crate::app::wizard::tests::{KEY, facts};
    let theme = crate::ui::theme::Theme { color: false };
    for step in [
        Step::ScaleDown,
        Step::DeletePvcs,
        Step::ScaleUp,
        Step::CreateRestore,
    ] {
        let mut s = incident_state(false);
        let mut w = Wizard::new(facts(), Some(KEY.into()));
        w.step = step;
        let request = w.request().unwrap().unwrap();
        s.wizard = Some(w);
        let all: Vec<String> = super::lines(&s, s.wizard.as_ref().unwrap(), theme, 78)
            .iter()
            .map(|l| l.to_string())
            .collect();
        let from = all
            .iter()
            .position(|l| l == "Enter sends exactly (after a dry run):")
            .unwrap();
        let to = all
            .iter()
            .position(|l| l.starts_with("Same request by kubectl"))
            .unwrap();
        let end = all[to..]
            .iter()
            .position(|l| l.starts_with("type the cluster name") || l.starts_with('['))
            .map_or(all.len(), |i| to + i);
        for row in all[from..end].iter().filter(|r| *r != &all[to]) {
            assert!(row.chars().count() <= 78, "{step:?}: {row:?} in {all:#?}");
        }
        // The request's rows give back its method and path.
        let (method, path) = request.method_path();
        let shown: String = all[from + 1..to]
            .iter()
            .filter(|r| !r.starts_with("  body"))
            .map(|r| r.trim_start())
            .collect();
        assert!(
            shown.starts_with(&format!("{method} {path}")),
            "{step:?}: {shown}"
        );
        // Its body too, but a created object's: that is in the here-document.
        if let (Some(body), false) = (request.body(), step == Step::CreateRestore) {
            let rows = all[from..to].join("\n");
            assert!(rows.contains(&body.to_string()), "{step:?}: {rows}");
        }
    }
}
