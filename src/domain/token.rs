//! An OpenBao token held in memory: never formatted, never serialised. Only
//! [`OpenBaoToken::expose`] gives the text, for the `X-Vault-Token` request header.

use std::fmt;

/// A secret token. `Debug` prints `OpenBaoToken(<redacted>)`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenBaoToken(String);

impl OpenBaoToken {
    /// None for an empty (or whitespace-only) token.
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        let trimmed = token.trim();
        (!trimmed.is_empty()).then(|| OpenBaoToken(trimmed.to_string()))
    }

    /// `s.` and 24 random alphanumerics, like an OpenBao service token (the simulator's
    /// root token).
    pub fn random() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let body: String = (0..24)
            .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
            .collect();
        OpenBaoToken(format!("s.{body}"))
    }

    /// The token text, for a request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OpenBaoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenBaoToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let t = OpenBaoToken::new("s.secret-value\n").unwrap();
        assert_eq!(t.expose(), "s.secret-value");
        let shown = format!("{t:?} {:?}", Some(&t));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(OpenBaoToken::new("  \n").is_none());
    }
}
