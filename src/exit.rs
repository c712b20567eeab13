//! The exit statuses of every command, in one place (`--help` and the README list them).

use std::process::ExitCode;

/// How a command ended. `status`: [`Exit::Ok`] (no break glass) or
/// [`Exit::BreakGlassActive`]; `ack`: [`Exit::Ok`] (acknowledged), [`Exit::Refused`],
/// [`Exit::Forbidden`] or [`Exit::Conflict`]; any command: [`Exit::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done (`status`: break glass is not active; `ack`: acknowledged).
    Ok,
    /// An error: the cluster could not be read, the runtime did not start…
    Error,
    /// `status`: break glass is active.
    BreakGlassActive,
    /// `ack`: nothing was sent (a guard refused, or not confirmed).
    Refused,
    /// `ack`: the RBAC preflight or the API server said 403; nothing was applied.
    Forbidden,
    /// `ack`: 409, the cluster changed after the body was built; nothing was applied.
    Conflict,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::BreakGlassActive => 3,
            Exit::Refused => 4,
            Exit::Forbidden => 5,
            Exit::Conflict => 6,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_distinct_and_documented() {
        let all = [
            Exit::Ok,
            Exit::Error,
            Exit::BreakGlassActive,
            Exit::Refused,
            Exit::Forbidden,
            Exit::Conflict,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes, [0, 1, 3, 4, 5, 6]);
    }
}
