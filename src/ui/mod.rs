//! Rendering: one function per pane and dialog, read-only over `app::State`.

pub mod layout;
