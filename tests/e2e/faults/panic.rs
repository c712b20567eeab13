//! A panic in the console: the terminal is restored (raw mode and the alternate screen
//! left, the cursor shown) before the panic's message is printed, and the process exits.
//!
//! The product has no way to make itself panic (and gets none: a hidden trigger would be a
//! way to crash it in an incident), so the panic is this test binary's own: re-run as a
//! child in a pty, it sets the terminal up exactly as `breakglass` does (`color_eyre`'s
//! hook installed first, as `main` does, then `terminal::TerminalGuard::enter`, the
//! console's and the picker's only way into full-screen mode), draws a frame and panics
//! on the runtime's thread, as a bug in the console's loop would.

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
    color_eyre::install().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
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

#[test]
fn a_panic_restores_the_terminal_and_prints_its_message() {
    let me = std::env::current_exe().unwrap();
    let env = format!("{CHILD}=1");
    let t = Tmux::start_program(
        (120, 40),
        &me.display().to_string(),
        &[
            "--exact",
            "faults::panic::panicking_child",
            "--nocapture",
            "--test-threads=1",
        ],
        None,
        // Short report: the message must not scroll off behind a backtrace.
        &[&env, "RUST_BACKTRACE=0", "RUST_LIB_BACKTRACE=0"],
    );
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
