//! A rule's lead: the byte set of each of the first bytes of every match, read off the regex's
//! syntax tree. It lets the keyword pass drop, for a few nanoseconds, the keyword hits that
//! cannot start a match (`pat` in `path`, `patch`, `pattern` for Airtable's `pat…` tokens)
//! instead of confirming each one with a regex search.
//!
//! Exactness: the lead is a necessary condition (every match starting at `p` has
//! `hay[p + i]` in set `i`), and it is only used for rules whose every match begins with one of
//! their keywords ([`starts_with_keyword`]), so every match starts at a keyword hit of its rule.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Longest lead kept: enough to reject ordinary words and identifiers.
const MAX_LEAD: usize = 24;

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);

    fn one(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert(b);
        s
    }

    fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn union(self, o: ByteSet) -> ByteSet {
        ByteSet(std::array::from_fn(|i| self.0[i] | o.0[i]))
    }

    #[inline]
    pub(super) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 != 0
    }
}

/// The byte sets that the first bytes of every match of a rule fall in.
#[derive(Debug, Default)]
pub(super) struct Lead(Vec<ByteSet>);

impl Lead {
    /// The lead of `hir`, `None` when it says nothing (the regex may match starting with any
    /// byte, or match empty).
    pub(super) fn of(hir: &Hir) -> Option<Lead> {
        let mut sets = Vec::new();
        walk(hir, &mut sets);
        sets.truncate(MAX_LEAD);
        (!sets.is_empty()).then_some(Lead(sets))
    }

    /// Whether a match may start at `hay[p]`: each of the lead's bytes is present and in its
    /// set (a match needs all of them).
    #[inline]
    pub(super) fn admits(&self, hay: &[u8], p: usize) -> bool {
        let Some(bytes) = hay.get(p..p + self.0.len()) else {
            return false;
        };
        self.0.iter().zip(bytes).all(|(s, &b)| s.contains(b))
    }
}

/// Appends to `out` the sets of the first bytes of every match of `hir`; true when `hir` has a
/// fixed length and all of it was appended (so what follows it may be appended too).
fn walk(hir: &Hir, out: &mut Vec<ByteSet>) -> bool {
    if out.len() >= MAX_LEAD {
        return false;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(lit) => {
            out.extend(lit.0.iter().map(|&b| ByteSet::one(b)));
            true
        }
        HirKind::Class(class) => match class_set(class) {
            Some(s) => {
                out.push(s);
                true
            }
            None => false,
        },
        HirKind::Capture(c) => walk(&c.sub, out),
        HirKind::Concat(items) => items.iter().all(|h| walk(h, out)),
        HirKind::Repetition(rep) => {
            for _ in 0..rep.min {
                let before = out.len();
                if !walk(&rep.sub, out) {
                    return false;
                }
                if out.len() == before || out.len() >= MAX_LEAD {
                    // A zero-width or already long enough: nothing more to learn.
                    return false;
                }
            }
            rep.max == Some(rep.min)
        }
        HirKind::Alternation(alts) => {
            // Position by position, the union of the alternatives' sets, as far as the
            // shortest one reaches; past it only when all have the same fixed length.
            let mut leads = Vec::with_capacity(alts.len());
            let mut complete = true;
            for alt in alts {
                let mut v = Vec::new();
                complete &= walk(alt, &mut v);
                leads.push(v);
            }
            let n = leads.iter().map(Vec::len).min().unwrap_or(0);
            complete &= leads.iter().all(|v| v.len() == n);
            out.extend((0..n).map(|i| leads.iter().fold(ByteSet::EMPTY, |acc, v| acc.union(v[i]))));
            complete
        }
    }
}

/// The bytes a one-byte class matches; `None` for a class that may match a multi-byte
/// character (a Unicode class reaching past ASCII).
fn class_set(class: &Class) -> Option<ByteSet> {
    let mut s = ByteSet::EMPTY;
    match class {
        Class::Bytes(c) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    s.insert(b);
                }
            }
        }
        Class::Unicode(c) => {
            for r in c.ranges() {
                if u32::from(r.end()) > 0x7f {
                    return None;
                }
                for b in r.start() as u8..=r.end() as u8 {
                    s.insert(b);
                }
            }
        }
    }
    Some(s)
}

/// Whether every match of `hir` begins with one of `keywords` (lowercase, matched ASCII
/// case-insensitively): each of its literal prefixes starts with one of them.
pub(super) fn starts_with_keyword(hir: &Hir, keywords: &[String]) -> bool {
    let seq = super::compile::prefix_literals(hir);
    let Some(lits) = seq.literals() else {
        return false;
    };
    !lits.is_empty()
        && lits.iter().all(|l| {
            let l = l.as_bytes();
            keywords
                .iter()
                .any(|k| l.len() >= k.len() && l[..k.len()].eq_ignore_ascii_case(k.as_bytes()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(re: &str) -> Option<Lead> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(re)
            .unwrap();
        Lead::of(&hir)
    }

    #[test]
    fn fixed_prefix_then_a_counted_class() {
        let l = lead(r"(?m-u)\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b").unwrap();
        assert_eq!(l.0.len(), MAX_LEAD);
        assert!(l.admits(b"x patsVGVnkQSJU8LB6.b122cb5a728dc3563549298500", 2));
        assert!(!l.admits(b"x path_to_file", 2));
        assert!(!l.admits(b"x pattern matching", 2));
        // Too short to hold the lead: no match can start there.
        assert!(!l.admits(b"patsVGV", 0));
        // Case matters where the regex says so.
        assert!(!l.admits(b"PATsVGVnkQSJU8LB6.b122cb5a728dc3563549298500", 0));
    }

    #[test]
    fn variable_repetition_ends_the_lead() {
        let l = lead(r"ghp_[A-Za-z0-9]{3,40}x").unwrap();
        assert_eq!(l.0.len(), 7);
        assert!(l.admits(b"ghp_abcdef", 0));
        assert!(!l.admits(b"ghp_ab-", 0));
    }

    #[test]
    fn alternations_are_merged_position_by_position() {
        let l = lead(r"(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{10}").unwrap();
        assert!(l.admits(b"rk_test_0123456789", 0));
        assert!(l.admits(b"sk_live_0123456789", 0));
        // Same length alternatives: the lead goes on past them.
        assert!(!l.admits(b"sk_live_012345678-", 0));
        assert!(!l.admits(b"sx_live_0123456789", 0));
        let l = lead(r"(?:a|bc)d").unwrap();
        assert_eq!(l.0.len(), 1);
    }

    #[test]
    fn case_insensitive_literals_admit_both_cases() {
        let l = lead(r"(?i)token").unwrap();
        assert!(l.admits(b"ToKeN", 0));
        assert!(!l.admits(b"tokes", 0));
    }

    #[test]
    fn no_lead_when_the_first_byte_is_free() {
        assert!(lead(r"(?s).abc").is_some_and(|l| l.admits(b"\xffabc", 0)));
        assert!(lead(r"x*abc").is_none());
        assert!(lead(r"(?:abc)?d").is_none());
    }

    #[test]
    fn keyword_prefixes() {
        let parse = |re: &str| {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(re)
                .unwrap()
        };
        let kw = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(starts_with_keyword(
            &parse(r"\b(pat[a-z]{3})"),
            &kw(&["pat"])
        ));
        assert!(starts_with_keyword(
            &parse(r"(?:ghp|gho)_x"),
            &kw(&["ghp_", "gho_"])
        ));
        assert!(!starts_with_keyword(
            &parse(r"(?:ghp|ghx)_x"),
            &kw(&["ghp_"])
        ));
        // The keyword sits in the middle of the match.
        assert!(!starts_with_keyword(
            &parse(r"[a-f0-9]{32}-us[0-9]"),
            &kw(&["-us"])
        ));
        assert!(!starts_with_keyword(
            &parse(r"[a-z]+token"),
            &kw(&["token"])
        ));
    }
}
