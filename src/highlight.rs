//! `breakglass highlight`: the log engine as a stdin → stdout filter, so
//! `kubectl logs -f job/… | breakglass highlight` works on any machine.
//!
//! Each input line goes through the same steps as a line in the Logs pane: lossy UTF-8,
//! [`redact`], [`sanitize`] (no escape sequence from the input reaches the terminal; the only
//! ones written are ours), classification and highlight spans from the active rule set.
//! `ansi` writes a severity badge gutter (`[ERR] `, never colour alone) and the line with its
//! matches styled; with `NO_COLOR` the styles are bold/underline only. `json` writes one
//! object per line: `{"n", "text", "severity", "rule", "meaning", "path", "matches":
//! [{"rule", "severity", "start", "end"}]}` (byte offsets into `text`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex, mpsc};

use serde_json::json;

use crate::logs::redact;
use crate::logs::sanitize::{expand_tabs_into, only_tabs_to_expand, sanitize_into};
use crate::patterns::{LineWork, Rule, RuleSet, Severity, Span, fold_into};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    #[default]
    Ansi,
    Json,
}

const RESET: &str = "\x1b[0m";

fn style(sev: Severity, color: bool) -> &'static str {
    match (sev, color) {
        (Severity::Error, true) => "\x1b[1;4;31m",
        (Severity::Warn, true) => "\x1b[1;4;33m",
        (Severity::Info, true) => "\x1b[4;36m",
        (Severity::Error | Severity::Warn, false) => "\x1b[1;4m",
        (Severity::Info, false) => "\x1b[4m",
    }
}

/// Filter `input` to `out` until end of input. Broken pipes end it quietly (`| head`).
///
/// Input is read in chunks of whole lines; the chunks are highlighted on every core and
/// written back in order (a pipeline of reader → workers → writer with bounded queues).
pub fn run(
    rules: &RuleSet,
    format: Format,
    color: bool,
    input: impl BufRead,
    out: impl Write + Send,
) -> io::Result<()> {
    match filter(rules, format, color, input, out) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Grow `out` to [`PIPE`] bytes when it is a pipe (Linux; nothing otherwise, and a refusal is
/// no error). A chunk's output is about [`CHUNK`] bytes: written into the default 64 KiB pipe,
/// it waits for the reader to drain it three times or more, and on one core (where reading,
/// highlighting and writing take turns) those waits were a quarter of the wall time (bench
/// corpus: 0.74 s against 0.55 s with a 1 MiB pipe, ripgrep 0.82 s).
pub fn roomy_pipe(out: impl std::os::fd::AsFd) {
    #[cfg(target_os = "linux")]
    if rustix::fs::fstat(&out)
        .is_ok_and(|s| rustix::fs::FileType::from_raw_mode(s.st_mode) == rustix::fs::FileType::Fifo)
    {
        let _ = rustix::pipe::fcntl_setpipe_size(&out, PIPE);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = out;
}

/// The pipe size [`roomy_pipe`] asks for (Linux's default limit for unprivileged users).
const PIPE: usize = 1 << 20;

/// Bytes per chunk handed to a worker (whole lines; a longer line makes a bigger chunk).
const CHUNK: usize = 1 << 18;
/// Bytes asked of the input per read.
const BLOCK: usize = 1 << 16;

/// A chunk of whole lines and, once a worker is done with it, its output. Written chunks go
/// back to the reader, which refills them: the buffers are reused rather than allocated
/// (fresh pages cost a page fault each, as much system time as the search's user time).
#[derive(Default)]
struct Chunk {
    index: u64,
    /// Number of the chunk's first line (1-based, for `json`'s `n`).
    first_line: u64,
    bytes: Vec<u8>,
    out: Vec<u8>,
}

impl Chunk {
    fn highlight(&mut self, rules: &RuleSet, format: Format, color: bool, scratch: &mut Scratch) {
        self.out.clear();
        let first_line = self.first_line;
        highlight_chunk(
            rules,
            format,
            color,
            &self.bytes,
            first_line,
            scratch,
            &mut self.out,
        );
    }

    /// How many lines the chunk holds (the last one may lack its newline).
    fn lines(&self) -> u64 {
        let b = &self.bytes;
        (memchr::memchr_iter(b'\n', b).count() + usize::from(b.last() != Some(&b'\n'))) as u64
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn filter(
    rules: &RuleSet,
    format: Format,
    color: bool,
    mut input: impl BufRead,
    out: impl Write + Send,
) -> io::Result<()> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if workers == 1 {
        return filter_inline(rules, format, color, input, out);
    }
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(workers * 2);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<Chunk>(workers * 2);
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        for _ in 0..workers {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                let mut scratch = Scratch::default();
                loop {
                    let next = lock(&work_rx).recv();
                    let Ok(mut chunk) = next else { return };
                    chunk.highlight(rules, format, color, &mut scratch);
                    if done_tx.send(chunk).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers hold the queues now: when they stop, the others notice.
        drop((work_rx, done_tx));
        let writer = scope.spawn(move || write_in_order(done_rx, out, free_tx));
        let mut index = 0u64;
        let mut first_line = 1u64;
        let mut carry = Vec::new();
        let read = loop {
            let mut chunk = free_rx.try_recv().unwrap_or_default();
            next_chunk(&mut input, &mut carry, &mut chunk.bytes)?;
            if chunk.bytes.is_empty() {
                break Ok(());
            }
            chunk.index = index;
            chunk.first_line = first_line;
            let lines = chunk.lines();
            if work_tx.send(chunk).is_err() {
                // The writer stopped (a closed pipe): its error is the one to report.
                break Ok(());
            }
            index += 1;
            first_line += lines;
        };
        drop(work_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread failed")));
        read.and(written)
    })
}

/// [`filter`] on one core: read, highlight and write each chunk in turn, without threads
/// (handing chunks between threads that share one core only adds switches between them).
fn filter_inline(
    rules: &RuleSet,
    format: Format,
    color: bool,
    mut input: impl BufRead,
    mut out: impl Write,
) -> io::Result<()> {
    let mut chunk = Chunk {
        first_line: 1,
        ..Chunk::default()
    };
    let mut carry = Vec::new();
    let mut scratch = Scratch::default();
    loop {
        next_chunk(&mut input, &mut carry, &mut chunk.bytes)?;
        if chunk.bytes.is_empty() {
            return out.flush();
        }
        chunk.highlight(rules, format, color, &mut scratch);
        // One write per chunk, flushed: a followed stream shows each line as it comes.
        out.write_all(&chunk.out)?;
        out.flush()?;
        chunk.first_line += chunk.lines();
    }
}

/// The next chunk of whole lines into `bytes` (the last line of the input may lack its
/// newline), read in big blocks rather than line by line; the partial line at its end is left in `carry` for the
/// next chunk. Empty at the end of input.
///
/// A chunk is handed off when it is full, or as soon as a read returns less than it asked for
/// with a whole line in hand: the input has nothing more ready (`kubectl logs -f` waiting for
/// the pod), and a followed stream must not wait for 256 KiB before its lines are shown. A
/// file or a busy pipe fills every read, so the chunks stay big where throughput matters.
fn next_chunk(input: &mut impl Read, carry: &mut Vec<u8>, bytes: &mut Vec<u8>) -> io::Result<()> {
    bytes.clear();
    bytes.reserve(CHUNK + BLOCK);
    bytes.append(carry);
    // The end of the last whole line read so far (the carry holds none).
    let mut lines_end: Option<usize> = None;
    loop {
        let old = bytes.len();
        bytes.resize(old + BLOCK, 0);
        let n = loop {
            match input.read(&mut bytes[old..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        bytes.truncate(old + n);
        if n == 0 {
            return Ok(());
        }
        if let Some(nl) = memchr::memrchr(b'\n', &bytes[old..]) {
            lines_end = Some(old + nl + 1);
        }
        if (bytes.len() >= CHUNK || n < BLOCK)
            && let Some(end) = lines_end
        {
            carry.extend_from_slice(&bytes[end..]);
            bytes.truncate(end);
            return Ok(());
        }
    }
}

/// Write the workers' results in chunk order, flushing whenever nothing more is ready (so a
/// followed stream shows each line as it comes; under load the results queue up and are
/// written in big writes).
fn write_in_order(
    done: mpsc::Receiver<Chunk>,
    out: impl Write,
    free: mpsc::Sender<Chunk>,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut pending: BTreeMap<u64, Chunk> = BTreeMap::new();
    let mut next = 0u64;
    loop {
        let chunk = match done.try_recv() {
            Ok(result) => result,
            Err(mpsc::TryRecvError::Empty) => {
                out.flush()?;
                match done.recv() {
                    Ok(result) => result,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        pending.insert(chunk.index, chunk);
        while let Some(chunk) = pending.remove(&next) {
            out.write_all(&chunk.out)?;
            next += 1;
            // The reader may have stopped: then the buffer is simply dropped.
            let _ = free.send(chunk);
        }
    }
    out.flush()
}

/// Buffers a worker reuses from chunk to chunk.
#[derive(Default)]
struct Scratch {
    /// The chunk folded for the rules' literal search ([`fold_into`]).
    folded: Vec<u8>,
    /// The rules whose literal is on the current line.
    candidates: Vec<usize>,
    text: String,
    line: LineWork,
}

/// Highlight every line of one chunk into `out`.
///
/// The chunk is checked as UTF-8 once (lossily converted only when it is not: an invalid
/// sequence never swallows a newline, so lines stay lines) and searched for every rule's
/// literals as one block ([`RuleSet::literals`]): a line holding none of them skips
/// classification, and a line holding some runs only those rules' regexes. Redaction still
/// sees every line. A line of printable ASCII and tabs (executor lines) is sanitised by
/// expanding its tabs, or not at all when it has none; any other line, or one redaction
/// changed, goes through [`sanitize_into`] and is classified on its own.
fn highlight_chunk(
    rules: &RuleSet,
    format: Format,
    color: bool,
    bytes: &[u8],
    first_line: u64,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    // `from_utf8` checks ASCII a word at a time; the lossy path goes byte by byte.
    let block = match std::str::from_utf8(body) {
        Ok(valid) => Cow::Borrowed(valid),
        Err(_) => String::from_utf8_lossy(body),
    };
    let Scratch {
        folded,
        candidates,
        text,
        line: work,
    } = scratch;
    fold_into(block.as_bytes(), folded);
    let literals = rules.literals();
    let mut hits = literals.map(|l| l.stream(folded)).unwrap_or_default();
    let mut start = 0usize;
    for (i, line) in block.split('\n').enumerate() {
        let end = start + line.len();
        let n = first_line + i as u64;
        if let Some(literals) = literals {
            literals.rules_until(folded, &mut hits, end, candidates);
        }
        start = end + 1;
        let redacted = redact(line);
        if literals.is_some() && matches!(redacted, Cow::Borrowed(_)) && only_tabs_to_expand(line) {
            let text: &str = if memchr::memchr(b'\t', line.as_bytes()).is_some() {
                text.clear();
                expand_tabs_into(line, text);
                text
            } else {
                line
            };
            let matched = rules.classify_among(line, text, candidates, work);
            write_line(rules, format, color, n, text, matched, &work.spans, out);
            continue;
        }
        text.clear();
        sanitize_into(&redacted, text);
        let (matched, spans) = rules.classify_and_spans(&redacted, text, true);
        write_line(rules, format, color, n, text, matched, &spans, out);
    }
}

/// One highlighted line (`text` redacted and sanitised, `matched` its classification,
/// `spans` its highlights).
#[allow(clippy::too_many_arguments, reason = "one call site, the line's parts")]
fn write_line(
    rules: &RuleSet,
    format: Format,
    color: bool,
    n: u64,
    text: &str,
    matched: Option<(&Rule, Severity)>,
    spans: &[Span],
    out: &mut Vec<u8>,
) {
    let bytes = text.as_bytes();
    match format {
        Format::Ansi => {
            match matched {
                Some((_, sev)) => {
                    out.extend_from_slice(style(sev, color).as_bytes());
                    out.extend_from_slice(sev.badge().as_bytes());
                    out.extend_from_slice(RESET.as_bytes());
                    out.extend_from_slice(b" ");
                }
                None => out.extend_from_slice(b"      "),
            }
            let mut at = 0;
            for s in spans {
                out.extend_from_slice(&bytes[at..s.range.start]);
                out.extend_from_slice(style(s.severity, color).as_bytes());
                out.extend_from_slice(&bytes[s.range.clone()]);
                out.extend_from_slice(RESET.as_bytes());
                at = s.range.end;
            }
            out.extend_from_slice(&bytes[at..]);
            out.extend_from_slice(b"\n");
        }
        Format::Json => {
            let matches: Vec<_> = spans
                .iter()
                .filter_map(|s| {
                    let r = rules.rule(s.rule)?;
                    Some(json!({
                        "rule": r.id,
                        "severity": s.severity.name(),
                        "start": s.range.start,
                        "end": s.range.end,
                    }))
                })
                .collect();
            let obj = json!({
                "n": n,
                "text": text,
                "severity": matched.map(|(_, s)| s.name()),
                "rule": matched.map(|(r, _)| r.id.as_str()),
                "meaning": matched.map(|(r, _)| r.meaning.as_str()),
                "path": matched.map(|(r, _)| r.path.name()),
                "matches": matches,
            });
            // Serialising a `Value` into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &obj);
            out.extend_from_slice(b"\n");
        }
    }
}

#[cfg(test)]
mod tests;
