//! Write mode: the console is read-only until the user asks for writes (`W` in the Decision
//! pane, or the config's `write_key`; or `--write`). It is shown in the header, and drops
//! back by itself after [`WINDOW_SECS`] (driven by `Msg::Tick`) or after an action was
//! carried out.

use jiff::{SignedDuration, Timestamp};

/// How long write mode lasts once entered.
pub(crate) const WINDOW_SECS: i64 = 300;

/// The key that toggles write mode unless the config names another.
pub const DEFAULT_KEY: char = 'W';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMode {
    /// Writes are allowed until this instant; None is read-only.
    pub until: Option<Timestamp>,
    /// The key that toggles it (the keymap, footer, help and texts say this one).
    pub key: char,
}

impl Default for WriteMode {
    fn default() -> Self {
        WriteMode {
            until: None,
            key: DEFAULT_KEY,
        }
    }
}

/// How a console session starts: `--write`, and the write-mode key (config `write_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStart {
    pub on: bool,
    pub key: char,
}

impl WriteStart {
    /// `--write` or not, with the default key.
    pub fn new(on: bool) -> Self {
        WriteStart {
            on,
            key: DEFAULT_KEY,
        }
    }
}

impl WriteMode {
    pub fn is_on(&self, now: Timestamp) -> bool {
        self.until.is_some_and(|u| now < u)
    }

    pub(crate) fn enter(&mut self, now: Timestamp) {
        self.until = now.checked_add(SignedDuration::from_secs(WINDOW_SECS)).ok();
    }

    pub fn leave(&mut self) {
        self.until = None;
    }

    /// Whole seconds left (None when read-only).
    pub(crate) fn remaining_secs(&self, now: Timestamp) -> Option<i64> {
        let until = self.until.filter(|u| now < *u)?;
        Some(until.duration_since(now).as_secs())
    }

    /// Drop back to read-only when the window has passed; true when it just did.
    pub(crate) fn expire(&mut self, now: Timestamp) -> bool {
        if self.until.is_some() && !self.is_on(now) {
            self.until = None;
            return true;
        }
        false
    }

    /// Why a mutation may not be prepared now.
    pub fn guard(&self, now: Timestamp) -> Result<(), String> {
        if self.is_on(now) {
            Ok(())
        } else {
            Err(format!(
                "read-only mode: press {} in the Decision pane to allow writes for 5 minutes",
                self.key
            ))
        }
    }

    /// The header's badge.
    pub fn badge(&self, now: Timestamp) -> String {
        match self.remaining_secs(now) {
            Some(s) => format!("WRITE {}:{:02}", s / 60, s % 60),
            None => "READ-ONLY".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_mode_expires_after_the_window() {
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let mut w = WriteMode::default();
        assert!(w.guard(t0).is_err());
        assert_eq!(w.badge(t0), "READ-ONLY");
        w.enter(t0);
        assert_eq!(w.badge(t0), "WRITE 5:00");
        let later = t0.checked_add(SignedDuration::from_secs(299)).unwrap();
        assert!(!w.expire(later) && w.is_on(later));
        let end = t0.checked_add(SignedDuration::from_secs(300)).unwrap();
        assert!(w.expire(end));
        assert!(!w.is_on(end) && w.until.is_none());
    }
}
