//! The archive walker: opens zip, tar and compressed streams, nested to [`MAX_DEPTH`], and turns
//! each member into text (class files, `.pyc` and notebooks through their extractors, text and
//! UTF-16 text copied, binaries listed without text) under the blob's bounds.
//!
//! Streams (gzip, bzip2, xz) are decoded through [`Metered`], which charges the blob's
//! decompression budget and stops a stream past [`MAX_RATIO`] times its compressed size; a
//! stream holding a tar is read as a stream (the tar's members one at a time), a stream holding
//! a zip is read whole (the zip reader needs its directory at the end) and opened at the same
//! level, any other stream is one member named after the compressed file. A member is held in
//! memory up to [`MAX_ENTRY`] bytes, so the memory of a walk is bounded by the budget, not by
//! any size an archive declares.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, Read};

use super::sniff::{self, Content};
use super::{
    Entry, Extracted, INFLATE_BUDGET, Kind, MAX_DEPTH, MAX_ENTRIES, MAX_ENTRY, MAX_OUTPUT,
    MAX_RATIO, Out, RATIO_FLOOR, archive_kind, class, ends_with_ci, ipynb, is_tar, push_line, pyc,
    zip,
};

/// Longest GNU long name or PAX header read from a tar: a longer name is cut there, a longer
/// PAX header is not read (its member keeps the name in its own header).
pub const MAX_NAME: usize = 64 << 10;

/// Why a member or a stream was cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cut {
    /// The blob's decompression budget is spent.
    Budget,
    /// More than [`MAX_RATIO`] times the compressed size.
    Ratio,
    /// A member longer than [`MAX_ENTRY`].
    Size,
}

/// Bytes the blob may still decompress.
pub(super) struct Budget {
    left: Cell<usize>,
}

/// A decompressing reader under the blob's budget and its own ratio limit. At a limit it reports
/// the end of the stream (what was read stays usable) and records which limit in `cut`.
pub(super) struct Metered<'a, R> {
    inner: R,
    budget: &'a Budget,
    /// What the stream may still produce under the ratio limit.
    left: usize,
    cut: &'a Cell<Option<Cut>>,
}

impl<'a, R: Read> Metered<'a, R> {
    /// `inner` decodes `compressed` bytes of input.
    pub(super) fn new(
        inner: R,
        compressed: usize,
        budget: &'a Budget,
        cut: &'a Cell<Option<Cut>>,
    ) -> Self {
        Metered {
            inner,
            budget,
            left: compressed.saturating_mul(MAX_RATIO).max(RATIO_FLOOR),
            cut,
        }
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.cut.get().is_some() {
            return Ok(0);
        }
        let allow = self.left.min(self.budget.left.get());
        if allow == 0 {
            // At a limit: it cuts only when the stream had more to give.
            if self.inner.read(&mut [0u8; 1])? > 0 {
                let why = if self.budget.left.get() == 0 {
                    Cut::Budget
                } else {
                    Cut::Ratio
                };
                self.cut.set(Some(why));
            }
            return Ok(0);
        }
        let n = buf.len().min(allow);
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got;
        self.budget.left.set(self.budget.left.get() - got);
        Ok(got)
    }
}

/// A member's name as a limit line shows it: one line, lossy UTF-8, escaped, at most 300
/// characters.
fn shown(name: &[u8]) -> String {
    if name.is_empty() {
        return "the blob".to_owned();
    }
    let s = String::from_utf8_lossy(name);
    let mut t: String = s
        .chars()
        .take(300)
        .collect::<String>()
        .escape_debug()
        .collect();
    if s.chars().nth(300).is_some() {
        t.push('…');
    }
    t
}

fn digest(data: &[u8]) -> [u8; 20] {
    let mut d = [0u8; 20];
    d.copy_from_slice(&blake3::hash(data).as_bytes()[..20]);
    d
}

/// `prefix` then `name`.
pub(super) fn joined(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    [prefix, name].concat()
}

/// The name of the file a compressed stream holds: the stream's own name without its
/// compression suffix (as `gunzip` names it), else the name a gzip header stores, else the
/// stream's name.
fn single_name(source: &[u8], kind: Kind, data: &[u8]) -> Vec<u8> {
    let base = source
        .rsplit(|&b| b == b'/' || b == b'!')
        .next()
        .unwrap_or(source);
    for (suffix, instead) in [
        (&b".tgz"[..], &b".tar"[..]),
        (b".taz", b".tar"),
        (b".tbz2", b".tar"),
        (b".tbz", b".tar"),
        (b".tb2", b".tar"),
        (b".txz", b".tar"),
        (b".svgz", b".svg"),
        (b".gz", b""),
        (b".gzip", b""),
        (b".bz2", b""),
        (b".bz", b""),
        (b".xz", b""),
    ] {
        if base.len() > suffix.len() && ends_with_ci(base, suffix) {
            return joined(&base[..base.len() - suffix.len()], instead);
        }
    }
    if kind == Kind::Gzip
        && let Some(name) = gzip_name(data)
        && let Some(base) = name.rsplit(|&b| b == b'/' || b == b'\\').next()
        && !base.is_empty()
    {
        return base.to_vec();
    }
    base.to_vec()
}

/// The original file name a gzip header stores (FNAME), if any.
fn gzip_name(d: &[u8]) -> Option<&[u8]> {
    let flags = *d.get(3)?;
    if flags & 0x08 == 0 {
        return None;
    }
    let mut p = 10;
    if flags & 0x04 != 0 {
        p = 12 + usize::from(u16::from_le_bytes([*d.get(10)?, *d.get(11)?]));
    }
    let rest = d.get(p..)?;
    let rest = &rest[..rest.len().min(MAX_NAME)];
    let end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..end])
}

/// Appends as much of `s` as fits as one line; marks the output full when it was cut.
fn push_partial(out: &mut Out, s: &[u8]) {
    if !push_line(out, s) {
        let room = MAX_OUTPUT.saturating_sub(out.buf.len() + 1);
        if room > 0 {
            out.buf.extend_from_slice(&s[..room.min(s.len())]);
            out.buf.push(b'\n');
        }
    }
}

/// One blob's walk: its text, its members, the limits met.
pub(super) struct Walk<'a> {
    out: Out,
    entries: Vec<Entry>,
    limits: Vec<String>,
    budget: &'a Budget,
    /// A limit of the whole blob was met: nothing more is read.
    stopped: bool,
}

/// Extracts the archive `data` (a blob found at `path`) of format `kind`; `None` when it does
/// not open at all.
pub(super) fn extract(kind: Kind, data: &[u8], path: &[u8]) -> Option<Extracted> {
    let budget = Budget {
        left: Cell::new(INFLATE_BUDGET),
    };
    let mut w = Walk {
        out: Out::new(),
        entries: Vec::new(),
        limits: Vec::new(),
        budget: &budget,
        stopped: false,
    };
    if !w.open(kind, data, b"", path, 0) {
        return None;
    }
    Some(Extracted {
        text: w.out.buf,
        entries: w.entries,
        limits: w.limits,
    })
}

impl<'a> Walk<'a> {
    pub(super) fn budget(&self) -> &'a Budget {
        self.budget
    }

    pub(super) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Whether member `name` may be read: `false` (and a limit line) once the blob has as many
    /// members as it may, or after a limit of the whole blob.
    pub(super) fn admit(&mut self, name: &[u8]) -> bool {
        if self.stopped {
            return false;
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.limits.push(format!(
                "{}: more than {MAX_ENTRIES} members in the blob; this one and the rest are not read (member count limit)",
                shown(name)
            ));
            self.stopped = true;
            return false;
        }
        true
    }

    /// Records that `name` (a member or a stream) was cut short.
    pub(super) fn cut(&mut self, name: &[u8], cut: Cut) {
        let line = match cut {
            Cut::Budget => {
                self.stopped = true;
                format!(
                    "{}: the blob's decompression budget ({} MiB) is spent; the rest of the blob is not read (decompression budget)",
                    shown(name),
                    INFLATE_BUDGET >> 20
                )
            }
            Cut::Ratio => format!(
                "{}: expands more than {MAX_RATIO} times its compressed size; read up to there (compression ratio limit)",
                shown(name)
            ),
            Cut::Size => format!(
                "{}: larger than {} MiB; only its first {} MiB are read (member size limit)",
                shown(name),
                MAX_ENTRY >> 20,
                MAX_ENTRY >> 20
            ),
        };
        self.limits.push(line);
    }

    /// Lists a member that could not be read (encrypted, unknown compression, damaged).
    pub(super) fn unread(&mut self, name: Vec<u8>) {
        let at = self.out.buf.len();
        self.entries.push(Entry {
            name,
            text: at..at,
            digest: digest(b""),
        });
    }

    /// Opens `data` as an archive of format `kind` whose members are named under `holder` (the
    /// member holding it, empty for the blob); `source` names the file a compressed stream
    /// holds. `false` when it does not open.
    fn open(
        &mut self,
        kind: Kind,
        data: &[u8],
        holder: &[u8],
        source: &[u8],
        depth: usize,
    ) -> bool {
        let prefix = if holder.is_empty() {
            Vec::new()
        } else {
            joined(holder, b"!")
        };
        match kind {
            Kind::Zip | Kind::JavaArchive => zip::members(self, data, &prefix, depth),
            Kind::Tar => self.tar(data, &prefix, depth),
            Kind::Gzip | Kind::Bzip2 | Kind::Xz => {
                self.stream(kind, data, holder, &prefix, source, depth)
            }
            Kind::JavaClass | Kind::Pyc | Kind::Notebook => false,
        }
    }

    /// A compressed stream: a tar inside is read as a stream, a zip inside opened at the same
    /// level, anything else is one member.
    fn stream(
        &mut self,
        kind: Kind,
        data: &[u8],
        holder: &[u8],
        prefix: &[u8],
        source: &[u8],
        depth: usize,
    ) -> bool {
        let decoder: Box<dyn Read + '_> = match kind {
            Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
            Kind::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
            _ => Box::new(lzma_rust2::XzReader::new(data, true)),
        };
        let cut = Cell::new(None);
        let mut r = Metered::new(decoder, data.len(), self.budget, &cut);
        let mut head = Vec::with_capacity(512);
        if (&mut r).take(512).read_to_end(&mut head).is_err() && head.is_empty() {
            return false;
        }
        let label = if holder.is_empty() { source } else { holder };
        if is_tar(&head) {
            self.tar(io::Cursor::new(head).chain(&mut r), prefix, depth);
            if let Some(c) = cut.get() {
                self.cut(label, c);
            }
            return true;
        }
        let mut body = head;
        let room = (MAX_ENTRY - body.len()) as u64;
        let _ = (&mut r).take(room).read_to_end(&mut body);
        let longer = body.len() == MAX_ENTRY && r.read(&mut [0u8; 1]).is_ok_and(|n| n > 0);
        if archive_kind(&body).is_some_and(|k| k == Kind::Zip)
            && zip::members(self, &body, prefix, depth)
        {
            if let Some(c) = cut.get() {
                self.cut(label, c);
            }
            return true;
        }
        let name = joined(prefix, &single_name(source, kind, data));
        if self.admit(&name) {
            self.member(name.clone(), &body, depth);
            if longer {
                self.cut(&name, Cut::Size);
            }
            if let Some(c) = cut.get() {
                self.cut(&name, c);
            }
        }
        true
    }

    /// A tar (plain, or the content of a stream): each regular file is a member. GNU long names
    /// and PAX paths are read here, bounded by [`MAX_NAME`].
    fn tar<R: Read>(&mut self, reader: R, prefix: &[u8], depth: usize) -> bool {
        let mut archive = tar::Archive::new(reader);
        let Ok(entries) = archive.entries() else {
            return false;
        };
        let mut any = false;
        let mut long_name: Option<Vec<u8>> = None;
        let mut pax_path: Option<Vec<u8>> = None;
        for e in entries.raw(true) {
            let Ok(mut e) = e else { break };
            any = true;
            let t = e.header().entry_type();
            let size = e.header().entry_size().unwrap_or(u64::MAX);
            if t.is_gnu_longname() {
                let mut name = Vec::new();
                if (&mut e)
                    .take(MAX_NAME as u64)
                    .read_to_end(&mut name)
                    .is_err()
                {
                    break;
                }
                while name.last() == Some(&0) {
                    name.pop();
                }
                long_name = Some(name);
                continue;
            }
            if t.is_pax_local_extensions() {
                let mut ext = Vec::new();
                if size <= MAX_NAME as u64 {
                    if e.read_to_end(&mut ext).is_err() {
                        break;
                    }
                    pax_path = tar::PaxExtensions::new(&ext)
                        .flatten()
                        .filter(|x| x.key_bytes() == b"path")
                        .last()
                        .map(|x| x.value_bytes().to_vec());
                }
                continue;
            }
            if t.is_pax_global_extensions() || t.is_gnu_longlink() {
                continue;
            }
            let (long, pax) = (long_name.take(), pax_path.take());
            if !(t.is_file() || t.is_contiguous() || t.is_gnu_sparse()) {
                continue;
            }
            let path = pax.or(long).unwrap_or_else(|| e.path_bytes().into_owned());
            let name = joined(prefix, &path);
            if !self.admit(&name) {
                break;
            }
            let mut data = Vec::new();
            let read = (&mut e).take(MAX_ENTRY as u64).read_to_end(&mut data);
            self.member(name.clone(), &data, depth);
            if size > MAX_ENTRY as u64 && data.len() == MAX_ENTRY {
                self.cut(&name, Cut::Size);
            }
            if read.is_err() || self.stopped {
                break;
            }
        }
        any
    }

    /// One member's bytes: a nested archive is opened (one level deeper), class files, `.pyc`
    /// and notebooks go through their extractors, text is copied, binaries are only listed.
    pub(super) fn member(&mut self, name: Vec<u8>, data: &[u8], depth: usize) {
        let digest = digest(data);
        let at = self.out.buf.len();
        let header = [&b"==> "[..], &name, b" <=="].concat();
        if let Some(kind) = archive_kind(data) {
            // Its header line names it (a finding about the archive itself points there); its
            // members follow with their own.
            push_line(&mut self.out, &header);
            let after = self.out.buf.len();
            self.entries.push(Entry {
                name: name.clone(),
                text: after..after,
                digest,
            });
            if depth >= MAX_DEPTH {
                self.limits.push(format!(
                    "{}: an archive nested more than {MAX_DEPTH} deep; not opened (nesting limit)",
                    shown(&name)
                ));
            } else {
                self.open(kind, data, &name, &name, depth + 1);
            }
            return;
        }
        let mut text = at..at;
        if push_line(&mut self.out, &header) {
            let start = self.out.buf.len();
            // A binary member keeps its header line and has an empty range after it.
            text = start..start;
            if self.text_of(&name, data) {
                text = start..self.out.buf.len();
            }
        }
        self.entries.push(Entry {
            name: name.clone(),
            text,
            digest,
        });
        if self.out.full && !self.stopped {
            self.stopped = true;
            self.limits.push(format!(
                "{}: the output limit ({} MiB of text) is reached; the rest of the blob is not extracted (output limit)",
                shown(&name),
                MAX_OUTPUT >> 20
            ));
        }
    }

    /// Writes the text of member `name`; `false` when it has none (binary).
    fn text_of(&mut self, name: &[u8], data: &[u8]) -> bool {
        let before = self.out.buf.len();
        let parsed = match super::kind(data, name) {
            Some(Kind::JavaClass) => class::strings(data, &mut self.out),
            Some(Kind::Pyc) => pyc::strings(data, &mut self.out),
            Some(Kind::Notebook) => ipynb::text(data, &mut self.out),
            _ => false,
        };
        if parsed {
            return self.out.buf.len() > before;
        }
        // A class file or notebook that does not parse is sniffed like any member.
        self.out.buf.truncate(before);
        let text: Cow<'_, [u8]> = match sniff::classify(data) {
            Content::Text => Cow::Borrowed(data),
            Content::Utf16Le => Cow::Owned(sniff::utf16_to_utf8(data, true)),
            Content::Utf16Be => Cow::Owned(sniff::utf16_to_utf8(data, false)),
            Content::Binary => return false,
        };
        push_partial(&mut self.out, &text);
        self.out.buf.len() > before
    }
}
