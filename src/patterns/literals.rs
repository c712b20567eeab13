//! The literal prefilter: per rule, the rarest literals one of which every match must hold,
//! all searched at once over a whole block of lines (Teddy, or one Aho-Corasick automaton),
//! each hit naming its rules, so that a line is handed to a rule's regex only when that rule's
//! literal is on it. The block is searched once: the hits are taken line by line.
//!
//! Exact for the lines it is used on: printable ASCII and tabs (what `highlight` calls its
//! fast path). A literal is made of the bytes a rule's syntax tree requires in a row,
//! lowercased and its tabs made spaces (the search runs over the text folded the same way: a
//! case-sensitive literal found case-insensitively is only an extra candidate, and one fold
//! serves both the raw line and its tabs expanded). A `(?i)` letter is a class holding both
//! ASCII cases (plus, for `k` and `s`, a non-ASCII fold that an ASCII line cannot hold). A
//! rule with no such literal is a candidate on every line.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Literals one of which every match holds (lowercased). Empty: no match is possible on an
/// ASCII line.
type Cover = Vec<Vec<u8>>;

/// How many literals a rule's cover may have before it is not worth it (a rule that is one
/// big alternation of words is then searched by its regex on every line).
const MAX_COVER: usize = 16;

/// A cover weaker than this (a literal of one or two bytes) would hand nearly every line to the
/// rule's regex and slow the search with its hits: the rule is searched on every line instead.
const MIN_SCORE: u32 = 6;

/// The cover a rule is searched by: None for a candidate on every line.
fn rule_cover(pattern: &str) -> Option<Cover> {
    let c = cover(&regex_syntax::parse(pattern).ok()?)?;
    (cover_score(&c) >= MIN_SCORE).then_some(c)
}

/// How selective a literal is, higher is better: length, with rare bytes counting more
/// (lowercase letters common in English and in logs count least).
fn score(lit: &[u8]) -> u32 {
    lit.iter()
        .map(|b| match b {
            b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b'h' | b'l' | b'd' | b'c'
            | b'u' => 2,
            b'a'..=b'z' => 3,
            _ => 4,
        })
        .sum()
}

/// A cover is as selective as its weakest literal; an impossible cover beats every other.
fn cover_score(c: &Cover) -> u32 {
    c.iter().map(|l| score(l)).min().unwrap_or(u32::MAX)
}

/// The one ASCII byte (lowercased) a class stands for on an ASCII line: a single byte or
/// both cases of a letter. `Some(None)`: the class holds no ASCII byte at all.
fn class_byte(c: &Class) -> Option<Option<u8>> {
    let mut ascii: Vec<u8> = Vec::new();
    let mut push = |lo: u32, hi: u32| {
        for b in lo..=hi.min(0x7f) {
            if ascii.len() > 2 {
                return;
            }
            ascii.extend(u8::try_from(b).ok());
        }
    };
    match c {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .for_each(|r| push(u32::from(r.start()), u32::from(r.end()))),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .for_each(|r| push(u32::from(r.start()), u32::from(r.end()))),
    }
    match ascii.as_slice() {
        [] => Some(None),
        [b] => Some(Some(b.to_ascii_lowercase())),
        [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(b) => {
            Some(Some(b.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// The best cover of `h`, or None when `h` requires no literal.
fn cover(h: &Hir) -> Option<Cover> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(_) | HirKind::Class(_) => concat_cover(std::slice::from_ref(h)),
        HirKind::Capture(c) => cover(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => cover(&r.sub),
        HirKind::Repetition(_) => None,
        HirKind::Concat(parts) => concat_cover(parts),
        HirKind::Alternation(branches) => {
            let mut all: Cover = Vec::new();
            for b in branches {
                for lit in cover(b)? {
                    if !all.contains(&lit) {
                        all.push(lit);
                    }
                }
            }
            (all.len() <= MAX_COVER).then_some(all)
        }
    }
}

/// The best cover among the runs of required bytes in `parts` and the parts' own covers.
fn concat_cover(parts: &[Hir]) -> Option<Cover> {
    fn consider(c: Cover, best: &mut Option<Cover>) {
        if best
            .as_ref()
            .is_none_or(|b| cover_score(&c) > cover_score(b))
        {
            *best = Some(c);
        }
    }
    fn flush(run: &mut Vec<u8>, best: &mut Option<Cover>) {
        if !run.is_empty() {
            consider(vec![std::mem::take(run)], best);
        }
    }
    let mut best: Option<Cover> = None;
    let mut run: Vec<u8> = Vec::new();
    for part in parts {
        match part.kind() {
            HirKind::Literal(lit) => run.extend(lit.0.iter().map(u8::to_ascii_lowercase)),
            HirKind::Class(c) => match class_byte(c) {
                Some(Some(b)) => run.push(b),
                // Nothing an ASCII line holds can match this part: nor the whole.
                Some(None) => return Some(Vec::new()),
                _ => flush(&mut run, &mut best),
            },
            _ => {
                flush(&mut run, &mut best);
                if let Some(c) = cover(part) {
                    consider(c, &mut best);
                }
            }
        }
    }
    flush(&mut run, &mut best);
    best
}

/// How many leading bytes of a literal Teddy looks at before it checks the whole literal.
const FINGERPRINT: usize = 4;

/// Where `lit`'s rarest window of [`FINGERPRINT`] bytes starts (by [`score`], the later of
/// equals): Teddy finds candidates by a literal's first bytes, and executor lines carry `blue`,
/// `green`, `consensus` and `leader` in every line's fields, so literals starting with them
/// (`blue raft peers removed`) were candidates several times a line, each checked and searched
/// again from. The literal is searched from there on; the bytes before it are checked where
/// it is found (`leader found` alone is on many lines that `no leader found` is not).
fn rarest_window(lit: &[u8]) -> usize {
    if lit.len() <= FINGERPRINT {
        return 0;
    }
    (0..=lit.len() - FINGERPRINT)
        .max_by_key(|&i| (score(&lit[i..i + FINGERPRINT]), i))
        .unwrap_or(0)
}

/// How many literals one packed searcher takes (`aho-corasick`'s packed builder refuses more).
const TEDDY_LIMIT: usize = 128;

/// How the literals are searched: Teddy (SIMD, what ripgrep's literal prefilter uses) over
/// groups of at most [`TEDDY_LIMIT`] literals, each with the id of its first literal; or, when
/// a group cannot be built (no SIMD, no literal at all), one Aho-Corasick automaton.
#[derive(Debug)]
enum Search {
    Teddy(Vec<(aho_corasick::packed::Searcher, usize)>),
    Automaton(AhoCorasick),
}

/// The rules' literals, found by leftmost-longest searches. Every literal on a line is found
/// by searching again one byte after the start of each hit: the longest literal (of a group)
/// starting at a position is reported, and the shorter ones starting there are its prefixes,
/// whose rules it stands for too.
#[derive(Debug)]
pub struct Literals {
    search: Search,
    /// Per literal searched (pattern id): the rules it and every literal searched that is its
    /// prefix stand for, each with the bytes its whole literal holds before the part searched.
    rules_of: Vec<Vec<(Vec<u8>, usize)>>,
    /// Rules without a literal: candidates on every line.
    always: Vec<usize>,
}

/// The next hit of each group in one block (where it starts, and the literal's id), made by
/// [`Literals::stream`]: the block is searched front to back once per group, each search
/// going on one byte after the last hit's start.
#[derive(Debug, Default)]
pub struct Hits {
    next: Vec<Option<(usize, usize)>>,
}

impl Literals {
    /// None when the automaton cannot be built (then every line goes through the full scan).
    pub(super) fn new(patterns: &[&str]) -> Option<Literals> {
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut own: Vec<Vec<(Vec<u8>, usize)>> = Vec::new();
        let mut always = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match rule_cover(p).filter(|c| !c.iter().any(|l| spaces_may_grow(l))) {
                Some(c) => {
                    for mut lit in c.into_iter().map(folded) {
                        let searched = lit.split_off(rarest_window(&lit));
                        let entry = (lit, i);
                        match lits.iter().position(|l| *l == searched) {
                            Some(at) => own[at].push(entry),
                            None => {
                                lits.push(searched);
                                own.push(vec![entry]);
                            }
                        }
                    }
                }
                None => always.push(i),
            }
        }
        let rules_of = lits
            .iter()
            .map(|lit| {
                let mut rules: Vec<(Vec<u8>, usize)> = lits
                    .iter()
                    .zip(&own)
                    .filter(|(prefix, _)| lit.starts_with(prefix))
                    .flat_map(|(_, r)| r.iter().cloned())
                    .collect();
                rules.sort_unstable();
                rules.dedup();
                rules
            })
            .collect();
        let search = match teddy_groups(&lits) {
            Some(groups) => Search::Teddy(groups),
            None => Search::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&lits)
                    .ok()?,
            ),
        };
        Some(Literals {
            search,
            rules_of,
            always,
        })
    }

    fn groups(&self) -> usize {
        match &self.search {
            Search::Teddy(groups) => groups.len(),
            Search::Automaton(_) => 1,
        }
    }

    /// Group `g`'s longest literal starting leftmost at or after byte `from` of `lowered`:
    /// where it starts, and its id.
    fn find(&self, g: usize, lowered: &[u8], from: usize) -> Option<(usize, usize)> {
        let from = from.min(lowered.len());
        match &self.search {
            Search::Teddy(groups) => {
                let (teddy, first) = groups.get(g)?;
                teddy
                    .find_in(lowered, aho_corasick::Span::from(from..lowered.len()))
                    .map(|m| (m.start(), first + m.pattern().as_usize()))
            }
            Search::Automaton(ac) => ac
                .find(Input::new(lowered).range(from..))
                .map(|m| (m.start(), m.pattern().as_usize())),
        }
    }

    /// The hits of every group in `folded` (a block of lines folded with [`fold_into`]), to
    /// be taken line by line with [`Literals::rules_until`].
    pub(crate) fn stream(&self, folded: &[u8]) -> Hits {
        Hits {
            next: (0..self.groups())
                .map(|g| self.find(g, folded, 0))
                .collect(),
        }
    }

    /// The rules that may match the line of `folded` ending at `end` (the hits before `end`
    /// not taken yet are this line's): those without a literal and those whose literal is
    /// on the line. Ascending and distinct, into `out` (cleared first).
    ///
    /// A superset of the rules that can match the line (its raw bytes) and of those that can
    /// match its tabs expanded to spaces: folding maps each raw byte to one byte (a literal in
    /// the line is in the fold), and a literal without two spaces in a row that is in the
    /// expanded text meets each run of spaces a tab became in one byte at most, so it is in
    /// the fold too; a rule with such a literal is a candidate on every line.
    pub(crate) fn rules_until(
        &self,
        folded: &[u8],
        hits: &mut Hits,
        end: usize,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        out.extend_from_slice(&self.always);
        for (g, next) in hits.next.iter_mut().enumerate() {
            while let Some((at, lit)) = *next
                && at < end
            {
                for (before, rule) in self.rules_of.get(lit).into_iter().flatten() {
                    if before.is_empty()
                        || at.checked_sub(before.len()).and_then(|b| folded.get(b..at))
                            == Some(before)
                    {
                        out.push(*rule);
                    }
                }
                *next = self.find(g, folded, at + 1);
            }
        }
        if out.len() > self.always.len() {
            out.sort_unstable();
            out.dedup();
        }
    }
}

/// A literal as it is searched in folded text ([`fold_into`]): its tabs are spaces.
fn folded(mut lit: Vec<u8>) -> Vec<u8> {
    for b in &mut lit {
        if *b == b'\t' {
            *b = b' ';
        }
    }
    lit
}

/// Whether a literal may be in a line's expanded text but not in its fold: one with two
/// spaces in a row (a tab can become both) that can match text at all (without a tab).
fn spaces_may_grow(lit: &[u8]) -> bool {
    !lit.contains(&b'\t') && lit.windows(2).any(|w| w == b"  ")
}

/// Teddy searchers over `lits` in as few groups of at most [`TEDDY_LIMIT`] as there can be,
/// of even size; None when there is no literal or one cannot be built. Teddy's own heuristic
/// limit (64 literals) is lifted: on the bench corpus the 78 built-in literals cost 0.7x the
/// CPU of the automaton, which reads every byte.
fn teddy_groups(lits: &[Vec<u8>]) -> Option<Vec<(aho_corasick::packed::Searcher, usize)>> {
    if lits.is_empty() {
        return None;
    }
    let per = lits.len().div_ceil(lits.len().div_ceil(TEDDY_LIMIT));
    lits.chunks(per)
        .enumerate()
        .map(|(g, group)| {
            let teddy = aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
                .heuristic_pattern_limits(false)
                .builder()
                .extend(group)
                .build()?;
            Some((teddy, g * per))
        })
        .collect()
}

/// `block` with ASCII letters lowercased, into `out` (cleared first; reused between blocks).
/// `block` as the literals are searched in it: ASCII letters lowercased, tabs made spaces
/// (each byte one byte: an offset in the fold is the same offset in `block`).
pub(crate) fn fold_into(block: &[u8], out: &mut Vec<u8>) {
    out.clear();
    // A byte at a time without branches: the compiler makes it SIMD.
    out.extend(block.iter().map(|&b| {
        let upper = u8::from(b.is_ascii_uppercase());
        let tab = u8::from(b == b'\t');
        b + upper * 32 + tab * (b' ' - b'\t')
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cover_of(p: &str) -> Option<Vec<String>> {
        let c = rule_cover(p)?;
        Some(
            c.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect(),
        )
    }

    #[test]
    fn covers_are_the_rarest_required_runs() {
        assert_eq!(
            cover_of("(?i)raft log index mismatch").unwrap(),
            ["raft log index mismatch"]
        );
        assert_eq!(cover_of(r"\tERROR\t").unwrap(), ["\terror\t"]);
        assert_eq!(
            cover_of("(?i)permission denied|status 403").unwrap(),
            ["permission denied", "status 403"]
        );
        assert_eq!(
            cover_of(r"Failed to find leader among \w+ pods").unwrap(),
            ["failed to find leader among "]
        );
        assert_eq!(
            cover_of(r"(?:blue|green) revision is required").unwrap(),
            [" revision is required"]
        );
        assert_eq!(cover_of(r"x(?:abcd)+y").unwrap(), ["abcd"]);
        assert_eq!(cover_of(r"(?i)kk\s+x").unwrap(), ["kk"]);
    }

    #[test]
    fn literals_start_at_their_rarest_window() {
        fn from(l: &str) -> &str {
            &l[rarest_window(l.as_bytes())..]
        }
        assert_eq!(from("blue raft peers removed"), "ft peers removed");
        assert_eq!(from("status 403"), " 403");
        assert_eq!(from("abc"), "abc", "shorter than a window: whole");
        // The bytes before the window are checked where it is found.
        let pre = Literals::new(&["no leader found", "(?i)raft peers removed"]).unwrap();
        assert_eq!(
            lines_rules(
                &pre,
                b"leader found\nno leader found\nblue raft peers removed\nft peers removed"
            ),
            [vec![], vec![0], vec![1], vec![]]
        );
    }

    #[test]
    fn rules_without_a_required_literal_have_no_cover() {
        assert_eq!(cover_of(r"\d+ \w+"), None, "one space is no filter");
        assert_eq!(cover_of(r"a?b*"), None);
        assert_eq!(cover_of(r"foo|\d+"), None);
        assert_eq!(cover_of(r"[ab]xyz"), Some(vec!["xyz".into()]));
        // No ASCII line can match a required non-ASCII class: nothing to search.
        assert_eq!(cover_of("é(?i)ü"), Some(vec![]));
    }

    #[test]
    fn more_literals_than_one_searcher_takes_are_searched_in_groups() {
        let patterns: Vec<String> = (0..300).map(|k| format!("alarm-{k:03}-raised")).collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let pre = Literals::new(&refs).unwrap();
        assert!(pre.groups() >= 3, "300 literals: {} groups", pre.groups());
        // Each literal from its rarest window on (`299-raised`: digits count more).
        assert_eq!(
            lines_rules(
                &pre,
                b"quiet\nx alarm-299-raised y alarm-000-raised\nquiet\nalarm-150-raised\nquiet"
            ),
            [vec![], vec![0, 299], vec![], vec![150], vec![]]
        );
    }

    /// Each line's candidates, the block searched once.
    fn lines_rules(pre: &Literals, block: &[u8]) -> Vec<Vec<usize>> {
        let mut folded = Vec::new();
        fold_into(block, &mut folded);
        let mut hits = pre.stream(&folded);
        let mut end = 0;
        block
            .split(|&b| b == b'\n')
            .map(|line| {
                end += line.len();
                let mut out = Vec::new();
                pre.rules_until(&folded, &mut hits, end, &mut out);
                end += 1;
                out
            })
            .collect()
    }

    #[test]
    fn hits_name_the_rules_line_by_line() {
        let pre = Literals::new(&["(?i)connection refused", r"\tERROR\t", r"\d+"]).unwrap();
        assert_eq!(
            lines_rules(
                &pre,
                b"x connection refused\terror\t\nplain\na Connection REFUSED\nx\tERROR\ty"
            ),
            [vec![0, 1, 2], vec![2], vec![0, 2], vec![1, 2]],
            "a rule without a literal is always a candidate"
        );
        // Overlapping literals, and one that is another's prefix: all are found.
        let pre =
            Literals::new(&["failed to read raft", "raft configuration", "failed to"]).unwrap();
        assert_eq!(
            lines_rules(&pre, b"failed to read raft configuration"),
            [vec![0, 1, 2]]
        );
    }

    #[test]
    fn candidates_hold_what_the_expanded_text_can_match() {
        // `ERROR\t` expanded is `ERROR` and three spaces: ` error ` is in the fold, and a
        // literal with two spaces in a row could be made by one tab: always a candidate.
        let pre = Literals::new(&[r"(?i) error status", r"(?i)x  y", r"quiet"]).unwrap();
        assert_eq!(
            lines_rules(&pre, b"a\tERROR\tstatus\nx\ty\nquiet"),
            [vec![0, 1], vec![1], vec![1, 2]]
        );
        let mut folded = Vec::new();
        fold_into(b"AbZ\t\xc3\x89@[`{", &mut folded);
        assert_eq!(folded, b"abz \xc3\x89@[`{");
    }
}
