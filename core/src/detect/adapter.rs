//! The EngineAdapter: feeds blob bytes to the [`Engine`] through overlap-safe windows and turns
//! engine matches into located hits (line, column, masked snippet).
//!
//! Window contract (shared with the engine): with `C = engine.context_bytes()`, every window
//! except the first starts `2C` bytes before the previous window's end, and *owns* the matches
//! anchored in `[start + C, end - C)` (the first window owns from 0, the last up to its end). The
//! owned ranges tile the blob exactly, and each owned match has `C` bytes of context on both
//! sides, which is what the engine needs to find it exactly as in a whole-blob scan. Hence
//! results do not depend on the window size; windows smaller than `4C` are raised to `4C`.
//!
//! Blobs that fit one window are scanned in place. Larger ones stream through the
//! [`RingChunker`], which keeps one window of memory whatever the blob size.

use std::ops::Range;

use crate::detect::engine::{Engine, Match, Scratch};

/// One window handed to the engine.
#[derive(Debug)]
pub struct ChunkView<'a> {
    pub data: &'a [u8],
    /// Blob offset of `data[0]`.
    pub base: u64,
    /// The part of `data` whose matches this window reports.
    pub owned: Range<usize>,
    pub last: bool,
    /// Blob offset where the next window will start (meaningless for the last window).
    pub next_base: u64,
}

/// Streams bytes into fixed windows that overlap by `2 * context`.
pub struct RingChunker {
    window: usize,
    context: usize,
    buf: Vec<u8>,
    base: u64,
    first: bool,
}

impl RingChunker {
    pub fn new(window: usize, context: usize) -> Self {
        let window = effective_window(window, context);
        Self {
            window,
            context,
            buf: Vec::with_capacity(window),
            base: 0,
            first: true,
        }
    }

    pub fn window(&self) -> usize {
        self.window
    }

    pub fn reset(&mut self) {
        self.buf.clear();
        self.base = 0;
        self.first = true;
    }

    /// Append `input`, calling `emit` for every window that fills. `emit` returns false to stop.
    pub fn push(&mut self, mut input: &[u8], emit: &mut dyn FnMut(ChunkView<'_>) -> bool) -> bool {
        while !input.is_empty() {
            let take = (self.window - self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.buf.len() == self.window {
                let start = if self.first { 0 } else { self.context };
                // Keep the last 2C bytes: C of context for the next owned region, which starts
                // where this one ended, plus C of context before it.
                let keep_from = self.window - 2 * self.context;
                let view = ChunkView {
                    data: &self.buf,
                    base: self.base,
                    owned: start..self.window - self.context,
                    last: false,
                    next_base: self.base + keep_from as u64,
                };
                if !emit(view) {
                    return false;
                }
                self.buf.copy_within(keep_from.., 0);
                self.buf.truncate(2 * self.context);
                self.base += keep_from as u64;
                self.first = false;
            }
        }
        true
    }

    /// Emit the final window (owning everything up to the end).
    pub fn finish(&mut self, emit: &mut dyn FnMut(ChunkView<'_>) -> bool) -> bool {
        let start = if self.first { 0 } else { self.context };
        let view = ChunkView {
            data: &self.buf,
            base: self.base,
            owned: start.min(self.buf.len())..self.buf.len(),
            last: true,
            next_base: self.base + self.buf.len() as u64,
        };
        let go_on = emit(view);
        self.reset();
        go_on
    }
}

/// The window actually used for a requested size: at least `4 * context` so that each window
/// owns at least `2 * context` bytes.
pub fn effective_window(requested: usize, context: usize) -> usize {
    requested.max(4 * context.max(16))
}

/// A located engine match, with offsets relative to the blob.
#[derive(Debug)]
pub struct Hit<'a> {
    pub m: &'a Match,
    pub start: u64,
    pub end: u64,
    pub line: u64,
    pub column: u64,
    pub snippet: String,
}

/// Line numbers across windows. A checkpoint sits at each window's start; within a window,
/// matches (sorted by start) are located by counting forward from it. Matches of different
/// windows need not be ordered (a secret can start after the next window's first anchor),
/// which is why no state runs from one window's matches into the next.
struct LineCounter {
    /// Blob offset of the checkpoint.
    base: u64,
    /// Newlines in `blob[..base]`.
    newlines: u64,
    /// Blob offset where the line containing `base` starts.
    line_start: u64,
}

/// A cursor moving forward through one window from its checkpoint.
struct LineCursor {
    pos: u64,
    newlines: u64,
    line_start: u64,
}

impl LineCursor {
    /// Move to blob offset `to` (at or after the cursor, inside `view`).
    fn advance(&mut self, view: &ChunkView<'_>, to: u64) {
        if to <= self.pos {
            return;
        }
        let from = (self.pos - view.base) as usize;
        let seg = &view.data[from..(to - view.base) as usize];
        let n = seg.iter().filter(|&&b| b == b'\n').count() as u64;
        if n > 0 {
            let last = seg.iter().rposition(|&b| b == b'\n').expect("n > 0");
            self.line_start = view.base + (from + last + 1) as u64;
            self.newlines += n;
        }
        self.pos = to;
    }
}

impl LineCounter {
    fn new() -> Self {
        Self {
            base: 0,
            newlines: 0,
            line_start: 0,
        }
    }

    fn cursor(&self) -> LineCursor {
        LineCursor {
            pos: self.base,
            newlines: self.newlines,
            line_start: self.line_start,
        }
    }

    /// Move the checkpoint to `to`, which lies in `view` at or after the current checkpoint.
    fn checkpoint(&mut self, view: &ChunkView<'_>, to: u64) {
        let mut c = self.cursor();
        c.advance(view, to);
        (self.base, self.newlines, self.line_start) = (c.pos, c.newlines, c.line_start);
    }
}

const SNIPPET_SIDE: usize = 80;

fn snippet(data: &[u8], start: usize, end: usize) -> String {
    let lo = start.saturating_sub(SNIPPET_SIDE);
    let line_start = data[lo..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(lo, |p| lo + p + 1);
    let hi = (end + SNIPPET_SIDE).min(data.len());
    let line_end = data[end..hi]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(hi, |p| end + p);
    let mut s = String::from_utf8_lossy(&data[line_start..start]).into_owned();
    s.push_str("*****");
    s.push_str(&String::from_utf8_lossy(&data[end.min(line_end)..line_end]));
    s.trim_end_matches('\r').to_string()
}

/// Scans blobs with one engine; one adapter per worker thread.
pub struct EngineAdapter<'e> {
    engine: &'e Engine,
    scratch: Scratch,
    matches: Vec<Match>,
    chunker: RingChunker,
}

/// Why a blob scan stopped early.
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped;

impl<'e> EngineAdapter<'e> {
    pub fn new(engine: &'e Engine, window: usize) -> Self {
        Self {
            engine,
            scratch: engine.new_scratch(),
            matches: Vec::new(),
            chunker: RingChunker::new(window, engine.context_bytes()),
        }
    }

    pub fn window(&self) -> usize {
        self.chunker.window()
    }

    /// Scan one blob. `on_hit` returns false to stop; `should_abort` is checked per window.
    pub fn scan_blob(
        &mut self,
        data: &[u8],
        should_abort: &dyn Fn() -> bool,
        on_hit: &mut dyn FnMut(Hit<'_>) -> bool,
    ) -> Result<(), Stopped> {
        let engine = self.engine;
        let scratch = &mut self.scratch;
        let matches = &mut self.matches;
        let mut lines = LineCounter::new();
        let mut stopped = false;
        let mut per_window = |view: ChunkView<'_>| -> bool {
            if should_abort() {
                stopped = true;
                return false;
            }
            matches.clear();
            engine.scan(view.data, view.owned.clone(), scratch, matches);
            // The engine sorts a window's matches by start; keep that invariant explicit.
            debug_assert!(matches.windows(2).all(|w| w[0].start <= w[1].start));
            let mut cursor = lines.cursor();
            for m in matches.iter() {
                let abs_start = view.base + m.start as u64;
                cursor.advance(&view, abs_start);
                let hit = Hit {
                    m,
                    start: abs_start,
                    end: view.base + m.end as u64,
                    line: cursor.newlines + 1,
                    column: abs_start - cursor.line_start + 1,
                    snippet: snippet(view.data, m.start, m.end),
                };
                if !on_hit(hit) {
                    stopped = true;
                    return false;
                }
            }
            if !view.last {
                lines.checkpoint(&view, view.next_base);
            }
            true
        };
        if data.len() <= self.chunker.window() {
            per_window(ChunkView {
                data,
                base: 0,
                owned: 0..data.len(),
                last: true,
                next_base: data.len() as u64,
            });
        } else {
            self.chunker.reset();
            if self.chunker.push(data, &mut per_window) {
                self.chunker.finish(&mut per_window);
            } else {
                self.chunker.reset();
            }
        }
        if stopped { Err(Stopped) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The owned ranges of the windows tile the input exactly, whatever the window size.
    #[test]
    fn ring_windows_tile_the_blob_with_context() {
        for context in [1usize, 7, 64] {
            for window in [1usize, 100, 257, 1000, 4096] {
                for len in [0usize, 1, 99, 100, 101, 999, 5000, 12345] {
                    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                    let mut rc = RingChunker::new(window, context);
                    let w = rc.window();
                    let mut covered = Vec::new();
                    let mut check = |v: ChunkView<'_>| {
                        let b = v.base as usize;
                        assert_eq!(
                            v.data,
                            &data[b..b + v.data.len()],
                            "window bytes are the blob's"
                        );
                        assert!(v.data.len() <= w);
                        if v.owned.start > 0 {
                            assert!(v.owned.start >= context);
                        }
                        if !v.last {
                            assert!(v.owned.end + context <= v.data.len());
                        }
                        covered.push((b + v.owned.start, b + v.owned.end));
                        if !v.last {
                            assert!(
                                v.next_base > v.base
                                    && v.next_base <= v.base + (v.owned.end - context) as u64
                            );
                        }
                        true
                    };
                    // Feed in odd-sized pieces to exercise the ring.
                    for piece in data.chunks(37) {
                        rc.push(piece, &mut check);
                    }
                    rc.finish(&mut check);
                    let mut at = 0;
                    for (s, e) in covered {
                        assert_eq!(
                            s, at,
                            "owned ranges are contiguous (w={window} c={context} len={len})"
                        );
                        at = e;
                    }
                    assert_eq!(at, len);
                }
            }
        }
    }

    #[test]
    fn snippets_mask_the_secret_and_stay_on_the_line() {
        let data = b"first\nkey = \"SECRETSECRET\" # note\nlast";
        let s = data.windows(12).position(|w| w == b"SECRETSECRET").unwrap();
        let snip = snippet(data, s, s + 12);
        assert_eq!(snip, "key = \"*****\" # note");
        assert!(!snip.contains("SECRET"));
    }
}
