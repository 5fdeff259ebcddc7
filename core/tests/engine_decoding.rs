//! Decoding and extraction: percent-encoding (alone and nested with base64), UTF-16 without a
//! byte-order mark, Java class files, jar archives (stored and deflated entries), Python
//! bytecode and Jupyter notebooks, through `content::prepare` and the engine.

mod zip_support;

use scangit_core::detect::content::{Prepared, prepare};
use scangit_core::engine::{Engine, Match};
use zip_support::Method;

/// A GitHub token with a valid checksum (from the built-in examples).
const GHP: &str = "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";

fn scan(engine: &Engine, text: &[u8]) -> Vec<Match> {
    let mut scratch = engine.new_scratch();
    let mut out = Vec::new();
    engine.scan(text, 0..text.len(), &mut scratch, &mut out);
    out
}

/// A finding as the tests compare it: (rule id, secret, decoded_from).
type Found = (String, String, Vec<&'static str>);

/// Prepares `data` at `path`, scans it, returns the origin and the findings.
fn run(data: &[u8], path: &str) -> (Option<&'static str>, Vec<Found>) {
    let engine = Engine::builtin().unwrap();
    match prepare(data, path.as_bytes()) {
        Prepared::Binary => (Some("BINARY"), Vec::new()),
        Prepared::Text { bytes, origin, .. } => (
            origin,
            scan(&engine, &bytes)
                .into_iter()
                .map(|m| {
                    (
                        engine.rule_id(m.rule).to_owned(),
                        String::from_utf8_lossy(&m.secret).into_owned(),
                        m.decoded_from,
                    )
                })
                .collect(),
        ),
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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

#[test]
fn percent_encoded_secrets_are_found_at_the_encoded_span() {
    let engine = Engine::builtin().unwrap();
    let enc = percent_encode("postgres://app:x0PgdnL85VB7NieMlQ@db3.internal:5432/orders");
    let text = format!("redirect = \"/login?next={enc}\"\n");
    let found = scan(&engine, text.as_bytes());
    assert_eq!(found.len(), 1, "{found:?}");
    let m = &found[0];
    assert_eq!(engine.rule_id(m.rule), "postgres-uri");
    assert_eq!(m.secret, b"x0PgdnL85VB7NieMlQ");
    assert_eq!(m.decoded_from, ["percent"]);
    assert_eq!(&text[m.start..m.end], format!("/login?next={enc}"));
}

#[test]
fn percent_then_base64_is_decoded_recursively() {
    let engine = Engine::builtin().unwrap();
    let inner = b64(format!("GITHUB_TOKEN={GHP}").as_bytes());
    assert!(inner.contains('+') || inner.contains('/') || inner.contains('='));
    let text = format!("cookie: session={}; path=/\n", percent_encode(&inner));
    let found = scan(&engine, text.as_bytes());
    assert!(
        found
            .iter()
            .any(|m| m.secret == GHP.as_bytes() && m.decoded_from == ["percent", "base64"]),
        "{found:?}"
    );
}

#[test]
fn raw_matches_are_not_repeated_from_percent_decoding() {
    let engine = Engine::builtin().unwrap();
    let text = format!("https://api.internal/hook?token={GHP}&note=deploy%20from%20ci%20job\n");
    let found = scan(&engine, text.as_bytes());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].decoded_from.is_empty());
    // Short runs and format strings are not decoded.
    assert!(scan(&engine, b"printf(\"%02x%02x\", a, b);").is_empty());
}

#[test]
fn utf16_without_bom_is_transcoded() {
    let text = format!("GITHUB_TOKEN = \"{GHP}\"\r\n");
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let (origin, found) = run(&le, "settings.ini");
    assert_eq!(origin, Some("utf16"));
    assert_eq!(found, [("github-pat".into(), GHP.into(), vec![])]);
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert_eq!(run(&be, "").0, Some("utf16"));
}

fn class_file(strings: &[&str]) -> Vec<u8> {
    let mut c = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52];
    // Constant pool: an Integer, a Long (two slots), then the strings and a String ref.
    let count = 1 + 1 + 2 + strings.len() + 1;
    c.extend_from_slice(&(count as u16).to_be_bytes());
    c.extend_from_slice(&[3, 0, 0, 0, 7]);
    c.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 9]);
    for s in strings {
        c.push(1);
        c.extend_from_slice(&(s.len() as u16).to_be_bytes());
        c.extend_from_slice(s.as_bytes());
    }
    c.extend_from_slice(&[8, 0, 4]);
    c.extend_from_slice(&[0, 0x21, 0, 1, 0, 2]); // access flags, this, super (rest omitted)
    c
}

#[test]
fn java_class_constant_strings_are_scanned() {
    let class = class_file(&["com/acme/Config", "GITHUB_TOKEN", GHP, "Ljava/lang/String;"]);
    let (origin, found) = run(&class, "src/main/com/acme/Config.class");
    assert_eq!(origin, Some("java-class"));
    assert_eq!(found, [("github-pat".into(), GHP.into(), vec![])]);
}

/// A zip of `entries` (name, data, deflated?).
fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8], Method)> = entries
        .iter()
        .map(|&(name, data, deflate)| {
            let method = if deflate {
                Method::Deflate
            } else {
                Method::Stored
            };
            (name, data, method)
        })
        .collect();
    zip_support::zip(&entries, 1)
}

#[test]
fn jar_entries_are_extracted_stored_deflated_and_nested() {
    let props =
        b"# app settings\nstripe.key=sk_live_tshRQNG3dhi4wVnX558GkvxT\nmode=prod\n".repeat(3);
    let class = class_file(&["GITHUB_TOKEN", GHP]);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR sk_live_hvA0EhexWQ3czyrEvmkXbI8P";
    let inner = zip(&[("lib/Inner.class", &class, true)]);
    let jar = zip(&[
        ("META-INF/", b"", false),
        ("com/acme/App.class", &class, false),
        ("application.properties", &props, true),
        ("logo.png", png, false),
        ("WEB-INF/lib/inner.jar", &inner, false),
    ]);
    let (origin, found) = run(&jar, "target/app.war");
    assert_eq!(origin, Some("jar"));
    let mut rules: Vec<_> = found.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    rules.dedup();
    assert_eq!(
        rules,
        [
            ("github-pat", GHP),
            ("stripe-secret-key", "sk_live_tshRQNG3dhi4wVnX558GkvxT"),
            ("github-pat", GHP),
        ],
        "{found:?}"
    );
    // Not a jar by name: still a zip by its magic, with the same findings.
    assert_eq!(run(&jar, "data.bin"), (Some("zip"), found.clone()));
    // A truncated archive extracts nothing and is not scanned as text.
    assert_eq!(run(&jar[..40], "x.jar").0, Some("BINARY"));
}

#[test]
fn pyc_strings_are_scanned() {
    let mut pyc = vec![0x6f, 0x0d, b'\r', b'\n'];
    pyc.extend_from_slice(&[0; 12]);
    pyc.extend_from_slice(&[0xe3, 0, 0, 0, 0]); // code object header (not interpreted)
    pyc.push(b'Z' | 0x80);
    pyc.push(12);
    pyc.extend_from_slice(b"GITHUB_TOKEN");
    pyc.push(b'u');
    pyc.extend_from_slice(&(GHP.len() as u32).to_le_bytes());
    pyc.extend_from_slice(GHP.as_bytes());
    pyc.extend_from_slice(&[0x4e, 0x29, 0x02]);
    let (origin, found) = run(&pyc, "__pycache__/settings.cpython-312.pyc");
    assert_eq!(origin, Some("pyc"));
    assert_eq!(found, [("github-pat".into(), GHP.into(), vec![])]);
}

#[test]
fn notebook_sources_and_outputs_are_unescaped() {
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "code", "source": ["import db\n", "db_password = \"h9oev5l#Hi9yZ?slaYrkl1\"\n"],
             "outputs": [{"output_type": "stream", "name": "stdout", "text": ["token ok\n"]},
                         {"output_type": "execute_result", "data": {"text/plain": [format!("'{GHP}'")]}}]},
            {"cell_type": "markdown", "source": "# Notes"}
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    })
    .to_string();
    let (origin, found) = run(nb.as_bytes(), "analysis/Explore.ipynb");
    assert_eq!(origin, Some("ipynb"));
    let got: Vec<_> = found.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    assert_eq!(
        got,
        [
            ("generic-password", "h9oev5l#Hi9yZ?slaYrkl1"),
            ("github-pat", GHP)
        ]
    );
    // Not JSON: scanned as the text it is.
    assert_eq!(run(b"db_password = 1\n", "broken.ipynb").0, None);
}
