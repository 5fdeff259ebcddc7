//! Chunk invariance: scanning a blob through windows (owned range plus `context_bytes()` of
//! context on each side, clipped at the blob's ends) gives exactly the whole-blob matches.
//!
//! Blobs are random text or random bytes with secrets (the builtin rules' examples, plain and
//! encoded every way the engine decodes) planted at random positions, including right at window
//! edges. Windows tile the blob with random owned sizes, from barely above `2 * C` to several `C`.

use scangit_core::engine::{Engine, Match, Scratch};
use scangit_core::rules::RuleSet;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "password",
    "token",
    "secret",
    "pass",
    "api_key",
    "key",
    "=",
    ":",
    "\"",
    "'",
    "\n",
    "\n",
    " ",
    " ",
    " ",
    "fn",
    "let",
    "value",
    "config",
    "aws_secret_access_key",
    "ghp_",
    "AKIA",
    "eyJ",
    "-----BEGIN",
    "PRIVATE KEY-----",
    "postgres://",
    "u:p@h",
    "xoxb-",
    "sk_live_",
    "12345",
    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
    "gitleaks:allow",
    "\\/",
    "\\n",
    "\\\"",
    "\\u0041",
    "&amp;",
    "&#x2F;",
    "&quot;",
    "6768705f",
    "(",
    ")",
    ";",
];

fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `s` as a JSON string's content: `\/`, `\"`, `\\`, `\n`, and every `_` as `\u005f`.
fn json_escaped(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' => "\\/".to_owned(),
            '"' => "\\\"".to_owned(),
            '\\' => "\\\\".to_owned(),
            '\n' => "\\n".to_owned(),
            '_' => "\\u005f".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `s` as XML text or an attribute value, with numeric references for `/`, `:` and newlines.
fn entity_encoded(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '/' => "&#x2F;".to_owned(),
            ':' => "&#58;".to_owned(),
            '\n' => "&#10;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `s` in a query string: everything but letters, digits and `-_.` percent-encoded.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The builtin rules' examples, plain and encoded every way the engine decodes (base64, JSON
/// string escapes, XML/HTML entities, hex, percent-encoding, and JSON around base64).
fn secrets() -> Vec<String> {
    let set = RuleSet::builtin();
    let mut out = Vec::new();
    for r in set.rules() {
        for ex in &r.examples {
            let plain = ex.replace(['«', '»'], "");
            out.push(format!("cfg = \"{}\"", base64(plain.as_bytes())));
            out.push(format!("{{\"v\": \"{}\"}}", json_escaped(&plain)));
            out.push(format!("<v a=\"{}\"/>", entity_encoded(&plain)));
            out.push(format!("hex: {}\n", hex(&plain)));
            out.push(format!("/login?next={}\n", percent(&plain)));
            out.push(format!(
                "{{\"b\": \"{}\"}}",
                json_escaped(&base64(plain.as_bytes()))
            ));
            out.push(plain);
        }
    }
    out
}

fn make_blob(rng: &mut XorShift, len: usize, binary: bool, planted: &[String]) -> Vec<u8> {
    let mut b = Vec::with_capacity(len + 8192);
    while b.len() < len {
        if rng.below(40) == 0 {
            b.extend_from_slice(planted[rng.below(planted.len())].as_bytes());
        } else if binary {
            let n = rng.below(64);
            b.extend((0..n).map(|_| rng.next() as u8));
        } else {
            b.extend_from_slice(WORDS[rng.below(WORDS.len())].as_bytes());
        }
    }
    b
}

fn scan(
    engine: &Engine,
    scratch: &mut Scratch,
    hay: &[u8],
    owned: std::ops::Range<usize>,
) -> Vec<Match> {
    let mut out = Vec::new();
    engine.scan(hay, owned, scratch, &mut out);
    out
}

/// Tiles the blob with owned ranges of random sizes in `min_owned..max_owned`, each shown with
/// `C + extra` context (extra random), and returns the shifted union.
fn tiled(
    engine: &Engine,
    scratch: &mut Scratch,
    rng: &mut XorShift,
    blob: &[u8],
    min_owned: usize,
    max_owned: usize,
) -> Vec<Match> {
    let c = engine.context_bytes();
    let mut out = Vec::new();
    // Tiny owned ranges are expensive (each window re-reads ~L bytes of keyword hits), so they
    // cover a random stretch of a few thousand bytes; the rest is tiled with C..2C.
    let fine_len = if cfg!(debug_assertions) { 400 } else { 3000 };
    let fine_from = rng.below(blob.len().saturating_sub(fine_len));
    let fine = fine_from..fine_from + fine_len;
    let mut p = 0;
    while p < blob.len() {
        let (lo, hi) = if max_owned < 64 && !fine.contains(&p) {
            (c, 2 * c)
        } else {
            (min_owned, max_owned)
        };
        let q = (p + lo + rng.below(hi - lo + 1)).min(blob.len());
        let a = p.saturating_sub(c + rng.below(3) * rng.below(64));
        let b = (q + c + rng.below(3) * rng.below(64)).min(blob.len());
        let part = scan(engine, scratch, &blob[a..b], p - a..q - a);
        assert!(
            part.windows(2)
                .all(|w| (w[0].start, w[0].end, w[0].rule) <= (w[1].start, w[1].end, w[1].rule)),
            "window results are sorted"
        );
        out.extend(part.into_iter().map(|mut m| {
            m.start += a;
            m.end += a;
            m
        }));
        p = q;
    }
    out
}

#[test]
fn windowed_scans_equal_the_whole_blob_scan() {
    let engine = Engine::builtin().unwrap();
    let c = engine.context_bytes();
    let planted = secrets();
    let mut scratch = engine.new_scratch();
    let mut total_matches = 0;
    let mut layers = std::collections::BTreeSet::new();
    // Unoptimized builds are ~20x slower: fewer blobs there, all twelve in release.
    let seeds: u64 = if cfg!(debug_assertions) { 2 } else { 12 };
    for seed in 1..=seeds {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let binary = seed % 4 == 0;
        let len = 2 * c + rng.below(6 * c);
        let blob = make_blob(&mut rng, len, binary, &planted);
        let whole = scan(&engine, &mut scratch, &blob, 0..blob.len());
        let key = |m: &Match| {
            (
                m.start,
                m.end,
                m.rule,
                m.secret.clone(),
                m.decoded_from.clone(),
            )
        };
        assert!(!whole.is_empty(), "seed {seed}: planted secrets found");
        total_matches += whole.len();
        layers.extend(whole.iter().flat_map(|m| m.decoded_from.first().copied()));
        // Windows just above 2C (owned = 1 byte ...), around C, and several C.
        for (lo, hi) in [
            (1, 1),
            (1, 64),
            (c / 3, c),
            (c, 2 * c),
            (2 * c, 4 * c),
            (64, 4096),
        ] {
            let mut got = tiled(
                &engine,
                &mut scratch,
                &mut rng,
                &blob,
                lo.max(1),
                hi.max(lo.max(1)),
            );
            // Each window's matches are sorted; across windows, matches follow their anchors
            // (which precede their secret spans), so compare as sorted sets.
            got.sort_by_key(key);
            if got != whole {
                let extra: Vec<_> = got.iter().filter(|m| !whole.contains(m)).take(3).collect();
                let lost: Vec<_> = whole.iter().filter(|m| !got.contains(m)).take(3).collect();
                panic!(
                    "seed {seed}, owned {lo}..{hi}: {} vs {} matches\nextra {extra:?}\nlost {lost:?}",
                    got.len(),
                    whole.len()
                );
            }
        }
    }
    assert!(total_matches > 30, "{total_matches}");
    // Findings came through every decoding layer.
    for layer in ["base64", "percent", "json", "entity", "hex"] {
        assert!(layers.contains(layer), "{layer}: {layers:?}");
    }
}

#[test]
fn random_bytes_and_windows_never_panic() {
    let engine = Engine::builtin().unwrap();
    let mut scratch = engine.new_scratch();
    let mut rng = XorShift(0xDEAD_BEEF_1234_5678);
    for _ in 0..if cfg!(debug_assertions) { 100 } else { 300 } {
        let len = rng.below(4096);
        let blob: Vec<u8> = (0..len)
            .map(|_| match rng.below(4) {
                0 => rng.next() as u8,
                1 => b"=:\"'\n-_+/AZaz09{}$<>"[rng.below(20)],
                _ => {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rng.below(62)]
                }
            })
            .collect();
        let a = rng.below(len + 10);
        let b = rng.below(len + 10);
        let mut out = Vec::new();
        engine.scan(&blob, a..b, &mut scratch, &mut out);
        engine.scan(&blob, 0..usize::MAX, &mut scratch, &mut out);
        for m in &out {
            assert!(m.start <= m.end && m.end <= blob.len());
        }
    }
    // A scratch from another engine is accepted.
    let other = Engine::new(
        &RuleSet::from_toml_str("[[rules]]\nid='a'\nregex='abc'\n", "t")
            .unwrap()
            .0,
    )
    .unwrap();
    let mut foreign = other.new_scratch();
    let mut out = Vec::new();
    engine.scan(
        b"token = \"k7Hf9#Qz2pLm4!wX8r\"",
        0..28,
        &mut foreign,
        &mut out,
    );
    assert_eq!(out.len(), 1);
}

/// Rules whose matches depend on window edges and alternation order: `$`, `\b` (ASCII and
/// Unicode), a lazy prefix, alternatives of different lengths, a short keyword, and matches
/// that chain, so that an iteration from the window's start and one from further back find
/// different matches (62 of `a`..`j`, then `kkkk`: from the start `[0, 31)`, `[31, 62)` and nothing
/// with the keyword; from 24, `[24, 55)` then `[55, 66)`).
const EDGE_RULES: &str = r#"
[[rules]]
id = "line-end"
regex = '''(?m)lk=([a-z0-9]{3,24})$'''
keywords = ["lk="]

[[rules]]
id = "word"
regex = '''\bwb_([a-z0-9]{4,30})\b'''
keywords = ["wb_"]

[[rules]]
id = "unicode-word"
regex = '''(?u)\bük_(\w{4,20})\b'''
keywords = ["ük_"]

[[rules]]
id = "priority"
regex = '''(?:tk|tkx|tkxx)([0-9]{4}|[0-9]{8})'''
keywords = ["tk"]

[[rules]]
id = "phase"
regex = '''[a-j][a-z]{0,30}'''
keywords = ["k"]

[[rules]]
id = "lazy"
regex = '''a.{0,40}?ZZ([0-9]{2,})'''
keywords = ["zz"]
"#;

/// Text made of a few repeated pieces, so one rule's keyword hits are dense and their
/// confirmation windows overlap (the case the shared search is for), with real matches, near
/// misses and edge bytes mixed in.
fn dense_blob(rng: &mut XorShift, len: usize) -> Vec<u8> {
    const PIECES: &[&str] = &[
        "postgres://u:p@",
        "postgres://app:x0PgdnL85VB7Nie@db3.internal/x ",
        "https://deploy:Wiy4xDC3eWWiqSAb59p9@git.internal.net ",
        "lk=",
        "lk=abc123\n",
        "wb_",
        "wb_k3y9x2 ",
        "ük_",
        "ük_äbcdé ",
        "tk",
        "tkxx1234",
        "tk12345678",
        "a",
        "ZZ",
        "ZZ42",
        "password = ",
        "api_key=",
        "AKIA",
        "ghp_",
        "\n",
        " ",
        "é",
        "abcdefghij",
        "k",
    ];
    let mut b = Vec::with_capacity(len + 64);
    let (x, y) = (rng.below(PIECES.len()), rng.below(PIECES.len()));
    while b.len() < len {
        let piece = match rng.below(10) {
            0..=5 => PIECES[x],
            6..=7 => PIECES[y],
            _ => PIECES[rng.below(PIECES.len())],
        };
        b.extend_from_slice(piece.as_bytes());
    }
    b
}

/// The search shared by a cluster of one rule's keyword hits is an optimization: every scan,
/// whole or windowed, reports exactly what confirming each hit with its own search reports.
#[test]
fn shared_confirmation_equals_confirming_each_hit_alone() {
    let edge = RuleSet::from_toml_str(EDGE_RULES, "edge").unwrap().0;
    for set in [RuleSet::builtin(), edge] {
        let shared = Engine::new(&set).unwrap();
        let mut alone = Engine::new(&set).unwrap();
        alone.confirm_each_hit_alone();
        let (mut s1, mut s2) = (shared.new_scratch(), alone.new_scratch());
        let mut rng = XorShift(0x005E_ED0F_C0FF_EE00);
        let mut total = 0;
        let crafted = [
            format!("{}kkkk", &"abcdefghij".repeat(7)[..62]),
            format!(
                "{}kk{}kkkkkk",
                "abcdefghij".repeat(10),
                "jihgfedcba".repeat(5)
            ),
        ];
        for i in 0..if cfg!(debug_assertions) { 20 } else { 120 } {
            let blob = match crafted.get(i) {
                Some(c) => c.clone().into_bytes(),
                None => {
                    let len = 1 + rng.below(6000);
                    dense_blob(&mut rng, len)
                }
            };
            let (a, b) = (rng.below(blob.len()), rng.below(blob.len() + 1));
            for owned in [0..blob.len(), a.min(b)..a.max(b)] {
                let want = scan(&alone, &mut s2, &blob, owned.clone());
                let got = scan(&shared, &mut s1, &blob, owned.clone());
                assert_eq!(
                    got,
                    want,
                    "owned {owned:?} of {:?}",
                    String::from_utf8_lossy(&blob)
                );
                total += want.len();
            }
        }
        assert!(total > 100, "the dense blobs hold real matches: {total}");
    }
}
