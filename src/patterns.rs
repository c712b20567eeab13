//! Log pattern rules: which executor lines the runbook and the operator code give meaning to.
//!
//! Sits between the log follower and the Logs pane (and `breakglass highlight`). The rules
//! live in `assets/patterns.toml` (embedded); a user file (`--patterns FILE`, then
//! `$XDG_CONFIG_HOME/breakglass/patterns.toml`) replaces rules by id and adds new ones
//! before the built-ins ([`RuleSet::load`]). A broken user rule is reported as a
//! [`RuleProblem`] naming the file, line and rule, and the rest still load: the console
//! always starts.
//!
//! Everything is compiled once: a regex set classifies every line on insert (which rules
//! match; the first gives the badge), the per-rule regexes find highlight [`RuleSet::spans`]
//! only for what is drawn. The runtime installs the loaded set once ([`install`]) before any
//! line arrives; `logs::LineStore` and the UI read it through [`active`], so rules can be
//! `&'static` and a stored line costs one pointer.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, OnceLock};

use regex::{Regex, RegexBuilder};
use regex_automata::{Input, MatchKind, PatternID, PatternSet, meta};

mod literals;
mod load;
pub(crate) use load::line_of;

pub(crate) use literals::{Literals, fold_into};
pub(crate) use load::{RuleProblem, user_config_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warn,
    Info,
}

impl Severity {
    /// The text badge; colour is never the only carrier of severity (NO_COLOR, bad TERM).
    pub fn badge(self) -> &'static str {
        match self {
            Severity::Error => "[ERR]",
            Severity::Warn => "[WRN]",
            Severity::Info => "[INF]",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }
}

/// Where a rule's meaning comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// The runbook's log table (`failed-rollback.md`).
    Runbook,
    /// Strings the operator's executor code really prints (dc-tec/openbao-operator@002fbdd `cmd/bao-upgrade/main.go` and the executor in `internal/upgrade`).
    OperatorCode,
}

impl RuleSource {
    pub fn name(self) -> &'static str {
        match self {
            RuleSource::Runbook => "runbook",
            RuleSource::OperatorCode => "operator-code",
        }
    }
}

/// The resolution path a matched line points to (the Decision pane's paths, or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Retry,
    FixForward,
    Restore,
    None,
}

impl Resolution {
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Retry => "retry",
            Resolution::FixForward => "fix-forward",
            Resolution::Restore => "restore",
            Resolution::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub pattern: String,
    pub severity: Severity,
    /// One line: what the line means for this incident.
    pub meaning: String,
    pub path: Resolution,
    pub source: RuleSource,
    /// False for runbook strings that the real operator never prints (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`).
    pub in_operator_code: bool,
    /// The operator lines whose source prints this string (`0.1`, `0.2-0.5.0`, `0.6`);
    /// empty: none does; None: the rule does not say (user rules may leave it out).
    pub generations: Option<Vec<String>>,
    /// The line's own zap level does not cap the severity: an INFO entry that reports a
    /// failure (`Failed to find leader among … pods, checking … pods` is printed only after
    /// both searches failed).
    pub uncapped: bool,
    /// `builtin` or the user file the rule came from.
    pub origin: String,
    regex: Regex,
}

impl Rule {
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Shown next to the meaning: the runbook's strings do not exist in the real code.
    pub(crate) fn runbook_only(&self) -> bool {
        self.source == RuleSource::Runbook && !self.in_operator_code
    }

    /// Shown next to the meaning: which operator lines print the string.
    pub(crate) fn generations_label(&self) -> Option<String> {
        let g = self.generations.as_ref()?;
        Some(if g.is_empty() {
            "no operator line".into()
        } else {
            format!("operator {}", g.join(", "))
        })
    }
}

/// A highlighted part of a line: byte range and the rule that matched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub range: Range<usize>,
    pub rule: usize,
    pub severity: Severity,
}

/// What [`RuleSet::classify_among`] leaves: the line's spans (a buffer reused line to line).
#[derive(Debug, Default)]
pub(crate) struct LineWork {
    pub spans: Vec<Span>,
}

/// The compiled rules plus what went wrong loading them.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Every rule, reporting which match (a regex set).
    set: Option<meta::Regex>,
    /// All rules as one regex, for a fast "does anything match" (None: no rules).
    any: Option<Regex>,
    /// Per rule: its regex can match a tab ([`RuleSet::classify_and_spans`]).
    tab_rules: Vec<bool>,
    /// Every rule's rarest literals ([`RuleSet::literals`]), built on first use: only
    /// `highlight` searches blocks of lines, the console need not pay for them.
    prefilter: OnceLock<Option<Literals>>,
    problems: Vec<RuleProblem>,
}

const DFA_CACHE: usize = 16 << 20;

/// The embedded default rules.
pub(crate) const BUILTIN_TOML: &str = include_str!("../assets/patterns.toml");

impl RuleSet {
    fn compile(rules: Vec<Rule>, mut problems: Vec<RuleProblem>) -> RuleSet {
        // A roomy lazy-DFA cache: 30+ case-insensitive alternations thrash the default one
        // and fall back to the slow engine on every line. No literal prefilter for the set:
        // it runs on lines the prefilter of `any` below already let through, where short
        // literals (`con`, `fai`, ...) are found everywhere (about a fifth of its time).
        let set = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .auto_prefilter(false)
                    .hybrid_cache_capacity(DFA_CACHE),
            )
            .build_many(&rules.iter().map(|r| r.pattern.as_str()).collect::<Vec<_>>());
        // One alternation of every rule: its literal prefilter rejects the many lines no
        // rule matches in one fast scan (what makes ripgrep fast); the set runs only after.
        let joined: Vec<String> = rules.iter().map(|r| format!("(?:{})", r.pattern)).collect();
        let joined = joined.join("|");
        let any = RegexBuilder::new(&joined).dfa_size_limit(DFA_CACHE).build();
        let (set, any) = match (set, any) {
            (Ok(set), Ok(any)) => (Some(set), Some(any)),
            (set, any) => {
                // Every pattern compiled alone, so only a size limit can fail here.
                let e = set.err().map(|e| e.to_string());
                let e = e.or_else(|| any.err().map(|e| e.to_string()));
                problems.push(RuleProblem::whole_set(&e.unwrap_or_default()));
                (None, None)
            }
        };
        let tab_rules = rules.iter().map(|r| can_match_tab(&r.pattern)).collect();
        let prefilter = OnceLock::new();
        RuleSet {
            rules,
            set,
            any,
            tab_rules,
            prefilter,
            problems,
        }
    }

    /// The built-in rules only.
    pub fn builtin() -> RuleSet {
        RuleSet::from_text(BUILTIN_TOML, "builtin")
    }

    /// The rules of one pattern file's `text` alone (named `label` in its problems), read
    /// as [`RuleSet::load`] reads a file but without the built-in rules under it (so its
    /// `disabled` entries remove nothing). Also what the `pattern_file` fuzz target drives:
    /// a whole set compiles the built-ins again each time, too slowly to fuzz.
    pub fn from_text(text: &str, label: &str) -> RuleSet {
        let mut problems = Vec::new();
        let rules = load::rules_only(load::parse(text, label, &mut problems));
        RuleSet::compile(rules, problems)
    }

    /// The built-in rules, then each existing user file in order (a missing `--patterns`
    /// file is a problem; a missing config file is not: it is optional).
    pub fn load(explicit: Option<&Path>, config: Option<PathBuf>) -> RuleSet {
        RuleSet::load_all(explicit.as_slice(), config)
    }

    /// As [`RuleSet::load`], with several required files (`--patterns`, then the config
    /// file's `patterns` list), applied after the optional one in this order.
    pub(crate) fn load_all(explicit: &[&Path], config: Option<PathBuf>) -> RuleSet {
        let mut problems = Vec::new();
        let mut rules = load::rules_only(load::parse(BUILTIN_TOML, "builtin", &mut problems));
        let mut files: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(c) = config {
            files.push((c, false));
        }
        files.extend(explicit.iter().map(|e| (e.to_path_buf(), true)));
        for (file, required) in files {
            let label = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    let user = load::parse(&text, &label, &mut problems);
                    rules = load::merge(rules, user);
                }
                Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                    problems.push(RuleProblem::file(&label, &e.to_string()));
                }
                Err(_) => {}
            }
        }
        RuleSet::compile(rules, problems)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    /// What went wrong loading user rules (shown in the Logs pane and on stderr).
    pub fn problems(&self) -> &[RuleProblem] {
        &self.problems
    }

    /// Indices of the rules matching `line`, in rule order. Continuation lines (zap stack
    /// frames, indented) are part of the entry above and never match on their own. With
    /// `prefilter`, the one-regex scan runs first: it rejects the many lines no rule matches
    /// quickly and is pure cost on a line already known to be a candidate (the alternation
    /// matches exactly when one of the rules does, so results never depend on it).
    fn matching_rules(&self, line: &str, prefilter: bool) -> Option<PatternSet> {
        if line.starts_with([' ', '\t'])
            || (prefilter && !self.any.as_ref().is_some_and(|a| a.is_match(line)))
        {
            return None;
        }
        let set = self.set.as_ref()?;
        let mut matched = PatternSet::new(set.pattern_len());
        set.which_overlapping_matches(&Input::new(line), &mut matched);
        Some(matched)
    }

    /// The first rule matching `line`.
    pub fn first_match(&self, line: &str) -> Option<&Rule> {
        let first = self.matching_rules(line, true)?.iter().next()?.as_usize();
        self.rules.get(first)
    }

    /// The rule giving a line its meaning and the severity to badge it with. The line's own
    /// level caps the severity: the executor logs `no leader found` at INFO when it falls back
    /// to Green, which is not the failure (the same words after `upgrade-executor error:` are).
    pub fn classify(&self, line: &str) -> Option<(&Rule, Severity)> {
        self.classify_with(line, true)
    }

    fn classify_with(&self, line: &str, prefilter: bool) -> Option<(&Rule, Severity)> {
        let first = self
            .matching_rules(line, prefilter)?
            .iter()
            .next()?
            .as_usize();
        let rule = self.rules.get(first)?;
        Some((rule, capped(rule, line)))
    }

    /// [`RuleSet::classify`] of `raw` (a redacted line) and, when it matches, the
    /// [`RuleSet::spans`] of `text` (the same line sanitised), from one scan of the rule set
    /// where that is exact; `prefilter` false skips the literal prefilter (never changes
    /// the result).
    ///
    /// The set scans `text`. When `text` is `raw`, that is the classification too. When
    /// sanitising only expanded tabs (`raw` printable ASCII and tabs), the two differ only
    /// through matches holding a tab or a space that was one: a rule matching `text` is
    /// checked on `raw` with its own regex before it gives the badge, and a rule that can
    /// match a tab (`\tERROR\t`, `[^"]*`) is checked on `raw` whatever the scan said (a
    /// match without a tab would be in `text` too). Any other line is scanned twice.
    pub(crate) fn classify_and_spans(
        &self,
        raw: &str,
        text: &str,
        prefilter: bool,
    ) -> (Option<(&Rule, Severity)>, Vec<Span>) {
        let same = raw == text;
        let tab_expanded = !same
            && text.is_ascii()
            && raw.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
        if !same && !tab_expanded {
            let matched = self.classify_with(raw, prefilter);
            let spans = match matched {
                Some(_) => self.spans_with(text, false),
                None => Vec::new(),
            };
            return (matched, spans);
        }
        if raw.starts_with([' ', '\t'])
            || (prefilter && !self.any.as_ref().is_some_and(|a| a.is_match(raw)))
        {
            return (None, Vec::new());
        }
        // `text` starts with a space exactly when `raw` starts with a space or a tab.
        let Some(in_text) = self.matching_rules(text, false) else {
            return (None, Vec::new());
        };
        let matches_raw = |i: usize| {
            let listed = PatternID::new(i).is_ok_and(|p| in_text.contains(p));
            if same {
                return listed;
            }
            (listed || self.tab_rules.get(i) == Some(&true))
                && self.rules.get(i).is_some_and(|r| r.regex.is_match(raw))
        };
        let Some(rule) = (0..self.rules.len())
            .find(|&i| matches_raw(i))
            .and_then(|i| self.rules.get(i))
        else {
            return (None, Vec::new());
        };
        let spans = self.spans_of(text, in_text.iter().map(|p| p.as_usize()));
        (Some((rule, capped(rule, raw))), spans)
    }

    /// Highlight spans of every matching rule in `text`, sorted, not overlapping (an earlier
    /// rule wins an overlap). Cost is one set scan plus one scan per matching rule: meant
    /// for the lines on screen, never the whole buffer.
    pub fn spans(&self, text: &str) -> Vec<Span> {
        self.spans_with(text, true)
    }

    fn spans_with(&self, text: &str, prefilter: bool) -> Vec<Span> {
        match self.matching_rules(text, prefilter) {
            Some(matching) => self.spans_of(text, matching.iter().map(|p| p.as_usize())),
            None => Vec::new(),
        }
    }

    /// The rules' literals, searched in a block of lines at once (what makes ripgrep fast: its
    /// literal prefilter runs over the buffer, not per line): which lines may match, and which
    /// rules may match such a line. Exact for lines of printable ASCII and tabs
    /// ([`RuleSet::classify_among`]); None when they could not be compiled.
    pub(crate) fn literals(&self) -> Option<&Literals> {
        self.prefilter
            .get_or_init(|| {
                Literals::new(
                    &self
                        .rules
                        .iter()
                        .map(|r| r.pattern.as_str())
                        .collect::<Vec<_>>(),
                )
            })
            .as_ref()
    }

    /// [`RuleSet::classify_and_spans`] of a line of printable ASCII and tabs (`raw`, redaction
    /// left it unchanged) whose sanitised `text` is `raw` with its tabs expanded (nothing cut),
    /// looking only at `candidates`: ascending, every rule that can match `raw` and every rule
    /// that can match `text` among them ([`Literals::rules_until`]). Same result; the spans go
    /// to `work.spans`.
    ///
    /// The badge is the first candidate whose regex matches `raw`; the spans are those of the
    /// candidates in `text`, looked for only on a badged line. Without a tab (`text` is `raw`)
    /// one search per candidate gives both.
    pub(crate) fn classify_among(
        &self,
        raw: &str,
        text: &str,
        candidates: &[usize],
        work: &mut LineWork,
    ) -> Option<(&Rule, Severity)> {
        work.spans.clear();
        if candidates.is_empty() || raw.starts_with([' ', '\t']) {
            return None;
        }
        let rule = if raw == text {
            let mut first = None;
            for &i in candidates {
                if let Some(r) = self.rules.get(i)
                    && push_spans(i, r, text, &mut work.spans)
                {
                    first = first.or(Some(r));
                }
            }
            first?
        } else {
            let rule = candidates
                .iter()
                .filter_map(|&i| self.rules.get(i))
                .find(|r| r.regex.is_match(raw))?;
            for &i in candidates {
                if let Some(r) = self.rules.get(i) {
                    push_spans(i, r, text, &mut work.spans);
                }
            }
            rule
        };
        work.spans.sort_by_key(|s| s.range.start);
        Some((rule, capped(rule, raw)))
    }

    /// Spans of `matching` (rule indices in rule order) in `text`.
    fn spans_of(&self, text: &str, matching: impl Iterator<Item = usize>) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        for i in matching {
            if let Some(rule) = self.rules.get(i) {
                push_spans(i, rule, text, &mut spans);
            }
        }
        spans.sort_by_key(|s| s.range.start);
        spans
    }
}

/// Add the non-empty matches of rule `i` in `text` that overlap no span already in `spans`;
/// whether the rule matched at all (an empty match included).
fn push_spans(i: usize, rule: &Rule, text: &str, spans: &mut Vec<Span>) -> bool {
    let mut matched = false;
    for m in rule.regex.find_iter(text) {
        matched = true;
        if m.is_empty() {
            continue;
        }
        let overlaps = spans
            .iter()
            .any(|s| s.range.start < m.end() && m.start() < s.range.end);
        if !overlaps {
            spans.push(Span {
                range: m.range(),
                rule: i,
                severity: rule.severity,
            });
        }
    }
    matched
}

/// `rule`'s severity capped by the line's own zap level (unless the rule is `uncapped`).
fn capped(rule: &Rule, line: &str) -> Severity {
    match zap_level(line) {
        Some(level) if !rule.uncapped => rule.severity.max(level),
        _ => rule.severity,
    }
}

/// Whether `pattern` can match a tab (true when it does not parse: the safe answer).
fn can_match_tab(pattern: &str) -> bool {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn walk(h: &Hir) -> bool {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => false,
            HirKind::Literal(l) => l.0.contains(&b'\t'),
            HirKind::Class(Class::Unicode(c)) => c
                .ranges()
                .iter()
                .any(|r| r.start() <= '\t' && '\t' <= r.end()),
            HirKind::Class(Class::Bytes(c)) => c
                .ranges()
                .iter()
                .any(|r| r.start() <= b'\t' && b'\t' <= r.end()),
            HirKind::Repetition(r) => walk(&r.sub),
            HirKind::Capture(c) => walk(&c.sub),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(walk),
        }
    }
    match regex_syntax::parse(pattern) {
        Ok(hir) => walk(&hir),
        Err(_) => true,
    }
}

/// The level of a zap development-mode line (`<time>\t<LEVEL>\t<msg>...`).
pub(crate) fn zap_level(line: &str) -> Option<Severity> {
    match line.split('\t').nth(1)? {
        "ERROR" | "DPANIC" | "PANIC" | "FATAL" => Some(Severity::Error),
        "WARN" => Some(Severity::Warn),
        "INFO" | "DEBUG" => Some(Severity::Info),
        _ => None,
    }
}

static INSTALLED: OnceLock<RuleSet> = OnceLock::new();
static BUILTIN: LazyLock<RuleSet> = LazyLock::new(RuleSet::builtin);

/// Make `set` the rule set of this process (once, before lines arrive). A second call keeps
/// the first set and returns it.
pub fn install(set: RuleSet) -> &'static RuleSet {
    INSTALLED.get_or_init(|| set)
}

/// The installed rule set, or the built-in one.
pub fn active() -> &'static RuleSet {
    INSTALLED.get().unwrap_or(&BUILTIN)
}

/// [`RuleSet::classify`] with the active set.
pub fn classify(line: &str) -> Option<(&'static Rule, Severity)> {
    active().classify(line)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_06;
