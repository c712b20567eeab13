//! The console and `breakglass ack` refuse the same states with the same `Refusal`: the
//! console through `update` (a Retry dialog opened on the incident, then the state changed,
//! then confirmed), `ack` through its pure judgement on the same incident.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::fixtures::{NONCE, incident_state};
use super::super::msg::{Preflight, SourceEvent};
use super::super::{Dialog, Effect, Focus, Msg, Presence, State, update};
use crate::domain::ClusterView;
use crate::domain::diagnosis::Denied;
use crate::domain::paths::PathKind;
use crate::domain::write::{ClusterWrite, Refusal, guard};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// One row: how the state changes after the dialog opened, and the refusal both give.
type Change = fn(&mut State);

fn cluster_mut(s: &mut State) -> &mut ClusterView {
    s.incident.cluster.as_mut().unwrap()
}

fn rows() -> Vec<(&'static str, Change, Option<Refusal>)> {
    vec![
        ("nothing changed", |_| {}, None),
        (
            "break glass over",
            |s| cluster_mut(s).break_glass.as_mut().unwrap().active = false,
            Some(Refusal::BreakGlassInactive),
        ),
        (
            "no nonce",
            |s| cluster_mut(s).break_glass.as_mut().unwrap().nonce = None,
            Some(Refusal::NoNonce),
        ),
        (
            "a new nonce",
            |s| cluster_mut(s).break_glass.as_mut().unwrap().nonce = Some("0123".into()),
            Some(Refusal::NonceChanged {
                confirmed: NONCE.into(),
                current: "0123".into(),
            }),
        ),
        (
            "no resourceVersion",
            |s| cluster_mut(s).resource_version.clear(),
            Some(Refusal::NoResourceVersion),
        ),
        (
            "a restore holds the cluster",
            |s| cluster_mut(s).controls.restore_hold = Some("uid-7".into()),
            Some(Refusal::RestoreHold {
                uid: "uid-7".into(),
            }),
        ),
        (
            "the cluster is gone",
            |s| {
                s.incident.cluster = None;
                s.presence = Presence::Missing;
            },
            Some(Refusal::ClusterMissing),
        ),
        (
            "the patch is forbidden",
            |s| {
                s.rbac = Some(Preflight {
                    identity: "viewer".into(),
                    denied: vec![Denied {
                        path: PathKind::Retry,
                        permission: "patch openbaoclusters.openbao.org in security".into(),
                    }],
                })
            },
            Some(Refusal::Forbidden {
                who: "viewer".into(),
                verb: "patch".into(),
                resource: "openbaoclusters.openbao.org in security".into(),
            }),
        ),
    ]
}

#[test]
fn the_console_and_ack_refuse_the_same_states_with_the_same_refusal() {
    for (what, change, expected) in rows() {
        // The console: the dialog opened on the incident, then the change, then confirmed.
        let mut s = incident_state(true);
        s.focus = Focus::Decision;
        update(&mut s, key(KeyCode::Enter));
        assert!(
            matches!(s.dialog, Some(Dialog::ConfirmRetry { .. })),
            "{what}"
        );
        change(&mut s);
        let effects = update(&mut s, key(KeyCode::Tab))
            .into_iter()
            .chain(update(&mut s, key(KeyCode::Enter)))
            .collect::<Vec<_>>();
        let sent: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Patch(p) => Some(p),
                _ => None,
            })
            .collect();
        // `ack --nonce NONCE` on the same incident, as the same user.
        let (who, denied) = s
            .rbac
            .as_ref()
            .map_or(("admin", &[][..]), |r| (r.identity.as_str(), &r.denied[..]));
        let by_ack = crate::ack::judge(&s.incident, &s.opts.namespace, who, denied, NONCE);
        match &expected {
            None => {
                let patch = by_ack.unwrap_or_else(|r| panic!("{what}: ack refused: {r}"));
                assert_eq!(sent, [&patch], "{what}: the same body from both");
            }
            Some(refusal) => {
                assert!(sent.is_empty(), "{what}: the console sent {sent:?}");
                assert_eq!(by_ack.as_ref().err(), Some(refusal), "{what}: ack");
                assert_eq!(
                    s.decision.notice.as_deref(),
                    Some(refusal.to_string().as_str()),
                    "{what}: the console's notice"
                );
                // And the typed answer of the console's guard, as the press judged it.
                let console = super::retry_allowed(&s).and_then(|now| {
                    let confirmed = ClusterWrite::Acknowledge {
                        nonce: NONCE.into(),
                    };
                    guard::confirmed(&confirmed, None, &now.patch)
                });
                assert_eq!(console.as_ref().err(), Some(refusal), "{what}: console");
            }
        }
    }
}

#[test]
fn a_refused_send_is_shown_with_the_same_text_the_cli_prints() {
    let mut s = incident_state(true);
    s.decision.in_flight = Some(NONCE.into());
    update(
        &mut s,
        Msg::Source(SourceEvent::Action(
            super::super::msg::ActionOutcome::Refused {
                reason: Refusal::BreakGlassInactive,
            },
        )),
    );
    assert_eq!(
        s.decision.status_line().as_deref(),
        Some("refused, nothing sent: break glass is not active")
    );
}
