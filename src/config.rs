//! `$XDG_CONFIG_HOME/breakglass/config.toml` (else `~/.config/breakglass/config.toml`):
//! defaults for flags, every key optional. Command-line flags win over it.
//!
//! ```toml
//! color = "auto"                 # auto | always | never (also --color)
//! log_lines = 200000             # default --log-lines
//! patterns = ["~/team-rules.toml"]   # extra pattern files, after patterns.toml
//! openbao_token_file = "~/.bao-token" # default --openbao-token-file
//! openbao_ca = "/etc/ssl/openbao-ca.pem" # default --openbao-ca
//! write_key = "W"                # the key that toggles write mode
//! ```
//!
//! A key that is unknown or has the wrong type is a problem naming the file and the line;
//! the rest of the file still applies and the console still starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::patterns::line_of;

/// `--color` and the config's `color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour: `always`/`never` as said; `auto` follows NO_COLOR (set and
    /// non-empty: no colour). Explicit settings override NO_COLOR, as its convention asks.
    pub fn enabled(self, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub color: Option<ColorChoice>,
    pub log_lines: Option<u64>,
    pub patterns: Vec<PathBuf>,
    pub openbao_token_file: Option<PathBuf>,
    pub openbao_ca: Option<PathBuf>,
    /// The key that toggles write mode (`app::keymap::write_key_problem` says which may).
    pub write_key: Option<char>,
}

/// One thing wrong in the file, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

const KEYS: &str = "color, log_lines, patterns, openbao_token_file, openbao_ca, write_key";

/// The default location, when `XDG_CONFIG_HOME` or `HOME` says where.
pub(crate) fn default_path() -> Option<PathBuf> {
    crate::patterns::user_config_file().map(|p| p.with_file_name("config.toml"))
}

/// Read `path`; a missing file is an empty config, not a problem.
pub fn load(path: &Path) -> (Config, Vec<ConfigProblem>) {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Config::default(), vec![]),
        Err(e) => (
            Config::default(),
            vec![ConfigProblem {
                file: path.display().to_string(),
                line: 0,
                message: format!("cannot read: {e}"),
            }],
        ),
    }
}

pub fn parse(text: &str, file: &str) -> (Config, Vec<ConfigProblem>) {
    let mut config = Config::default();
    let mut problems = Vec::new();
    let mut problem = |offset: usize, message: String| {
        problems.push(ConfigProblem {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        });
    };
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let at = e.span().map_or(0, |s| s.start);
            problem(at, format!("not valid TOML: {}", e.message()));
            return (config, problems);
        }
    };
    for (key, value) in table {
        let at = key.span().start;
        let v = value.get_ref();
        let wrong = |want: &str| format!("`{}` must be {want}", key.get_ref());
        match key.get_ref().as_str() {
            "color" => match v.as_str() {
                Some("auto") => config.color = Some(ColorChoice::Auto),
                Some("always") => config.color = Some(ColorChoice::Always),
                Some("never") => config.color = Some(ColorChoice::Never),
                _ => problem(at, wrong("\"auto\", \"always\" or \"never\"")),
            },
            "log_lines" => match v.as_integer().and_then(|n| u64::try_from(n).ok()) {
                Some(n) if n >= 1 => config.log_lines = Some(n),
                _ => problem(at, wrong("a whole number of at least 1")),
            },
            "patterns" => match v.as_array() {
                Some(items) if items.iter().all(toml::Value::is_str) => {
                    config.patterns = items
                        .iter()
                        .filter_map(toml::Value::as_str)
                        .map(expand_home)
                        .collect();
                }
                _ => problem(at, wrong("a list of file paths")),
            },
            "openbao_token_file" | "openbao_ca" => match v.as_str() {
                Some(p) if key.get_ref() == "openbao_ca" => {
                    config.openbao_ca = Some(expand_home(p))
                }
                Some(p) => config.openbao_token_file = Some(expand_home(p)),
                None => problem(at, wrong("a file path")),
            },
            "write_key" => {
                let mut chars = v.as_str().unwrap_or_default().chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => match crate::app::keymap::write_key_problem(c) {
                        None => config.write_key = Some(c),
                        Some(why) => problem(at, format!("`write_key` {why}")),
                    },
                    _ => problem(at, wrong("one character, e.g. \"W\"")),
                }
            }
            other => problem(at, format!("unknown key `{other}` (known: {KEYS})")),
        }
    }
    problems.sort_by_key(|p| p.line);
    (config, problems)
}

/// `~/x` is `$HOME/x`, as a shell would say it.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read_and_an_unknown_key_names_file_and_line_without_losing_the_rest() {
        let text = "color = \"never\"\nlog_lines = 500\n\n# mine\ncolour = \"always\"\npatterns = [\"/r/a.toml\", \"/r/b.toml\"]\nopenbao_token_file = \"/t\"\nopenbao_ca = \"/ca.pem\"\n";
        let (c, problems) = parse(text, "/home/u/.config/breakglass/config.toml");
        assert_eq!(c.color, Some(ColorChoice::Never));
        assert_eq!(c.log_lines, Some(500));
        assert_eq!(
            c.patterns,
            [PathBuf::from("/r/a.toml"), PathBuf::from("/r/b.toml")]
        );
        assert_eq!(c.openbao_token_file, Some(PathBuf::from("/t")));
        assert_eq!(c.openbao_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            format!(
                "/home/u/.config/breakglass/config.toml:5: unknown key `colour` (known: {KEYS})"
            )
        );
    }

    #[test]
    fn wrong_types_and_broken_toml_are_problems_with_lines() {
        let (c, p) = parse("log_lines = 0\ncolor = true\npatterns = \"x\"\n", "f");
        assert_eq!(c, Config::default());
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3], "{p:?}");
        let (_, p) = parse("a = \n", "f");
        assert_eq!(p.len(), 1);
        assert!(p[0].message.starts_with("not valid TOML"), "{p:?}");
        let (c, p) = load(Path::new("/nonexistent/breakglass/config.toml"));
        assert_eq!((c, p), (Config::default(), vec![]));
    }

    #[test]
    fn the_write_key_is_one_free_character_and_a_bad_one_names_file_and_line() {
        let (c, p) = parse("write_key = \"X\"\n", "f");
        assert_eq!((c.write_key, p), (Some('X'), vec![]));
        let text = "color = \"never\"\nwrite_key = \"w\"\n";
        let (c, p) = parse(text, "/c/config.toml");
        // The rest applies; the key stays the default.
        assert_eq!((c.color, c.write_key), (Some(ColorChoice::Never), None));
        assert_eq!(p.len(), 1, "{p:?}");
        let said = p[0].to_string();
        assert!(
            said.starts_with("/c/config.toml:2: `write_key` 'w' is typed in the Restore wizard"),
            "{said}"
        );
        for bad in ["\"WX\"", "\"\"", "7"] {
            let (c, p) = parse(&format!("write_key = {bad}\n"), "f");
            assert_eq!(c.write_key, None);
            assert!(p[0].message.contains("one character"), "{bad}: {p:?}");
        }
        let (_, p) = parse("write_key = \"?\"\n", "f");
        assert!(p[0].message.contains("show this help"), "{p:?}");
    }

    #[test]
    fn explicit_colour_overrides_no_color_and_auto_follows_it() {
        let set = Some(std::ffi::OsStr::new("1"));
        assert!(ColorChoice::Always.enabled(set));
        assert!(!ColorChoice::Auto.enabled(set));
        assert!(ColorChoice::Auto.enabled(Some(std::ffi::OsStr::new(""))));
        assert!(ColorChoice::Auto.enabled(None));
        assert!(!ColorChoice::Never.enabled(None));
    }
}
