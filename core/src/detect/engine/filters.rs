//! Decides whether a regex match is reported: entropy, placeholder rejection, secret shape,
//! checksums, allowlists and `gitleaks:allow` markers.
//!
//! Every check reads only the match and its line (bounded by `LINE_CTX` on each side), so a
//! decision never depends on where a window was cut.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::compile::{Allow, CompiledRule, LINE_CTX};
use crate::detect::rules::{AllowCondition, Checksum, ChecksumFailure, RegexTarget, Shape};

/// Below this a secret is too repetitive to be one, whatever the rule says.
const ENTROPY_FLOOR: f64 = 2.0;
/// Masks, repeats and placeholder words are only looked for in short secrets: long ones (key
/// blocks, whose binary parts encode to runs like `AAAAAAAA`) contain anything by chance.
const WORD_CHECK_MAX: usize = 256;

/// Shannon entropy in bits per byte.
pub(super) fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Case-insensitive substring test (allowlist stopwords, as in gitleaks).
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether `needle` (lowercase) occurs in `hay` as a word: spelled in one case (`fake`, `FAKE`,
/// `Fake`) and, for words shorter than six bytes, starting or ending at a word boundary (the
/// edge of the value, a non-letter, or a camelCase step such as `myFake`). Random tokens
/// contain any four letters by chance (`...FaKEJwY3...`: about 1 in 1,700 36-character base62
/// tokens for `fake` in any case); with one case and a boundary that drops to about 1 in a
/// million, and six letters in one case (`...bPxRfiCYEXAMPLEKEY`) are rarer still.
fn word_at(hay: &[u8], i: usize, needle: &[u8]) -> bool {
    let n = needle.len();
    let letter = |i: usize| hay.get(i).is_some_and(u8::is_ascii_alphabetic);
    let mut letters = hay[i..i + n].iter().filter(|b| b.is_ascii_alphabetic());
    let first_upper = letters.next().is_some_and(u8::is_ascii_uppercase);
    let (mut rest_lower, mut rest_upper) = (true, true);
    for b in letters {
        rest_lower &= b.is_ascii_lowercase();
        rest_upper &= b.is_ascii_uppercase();
    }
    let lower = !first_upper && rest_lower;
    let upper = first_upper && rest_upper;
    let capital = first_upper && rest_lower;
    if !(lower || upper || capital) {
        return false;
    }
    if n >= 6 {
        return true;
    }
    let starts = i == 0
        || !letter(i - 1)
        || (capital && hay[i - 1].is_ascii_lowercase())
        || !needle[0].is_ascii_alphabetic();
    let end = i + n;
    let ends = !letter(end)
        || ((lower || capital) && hay[end].is_ascii_uppercase())
        || !needle[n - 1].is_ascii_alphabetic();
    starts || ends
}

/// The placeholder words, found in one case-insensitive pass (overlapping, so `your_` and
/// `yourtoken` are both seen). `None` only if the automaton could not be built.
static PLACEHOLDER_SEARCH: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(PLACEHOLDER_WORDS)
        .ok()
});

/// Whether a placeholder word occurs in `s` as a word ([`word_at`]).
fn has_placeholder_word(s: &[u8]) -> bool {
    match PLACEHOLDER_SEARCH.as_ref() {
        Some(ac) => ac
            .find_overlapping_iter(s)
            .any(|m| word_at(s, m.start(), PLACEHOLDER_WORDS[m.pattern().as_usize()])),
        None => PLACEHOLDER_WORDS.iter().any(|w| {
            s.len() >= w.len()
                && (0..=s.len() - w.len())
                    .any(|i| s[i..i + w.len()].eq_ignore_ascii_case(w) && word_at(s, i, w))
        }),
    }
}

const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"changeme",
    b"change_me",
    b"change-me",
    b"example",
    b"dummy",
    b"placeholder",
    b"your_",
    b"your-",
    b"yourtoken",
    b"yourkey",
    b"yoursecret",
    b"yourpassword",
    b"redacted",
    b"replace_me",
    b"replaceme",
    b"insert_",
    b"fake",
    b"sample",
    b"notreal",
    b"not_a_real",
];

/// Whether `s` is shaped like a modular-crypt password hash: `$id$` (`id` is 1 to 12 lowercase
/// letters and digits, or phpass' `P` and `H`), then only crypt characters
/// (`[./0-9A-Za-z]`, with `$` between fields and the `=`, `,`, `+` of parameters such as
/// argon2's `v=19$m=65536,t=3,p=4`), the last field at least 22 of them: `$2y$10$...`,
/// `$6$salt$hash`, `$argon2id$v=19$...`, `$apr1$...`, `$P$...`, `$y$...`. Variable references
/// (`$HOME`, `$db_pass`, `$(cmd)`, `${X}`) are not: no second `$`, upper case, a short last
/// field or other characters.
pub(super) fn crypt_shaped(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b"$") else {
        return false;
    };
    let Some(id_len) = rest.iter().position(|&b| b == b'$') else {
        return false;
    };
    let id = &rest[..id_len];
    let id_ok = matches!(id, b"P" | b"H")
        || (1..=12).contains(&id.len())
            && id
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let body = &rest[id_len + 1..];
    let crypt = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/');
    id_ok
        && body
            .iter()
            .all(|b| crypt(b) || matches!(b, b'$' | b'=' | b',' | b'+'))
        && body
            .rsplit(|&b| b == b'$')
            .next()
            .is_some_and(|last| last.len() >= 22 && last.iter().all(|b| crypt(b) || *b == b'+'))
}

/// Values that stand for a secret instead of being one: templates, variable references,
/// masks, documentation values, repeated characters. `h` is `entropy(s)`.
///
/// A value starting with `$` is a variable reference unless it is [`crypt_shaped`] (a password
/// hash, whose crypt alphabet also makes `...` a chance sequence rather than an ellipsis).
///
/// `repeats_expected`: the rule's format has runs of one character (constant prefixes, zero
/// bytes encoded as `AAAAAA`, as in Twitter/X bearer tokens): runs of equal bytes do not make
/// its secrets placeholders. Masks (`xxxxx`, `*****`), entropy, template syntax and placeholder
/// words still do. Rules declare it with the tag `repeated-chars`; the exemption is the whole
/// secret's (a rule knows its format, the engine does not know which part of it is random).
pub(super) fn is_placeholder(s: &[u8], h: f64, repeats_expected: bool) -> bool {
    if h < ENTROPY_FLOOR {
        return true;
    }
    let crypt = s.first() == Some(&b'$') && crypt_shaped(s);
    // Template and variable syntax: ${X}, $(x), {{ x }}, <your-token>, %(x)s, <%= x %>.
    if (s.first() == Some(&b'$') && !crypt)
        || s.windows(2)
            .any(|w| matches!(w, b"${" | b"$(" | b"{{" | b"}}" | b"%(" | b"<%"))
        || (s.contains(&b'<') && s.contains(&b'>'))
        || (!crypt && s.windows(3).any(|w| w == b"..."))
    {
        return true;
    }
    if s.len() > WORD_CHECK_MAX {
        return false;
    }
    // Masks (xxxxx, *****) and long runs of one byte. Six equal digits in a row occur in about
    // 1 of 15,000 random 12-digit numbers (Slack's team and bot ids), so digit runs need eight.
    let mut run = 1;
    let mut mask_run = 0;
    for (i, &b) in s.iter().enumerate() {
        run = if i > 0 && s[i - 1] == b { run + 1 } else { 1 };
        mask_run = if matches!(b, b'x' | b'X' | b'*' | b'#') {
            mask_run + 1
        } else {
            0
        };
        let long_run = if b.is_ascii_digit() { 8 } else { 6 };
        if (run >= long_run && !repeats_expected) || mask_run >= 5 {
            return true;
        }
    }
    has_placeholder_word(s)
}

/// How far before a match the name it assigns to may begin (`sha256_of_the_api_token = ...`).
const NAME_REACH: usize = 64;

/// Whether the name a generic rule's match assigns to says the value is a digest of a secret
/// rather than the secret: `token_sha256`, `password_hash`, `passwordDigest`,
/// `secret_key_checksum`, `api_key_md5`, `hashed_password`, `cert_fingerprint`. The name is the
/// identifier the match starts in (extended back over `[A-Za-z0-9_.-]`, at most `NAME_REACH`
/// bytes) and the match up to the secret; its words are split at non-alphanumerics and at
/// camelCase steps. A digest word followed by a key word names a secret used for hashing
/// (`hash_key`, `HASH_SECRET`, `token_hash_salt`): reported as before.
pub(super) fn names_a_digest(hay: &[u8], match_start: usize, secret_start: usize) -> bool {
    let lo = match_start.saturating_sub(NAME_REACH);
    let mut s = match_start;
    while s > lo && (hay[s - 1].is_ascii_alphanumeric() || matches!(hay[s - 1], b'_' | b'.' | b'-'))
    {
        s -= 1;
    }
    let name = &hay[s..secret_start.max(s)];
    let mut digest = false;
    for_each_word(name, |w| {
        if w == b"hashed" || (digest && w == b"of") {
            // `hashed_password`, `sha256_of_token`: what follows is what was hashed.
            digest = true;
            return false;
        }
        if is_digest_word(w) {
            digest = true;
        } else if digest && is_key_word(w) {
            digest = false;
        }
        true
    });
    digest
}

/// Calls `f` with each word of `name` (lowercase, at most 16 bytes; longer ones are skipped)
/// until it returns false.
fn for_each_word(name: &[u8], mut f: impl FnMut(&[u8]) -> bool) {
    let mut buf = [0u8; 16];
    let mut n = 0usize;
    let mut long = false;
    let mut i = 0;
    while i <= name.len() {
        let b = name.get(i).copied();
        let alnum = b.is_some_and(|b| b.is_ascii_alphanumeric());
        // A camelCase step: lower case (or a digit) then upper case.
        let step = alnum
            && n > 0
            && b.is_some_and(|b| b.is_ascii_uppercase())
            && !name[i - 1].is_ascii_uppercase();
        if (!alnum || step) && (n > 0 || long) {
            if !long && !f(&buf[..n]) {
                return;
            }
            n = 0;
            long = false;
        }
        if let Some(b) = b.filter(|_| alnum) {
            if n < buf.len() {
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            } else {
                long = true;
            }
        }
        i += 1;
    }
}

fn is_digest_word(w: &[u8]) -> bool {
    if matches!(
        w,
        b"hash"
            | b"hashes"
            | b"checksum"
            | b"checksums"
            | b"digest"
            | b"digests"
            | b"fingerprint"
            | b"fingerprints"
            | b"md5"
            | b"md5sum"
    ) {
        return true;
    }
    // One word ending in hash: PWDHASH, passhash, pwhash.
    if w.len() > 4 && w.ends_with(b"hash") {
        return true;
    }
    // sha, sha1, sha256, sha512, sha3, sha256sum, ...
    let w = w.strip_suffix(b"sum").unwrap_or(w);
    w.strip_prefix(b"sha")
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

/// Words that make a name after a digest word a secret again (`hash_key`, `digest_secret`).
fn is_key_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"key" | b"keys" | b"secret" | b"salt" | b"pepper" | b"seed" | b"password" | b"token"
    )
}

/// `Shape::Random`: looks machine-generated rather than like a word, phrase or identifier.
fn looks_random(s: &[u8]) -> bool {
    let upper = s.iter().any(u8::is_ascii_uppercase);
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let digit = s.iter().any(u8::is_ascii_digit);
    let other = s.iter().any(|b| !b.is_ascii_alphanumeric());
    let classes = [upper, lower, digit, other].iter().filter(|&&c| c).count();
    if classes < 3 && !((upper || lower) && digit && s.len() >= 16) {
        return false;
    }
    // Words joined by separators or numbers (X-Token-Auth, self.secret_key, 13014decode_header,
    // https://host/path): every run of letters is a word of 3+ letters in lower, upper or Camel
    // case. Random strings have short or mixed-case letter runs.
    let wordlike = s
        .split(|b| !b.is_ascii_alphabetic())
        .filter(|seg| !seg.is_empty())
        .all(|seg| {
            seg.len() >= 3
                && (seg.iter().all(u8::is_ascii_lowercase)
                    || seg.iter().all(u8::is_ascii_uppercase)
                    || seg.iter().enumerate().all(|(i, b)| {
                        b.is_ascii_lowercase()
                            || (b.is_ascii_uppercase()
                                && seg.get(i + 1).is_some_and(u8::is_ascii_lowercase))
                    }))
        });
    !wordlike
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// GitHub token checksum: the last 6 chars are the base62 CRC32 of the 30 chars after `_`.
pub(super) fn github_checksum_ok(token: &[u8]) -> bool {
    let Some(us) = token.iter().position(|&b| b == b'_') else {
        return false;
    };
    let body = &token[us + 1..];
    if body.len() != 36 {
        return false;
    }
    let (payload, check) = body.split_at(30);
    let mut v = crc32fast::hash(payload) as u64;
    let mut expect = [b'0'; 6];
    for slot in expect.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    check == expect
}

/// The line(s) around `span`, bounded by `LINE_CTX` bytes on each side.
pub(super) fn line_of(hay: &[u8], span: Range<usize>) -> Range<usize> {
    let lo = span.start.saturating_sub(LINE_CTX);
    let start = hay[lo..span.start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(lo, |p| lo + p + 1);
    let hi = (span.end + LINE_CTX).min(hay.len());
    let end = hay[span.end..hi]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(hi, |p| span.end + p);
    start..end
}

/// A `gitleaks:allow` marker on the line(s) of `span` suppresses findings there.
pub(super) fn line_allowed(hay: &[u8], span: Range<usize>) -> bool {
    let line = line_of(hay, span);
    hay[line].windows(14).any(|w| w == b"gitleaks:allow")
}

fn allow_hits(a: &Allow, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
    let target = match a.target {
        RegexTarget::Secret => secret,
        RegexTarget::Match => whole,
        RegexTarget::Line => line,
    };
    let regex = (!a.regexes.is_empty()).then(|| a.regexes.iter().any(|r| r.is_match(target)));
    let stop =
        (!a.stopwords.is_empty()).then(|| a.stopwords.iter().any(|w| contains_ci(secret, w)));
    match a.condition {
        AllowCondition::Or => regex == Some(true) || stop == Some(true),
        AllowCondition::And => {
            regex != Some(false) && stop != Some(false) && (regex.is_some() || stop.is_some())
        }
    }
}

/// Full verdict on a match: `Some((confidence, location_bits))` to report it (the bits say which
/// AND allowlists mixing content and location had their content criteria met), `None` to drop
/// it.
pub(super) fn judge(
    rule: &CompiledRule,
    hay: &[u8],
    whole: Range<usize>,
    secret: Range<usize>,
) -> Option<(f32, u64)> {
    let s = &hay[secret.clone()];
    let h = entropy(s);
    if s.is_empty() || is_placeholder(s, h, rule.repeats_expected) {
        return None;
    }
    // A generic rule knows a secret by the name it is assigned to: a digest's name says it
    // is not one.
    if rule.generic && names_a_digest(hay, whole.start, secret.start) {
        return None;
    }
    // As gitleaks: `entropy = N` drops secrets of entropy N or less.
    if rule.entropy.is_some_and(|min| h <= min) {
        return None;
    }
    if rule.shape == Some(Shape::Random) && !looks_random(s) {
        return None;
    }
    let mut confidence = rule.confidence;
    if rule.checksum == Some(Checksum::GithubCrc32) {
        // A valid checksum means a real token format, not a look-alike: near-certain.
        confidence = if github_checksum_ok(s) {
            confidence.max(0.99)
        } else if rule.checksum_failure == ChecksumFailure::Reject {
            return None;
        } else {
            confidence.min(0.35)
        };
    }
    let line = line_of(hay, whole.clone());
    if !rule.allow.is_empty() {
        let (w, l) = (&hay[whole.clone()], &hay[line.clone()]);
        if rule.allow.iter().any(|a| allow_hits(a, s, w, l)) {
            return None;
        }
    }
    let mut bits = 0u64;
    for la in &rule.location_allow {
        if let Some((a, bit)) = &la.content
            && allow_hits(a, s, &hay[whole.clone()], &hay[line.clone()])
        {
            bits |= 1 << bit;
        }
    }
    if hay[line].windows(14).any(|w| w == b"gitleaks:allow") {
        return None;
    }
    Some((confidence, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_words_count_as_words_not_as_letters_inside_random_text() {
        for placeholder in [
            "my_fake_token_123",
            "FAKE-KEY-4a9Zq",
            "MyFakeToken9q",
            "fakekey1234567890",
            "tokenfake",
            "sk_test_EXAMPLEKEY42",
            "abcDummy",
            "your_api_key_here9",
            "00000000",
            "xoxb-000000-xxxxxxxxxxx",
            "aaaaaaQ7z",
            "${GITHUB_TOKEN}",
            "<your-token>",
        ] {
            let p = placeholder.as_bytes();
            assert!(is_placeholder(p, entropy(p), false), "{placeholder}");
        }
        // Random values with the letters of a placeholder word in mixed case or inside
        // other letters, and random digit runs: reported (all seen in random tokens).
        for random in [
            "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",
            "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",
            "npm_Qj69TR7ZyxmCfakEWHkP9zEQ46zbIQpdeWUK",
            "xoxb-555555538209-443452534269-dsxrmgbFQ1uhq9UhTSO9a4x5",
            "xoxb-064144444439-370730454104-5GYx6YduxbDatGTPlyZQnmNm",
            "Q9sAmPLEz7Kd",
        ] {
            let r = random.as_bytes();
            assert!(!is_placeholder(r, entropy(r), false), "{random}");
        }
    }

    #[test]
    fn crypt_hashes_are_not_variable_references() {
        for hash in [
            "$2y$10$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1/6x1iDbwpfiaijYG",
            "$6$x/7e8AxpbVYocr9P$DQONIfM5HqO2WmjbLfcsCaYO4m0bCqw9RjSYjR6QcNeYSoANh7N69KbCZAxKbVPivfsIOUCzBltYGjzx7OTGoH",
            "$argon2id$v=19$m=65536,t=3,p=4$N9EYRn1mVPOiR5mWHdfbWg$UI7W9wL7AVtHEH4fJJKy+HxFmaWmF2Mx+uzhu+ND/lg",
            "$apr1$XyzHYuwD$p006uAplQWpNWHa4.ILcb7",
            "$P$BYDArYJe6kJEycVT.lgLJD.9qHZn9yR",
            "$y$j9T$8UCONHJlQJC78cUKPwpZaM$h.EJ4SpWzQQDvMsZ5c8jD8tNk0tjLNEerSswGJbINm4",
            "$2b$12$3xnEfFYpftJuabHYRBBC0...h2.iQNu5XNQ7e2w/r0gdPFf/8BsaUY",
        ] {
            let h = hash.as_bytes();
            assert!(crypt_shaped(h), "{hash}");
            assert!(!is_placeholder(h, entropy(h), false), "{hash}");
        }
        for reference in [
            "$DB_PASSWORD",
            "$db_password_from_env_settings",
            "$HOME$PATH$SOME_LONG_VARIABLE_NAME_HERE",
            "$2y$10$...",
            "$2y$10$<bcrypt-hash-of-the-password-here>",
            "$(cat /run/secrets/db_password)",
            "${GITHUB_TOKEN_VALUE_FROM_THE_ENV}",
            "$abcdefghijklm$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1",
        ] {
            let r = reference.as_bytes();
            assert!(is_placeholder(r, entropy(r), false), "{reference}");
        }
    }

    #[test]
    fn runs_of_one_byte_are_placeholders_unless_the_rule_expects_them() {
        let bearer = b"AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBk";
        assert!(is_placeholder(bearer, entropy(bearer), false));
        assert!(!is_placeholder(bearer, entropy(bearer), true));
        // Masks, low entropy and words still are.
        for p in [
            "AAAAAAAAAAAAAAAAAAAAAxxxxxxxxxxxxxxxxxxx",
            "AAAAAAAAAAAAAAAAAAAAAAAAB",
            "AAAAAAAAAAAAAAAyour_token_here9",
        ] {
            assert!(
                is_placeholder(p.as_bytes(), entropy(p.as_bytes()), true),
                "{p}"
            );
        }
    }

    #[test]
    fn digest_names() {
        let digest = |line: &str| {
            let at = line.find('=').unwrap() + 2;
            names_a_digest(line.as_bytes(), 0, at)
        };
        for d in [
            "token_sha256 = x",
            "password_hash = x",
            "passwordHash = x",
            "PASSWORD_DIGEST = x",
            "secret_key_checksum = x",
            "api_key_md5 = x",
            "apiKeyMd5 = x",
            "hashed_password = x",
            "hashedPassword = x",
            "token_sha256sum = x",
            "secret_fingerprint = x",
            "token_hash_hex = x",
        ] {
            assert!(digest(d), "{d}");
        }
        for s in [
            "password = x",
            "hash_key = x",
            "HASH_SECRET = x",
            "token_hash_salt = x",
            "shared_secret = x",
            "sha256_token = x",
            "hashicorp_token = x",
            "webhook_secret = x",
        ] {
            assert!(!digest(s), "{s}");
        }
        // The name may begin before the match (a generic rule's match starts at its keyword).
        let line = b"x.hashed_password = 'abc'";
        assert!(names_a_digest(line, 9, 21));
        assert!(names_a_digest(b"sha256_of_api_token: abc", 14, 21));
    }
}
