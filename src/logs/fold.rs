//! Folding of Go stack traces for the Logs pane: a run of consecutive trace lines (zap's
//! function / tab-indented `file.go:N` pairs, a panic's `goroutine 1 [running]:` and its
//! frames) is drawn as one row, `▸ 5 stack frames (x unfolds)`.
//!
//! Display only: the store, search, the filter, evidence and the saved logs keep every line;
//! this module only groups the rows about to be drawn, so its cost is the visible rows (a run
//! is cut every [`MAX_RUN`] lines, which bounds a hostile trace too).

/// A folded row covers at most this many lines; a longer run becomes several folds.
pub(crate) const MAX_RUN: usize = 1_000;

/// A drawn row: one line, or a run of stack-trace lines folded into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row<T> {
    Line(T),
    Fold {
        /// The run's first line.
        first: T,
        lines: usize,
        /// `file.go:N` lines in the run (one per frame).
        frames: usize,
    },
}

impl<T> Row<T> {
    /// The row's (first) line.
    pub fn first(&self) -> &T {
        match self {
            Row::Line(t) | Row::Fold { first: t, .. } => t,
        }
    }
}

fn indented(text: &str) -> bool {
    text.starts_with([' ', '\t'])
}

/// A frame's location: indented (a tab in the raw log, spaces once sanitised) `path.go:123`,
/// optionally followed by ` +0x1d`.
fn is_frame_file(text: &str) -> bool {
    if !indented(text) {
        return false;
    }
    let path = text.trim_start().split(' ').next().unwrap_or_default();
    path.rsplit_once(".go:")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A panic's goroutine header: `goroutine 1 [running]:`.
fn is_goroutine(text: &str) -> bool {
    text.starts_with("goroutine ") && text.trim_end().ends_with("]:")
}

/// Whether `text` belongs to a stack trace. `next` is the line after it: a function line
/// (`main.main`, `main.run(...)`, `created by …`) counts only when its location follows, so
/// ordinary lines are never folded.
pub(crate) fn is_stack(text: &str, next: Option<&str>) -> bool {
    is_frame_file(text)
        || is_goroutine(text)
        || (is_function(text) && next.is_some_and(is_frame_file))
}

/// `pkg.Func`, `pkg.(*T).Method(0xc0…)`, `panic({…})` or `created by pkg.Func in goroutine 1`.
fn is_function(text: &str) -> bool {
    let name = text.split(' ').next().unwrap_or_default();
    text.starts_with("created by ")
        || (!indented(text)
            && (name.contains('.') || name.contains('('))
            && !name.contains(':')
            && !name.starts_with(|c: char| c.is_ascii_digit()))
}

/// Fold `items` (lines in drawing order, `text` of each) into at most `rows` rows. Runs of two
/// or more stack lines become one [`Row::Fold`]; a lone stack-like line is drawn as it is.
/// Reads only as many items as the rows need (plus three of look-ahead).
pub(crate) fn fold<'s, T>(
    items: impl IntoIterator<Item = T>,
    text: impl Fn(&T) -> &'s str,
    rows: usize,
) -> Vec<Row<T>> {
    let mut items = items.into_iter();
    // The next three items: whether a run starts needs the first two classified, and each
    // classification can depend on the item after it.
    let mut ahead: std::collections::VecDeque<T> = items.by_ref().take(3).collect();
    let mut next = |ahead: &mut std::collections::VecDeque<T>| {
        let item = ahead.pop_front()?;
        ahead.extend(items.next());
        Some(item)
    };
    let stack_at = |ahead: &std::collections::VecDeque<T>, i: usize| {
        ahead
            .get(i)
            .is_some_and(|t| is_stack(text(t), ahead.get(i + 1).map(&text)))
    };
    let mut out = Vec::new();
    while out.len() < rows {
        let starts_run = stack_at(&ahead, 0) && stack_at(&ahead, 1);
        let Some(first) = next(&mut ahead) else {
            break;
        };
        if !starts_run {
            out.push(Row::Line(first));
            continue;
        }
        let mut lines = 1;
        let mut frames = usize::from(is_frame_file(text(&first)));
        while lines < MAX_RUN && stack_at(&ahead, 0) {
            let Some(item) = next(&mut ahead) else {
                break;
            };
            frames += usize::from(is_frame_file(text(&item)));
            lines += 1;
        }
        out.push(Row::Fold {
            first,
            lines,
            frames,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&str]) -> Vec<Row<usize>> {
        fold(0..lines.len(), |i| lines[*i], usize::MAX)
    }

    fn zap_error() -> Vec<&'static str> {
        vec![
            "2026-11-23T19:30:01.123Z    ERROR    Failed to demote Blue peer    {}",
            "github.com/dc-tec/openbao-operator/internal/upgrade.runBlueGreenRepairConsensus",
            "    github.com/dc-tec/openbao-operator/internal/upgrade/executor.go:476",
            "main.main",
            "    github.com/dc-tec/openbao-operator/cmd/bao-upgrade/main.go:43",
            "runtime.main",
            "    runtime/proc.go:283",
            "2026-11-23T19:30:01.160Z    INFO    next entry",
        ]
    }

    #[test]
    fn zap_frames_fold_into_one_row_between_the_entries() {
        assert_eq!(
            rows(&zap_error()),
            vec![
                Row::Line(0),
                Row::Fold {
                    first: 1,
                    lines: 6,
                    frames: 3
                },
                Row::Line(7),
            ]
        );
    }

    #[test]
    fn a_panic_keeps_its_message_and_folds_the_goroutine_dump() {
        let lines = [
            "panic: runtime error: index out of range [3] with length 3",
            "",
            "goroutine 1 [running]:",
            "main.process(...)",
            "    /app/main.go:12 +0x1d",
            "created by main.main in goroutine 1",
            "    /app/main.go:30 +0x45",
            "exit status 2",
        ];
        assert_eq!(
            rows(&lines),
            vec![
                Row::Line(0),
                Row::Line(1),
                Row::Fold {
                    first: 2,
                    lines: 5,
                    frames: 2
                },
                Row::Line(7),
            ]
        );
    }

    #[test]
    fn ordinary_lines_and_a_lone_frame_are_never_folded() {
        let lines = [
            "upgrade-executor error: no leader found",
            "    just indented text",
            "main.go:12 is not indented",
            "    /app/main.go:12",
            "done",
        ];
        let all: Vec<Row<usize>> = (0..lines.len()).map(Row::Line).collect();
        assert_eq!(rows(&lines), all);
    }

    #[test]
    fn rows_are_bounded_and_long_runs_are_cut() {
        let mut lines = vec!["x.f"];
        lines.extend(std::iter::repeat_n("    /a.go:1", MAX_RUN + 5));
        let got = rows(&lines);
        assert_eq!(got.len(), 2);
        assert!(matches!(got[0], Row::Fold { lines: MAX_RUN, .. }));
        assert!(matches!(got[1], Row::Fold { lines: 6, .. }));
        let two = fold(0..zap_error().len(), |i| zap_error()[*i], 2);
        assert_eq!(two.len(), 2);
    }
}
