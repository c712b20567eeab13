//! Search and filter queries over stored lines: a plain substring, case-insensitive unless
//! the query has an upper-case letter (smart case, as in less and ripgrep). Plain text, not
//! a regex: typed under pressure, a `(` or `.` must mean itself.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    text: String,
    /// The needle as compared: lower-cased unless the query is case-sensitive.
    needle: String,
    case_sensitive: bool,
}

impl Query {
    /// None for an empty query.
    pub fn new(text: &str) -> Option<Query> {
        if text.is_empty() {
            return None;
        }
        let case_sensitive = text.chars().any(char::is_uppercase);
        Some(Query {
            text: text.to_string(),
            needle: if case_sensitive {
                text.to_string()
            } else {
                text.to_lowercase()
            },
            case_sensitive,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, line: &str) -> bool {
        if self.case_sensitive {
            line.contains(&self.needle)
        } else if line.is_ascii() && self.needle.is_ascii() {
            line.as_bytes()
                .windows(self.needle.len())
                .any(|w| w.eq_ignore_ascii_case(self.needle.as_bytes()))
        } else {
            line.to_lowercase().contains(&self.needle)
        }
    }

    /// Byte ranges of the matches in `line` (for highlighting what is drawn).
    pub(crate) fn ranges(&self, line: &str) -> Vec<Range<usize>> {
        let n = self.needle.len();
        if !self.case_sensitive && !line.is_ascii() {
            // Lower-casing can change byte lengths: highlight nothing rather than a wrong span.
            return Vec::new();
        }
        let mut out = Vec::new();
        let bytes = line.as_bytes();
        let mut i = 0;
        while i + n <= bytes.len() {
            let hit = if self.case_sensitive {
                &bytes[i..i + n] == self.needle.as_bytes()
            } else {
                bytes[i..i + n].eq_ignore_ascii_case(self.needle.as_bytes())
            };
            if hit {
                out.push(i..i + n);
                i += n.max(1);
            } else {
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_and_literal_text() {
        let q = Query::new("leader").unwrap();
        assert!(q.matches("No Leader found"));
        let q = Query::new("Leader").unwrap();
        assert!(!q.matches("no leader found"));
        assert!(Query::new("").is_none());
        let q = Query::new("status 403 (").unwrap();
        assert!(q.matches("failed with status 403 (forbidden)"));
        assert_eq!(Query::new("ab").unwrap().ranges("xAByab"), [1..3, 4..6]);
    }
}
