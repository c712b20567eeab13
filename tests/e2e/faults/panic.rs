//! A panic in the console: the terminal is restored (raw mode and the alternate screen
//! left, the cursor shown) before the panic's message is printed, and the process exits.
//!
//! The product has no way to make itself panic (and gets none: a hidden trigger would be a
//! way to crash it in an incident), so the panic is this test binary's own: re-run as a
//! child in a pty, it sets the terminal up exactly as `breakglass` does (`color_eyre`'s
//! hook installed first, as `main` does, then `terminal::TerminalGuard::enter`, the
//! console's and the picker's only way into full-screen mode), draws a frame and panics
//! on the runtime's thread, as a bug in the console's loop would.
//!
//! A panic on another thread (a source's task, a write) is the second row: the child runs
//! the real console (`tui::run_console`) on the simulator, and a task of its own, beside the
//! console's, panics; the console must stop rather than draw on in the restored terminal.

use std::time::Duration;

use crate::support::faults::Row;
use crate::support::tmux::Tmux;

const CHILD: &str = "BREAKGLASS_TEST_PANIC_CHILD";
const MESSAGE: &str = "a deliberate panic in the console loop";

/// Only does something as the child of [`a_panic_restores_the_terminal_and_prints_its_message`].
#[test]
fn panicking_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    child_runtime().block_on(async {
        let mut guard = breakglass::terminal::TerminalGuard::enter().unwrap();
        guard
            .terminal
            .draw(|f| {
                f.render_widget(ratatui::widgets::Paragraph::new("FULL SCREEN"), f.area());
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        panic!("{MESSAGE}");
    });
}

/// A child's set-up as `breakglass`'s `main` does it: color-eyre's hook, then a runtime.
fn child_runtime() -> tokio::runtime::Runtime {
    color_eyre::install().unwrap();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// This test binary re-run in a pty as the child test `name` (its module's), with `env`.
fn child_in_pty(name: &str, env: &[&str]) -> Tmux {
    let me = std::env::current_exe().unwrap();
    let test = format!("faults::panic::{name}");
    // Short report: the message must not scroll off behind a backtrace.
    let mut env = env.to_vec();
    env.extend(["RUST_BACKTRACE=0", "RUST_LIB_BACKTRACE=0"]);
    Tmux::start_program(
        (120, 40),
        &me.display().to_string(),
        &["--exact", &test, "--nocapture", "--test-threads=1"],
        None,
        &env,
    )
}

#[test]
fn a_panic_restores_the_terminal_and_prints_its_message() {
    let t = child_in_pty("panicking_child", &[&format!("{CHILD}=1")]);
    t.wait_for("FULL SCREEN");
    assert_eq!(
        t.format("#{alternate_on}"),
        "1",
        "full screen before the panic"
    );
    let status = t.wait_dead();
    t.assert_restored();
    let screen = t.scrollback();
    assert!(screen.contains(MESSAGE), "{screen}");
    assert!(screen.contains("The application panicked"), "{screen}");
    // libtest reports the panicking test as failed (101); the binary's `main` would exit
    // with the panic's 101 too.
    assert_eq!(status, "101", "{screen}");
    Row {
        fault: "a panic in the console's loop (this test binary's child, set up as `breakglass` is)",
        saw: "alternate screen left, cursor shown, color-eyre's `The application panicked (crashed)` report with the message left readable below (before this change the guard left the alternate screen a second time while unwinding, the cursor jumped back and what came next overwrote the report)".into(),
        detect: "n/a".into(),
        recover: "the process ends (101)".into(),
        lines: "n/a".into(),
        mutations: 0,
    }
    .print();
}

const TASK_CHILD: &str = "BREAKGLASS_TEST_TASK_PANIC_CHILD";
const TASK_MESSAGE: &str = "a deliberate panic in a background task";

/// Only does something as the child of [`a_panic_in_a_background_task_stops_the_console`]:
/// the console on the simulator, and beside it a task that panics once the console is up.
#[test]
fn console_with_a_panicking_task_child() {
    if std::env::var_os(TASK_CHILD).is_none() {
        return;
    }
    let result = child_runtime().block_on(async {
        let (sim, conn, _dir) =
            crate::support::faults::sim_and_connection("transient", 1.0, None).await;
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            panic!("{TASK_MESSAGE}");
        });
        let result = breakglass::tui::run_console(breakglass::tui::Console {
            conn,
            access: breakglass::sources::openbao_http::NodeAccess::default(),
            cluster: sim.cluster.clone(),
            context_label: "faults".into(),
            write: breakglass::app::write_mode::WriteStart::new(false),
            log_lines: None,
            color: false,
            guard: None,
        })
        .await;
        sim.shutdown().await;
        result
    });
    // As `main` ends on an error: the report, then a failure status.
    eprintln!("Error: {result:?}");
    std::process::exit(if result.is_err() { 3 } else { 0 });
}

#[test]
fn a_panic_in_a_background_task_stops_the_console() {
    let home = tempfile::tempdir().unwrap();
    let mut env: Vec<String> = [
        "XDG_STATE_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
    ]
    .iter()
    .map(|k| format!("{k}={}", home.path().display()))
    .collect();
    env.push(format!("{TASK_CHILD}=1"));
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let t = child_in_pty("console_with_a_panicking_task_child", &env);
    t.wait_for("prod-cluster");
    assert_eq!(t.format("#{alternate_on}"), "1", "the console is up");
    let status = t.wait_dead();
    t.assert_restored();
    let screen = t.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "e2e"]);
    assert!(screen.contains(TASK_MESSAGE), "{screen}");
    assert!(screen.contains("one of its tasks panicked"), "{screen}");
    // Nothing drawn after the report: the console's frames (its pane titles) are not below it.
    let report = screen.find(TASK_MESSAGE).unwrap();
    assert!(
        !screen[report..].contains("Raft"),
        "drawn over the report:\n{screen}"
    );
    assert_eq!(status, "3", "{screen}");
    Row {
        fault: "a panic on a background task (the real console on the simulator, a task beside its own panics; this test binary's child)",
        saw: "the report printed in the restored terminal, then the console stops with `one of its tasks panicked (the report is above)…check the journal` (before: the loop went on drawing in the restored terminal, over the report)".into(),
        detect: "at once (the panic hook wakes the loop)".into(),
        recover: "the process ends with an error status; restart".into(),
        lines: "n/a".into(),
        mutations: 0,
    }
    .print();
}
