//! The terminal runtime: raw mode, the event loop, effects, and restoring the terminal.
