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

/// A finding with the text of its span: (rule id, secret, decoded_from, span text).
type Spanned = (String, String, Vec<&'static str>, String);

fn findings(engine: &Engine, text: &str) -> Vec<Spanned> {
    scan(engine, text.as_bytes())
        .into_iter()
        .map(|m| {
            (
                engine.rule_id(m.rule).to_owned(),
                String::from_utf8_lossy(&m.secret).into_owned(),
                m.decoded_from,
                text[m.start..m.end].to_owned(),
            )
        })
        .collect()
}

fn one(rule: &str, secret: &str, decoded_from: &[&'static str], span: &str) -> Vec<Spanned> {
    vec![(
        rule.into(),
        secret.into(),
        decoded_from.to_vec(),
        span.into(),
    )]
}

fn json_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' => "\\/".to_owned(),
            '"' => "\\\"".to_owned(),
            '\\' => "\\\\".to_owned(),
            '\n' => "\\n".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A PEM key (the `private-key` rule's service-account example).
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nWBOsmEcutOLeYnY3QrLjzsSLhWoGi74QRky3DbQuqQ83dzyA7RdfP5GpfkOCp5+r\ndbu7bwpGxDsOOpm2RLgc+F1v4eZpLdPbUqN5bBOFazqAsszV0QCjEjKtohSLOgqY\nTTb7jEvv053ge/skuKnwdYzTKWTIn3M5CLMrZWEuoo8X8Zzj5Y9/IhF1I9zJyOBI\n-----END PRIVATE KEY-----";

/// Basic-auth credentials in a URL (the `url-basic-auth` rule's example).
const URL_PASS: &str = "Wiy4xDC3eWWiqSAb59p9ydTS";

#[test]
fn json_escaped_secrets_are_found_at_the_encoded_run() {
    let engine = Engine::builtin().unwrap();
    // `\/` as PHP's json_encode writes it: the URL's `://` is not there until decoded.
    let url = format!("https://deploy:{URL_PASS}@git.internal.net/ops/app.git");
    let run = json_escape(&url);
    let text = format!("{{\"remote\": \"{run}\", \"branch\": \"main\"}}\n");
    assert_eq!(
        findings(&engine, &text),
        one("url-basic-auth", URL_PASS, &["json"], &run)
    );
    // A PEM key in a JSON string with `\n` and `\/`: the raw key lines are broken by `\/`.
    let run = json_escape(PEM);
    assert!(run.contains("\\/"));
    let text = format!("{{\"type\": \"service_account\", \"private_key\": \"{run}\\n\"}}");
    assert_eq!(
        findings(&engine, &text),
        one("private-key", PEM, &["json"], &format!("{run}\\n"))
    );
    // JSON stringified in JSON, and `\u` escapes.
    let run = json_escape(r#"{"db_password": "h9oev5l#Hi9yZ?slaYrkl1", "pool": 4}"#);
    let text = format!("{{\"settings\": \"{run}\"}}");
    assert_eq!(
        findings(&engine, &text),
        one(
            "generic-password",
            "h9oev5l#Hi9yZ?slaYrkl1",
            &["json"],
            &run
        )
    );
    let run = GHP.replace('_', "\\u005f");
    let text = format!("{{\"token\": \"{run}\"}}");
    assert_eq!(
        findings(&engine, &text),
        one("github-pat", GHP, &["json"], &run)
    );
    // A token glued to an escape (`\n` then the token: no word boundary until decoded).
    let run = format!("rotated:\\n{GHP}\\n");
    let text = format!("{{\"note\": \"{run}\"}}");
    assert_eq!(
        findings(&engine, &text),
        one("github-pat", GHP, &["json"], &run)
    );
    // Escapes in ordinary code are decoded and yield nothing.
    assert!(
        findings(
            &engine,
            "printf(\"usage: %s [--token FILE]\\n\\tscan a repository\\n\", argv[0]);"
        )
        .is_empty()
    );
}

#[test]
fn entity_encoded_secrets_are_found_at_the_encoded_run() {
    let engine = Engine::builtin().unwrap();
    let run = format!("https:&#x2F;&#x2F;deploy:{URL_PASS}&#64;git.internal.net&#x2F;ops");
    let text = format!("<a class=\"repo\" href=\"{run}\">app</a>\n");
    assert_eq!(
        findings(&engine, &text),
        one("url-basic-auth", URL_PASS, &["entity"], &run)
    );
    // A key in XML text with `&#10;` line ends.
    let run = PEM.replace('\n', "&#10;");
    let text = format!("<config>\n  <signingKey>{run}</signingKey>\n</config>\n");
    assert_eq!(
        findings(&engine, &text),
        one("private-key", PEM, &["entity"], &run)
    );
    // JSON in an attribute, with `&quot;`.
    let run = "{&quot;db_password&quot;: &quot;h9oev5l#Hi9yZ?slaYrkl1&quot;}";
    let text = format!("<div id=\"checkout\" data-config=\"{run}\"></div>");
    assert_eq!(
        findings(&engine, &text),
        one(
            "generic-password",
            "h9oev5l#Hi9yZ?slaYrkl1",
            &["entity"],
            run
        )
    );
    // Escaped markup in ordinary HTML yields nothing.
    assert!(
        findings(
            &engine,
            "<p>Use &lt;token&gt; &amp; &quot;--password&quot; flags: a &gt; b &amp;&amp; c</p>"
        )
        .is_empty()
    );
}

#[test]
fn hex_encoded_secrets_are_found_at_the_encoded_run() {
    let engine = Engine::builtin().unwrap();
    let run = hex(&format!("GITHUB_TOKEN={GHP}"));
    let text = format!("payload = \"{run}\"\n");
    assert_eq!(
        findings(&engine, &text),
        one("github-pat", GHP, &["hex"], &run)
    );
    let run = run.to_uppercase();
    let text = format!("payload = 0x{run};\n");
    assert_eq!(
        findings(&engine, &text),
        one("github-pat", GHP, &["hex"], &run)
    );
    // Digests and ids are hex too: they decode to binary and are not scanned.
    for text in [
        "sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
        "commit 086dc3f4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6 (HEAD)",
        "uuid: 5f4dcc3b5aa765d61d8327deb882cf99",
    ] {
        assert!(findings(&engine, text).is_empty(), "{text}");
    }
    // Too short (fewer than 32 hex digits), odd length: not decoded.
    let short = hex("ghp_BY6rfNcA");
    assert!(findings(&engine, &format!("x = {short}")).is_empty());
}

#[test]
fn one_report_when_raw_and_decoded_text_both_match() {
    let engine = Engine::builtin().unwrap();
    // The private-key rule reads `\n` in JSON strings itself: found raw, once.
    let run = PEM.replace('\n', "\\n");
    let text = format!("{{\"private_key\": \"{run}\"}}");
    let raw_pem = run.as_str();
    assert_eq!(
        findings(&engine, &text),
        one("private-key", raw_pem, &[], raw_pem)
    );
    // Entities elsewhere on the run: the token matches raw.
    let text = format!("<deploy url=\"https://ci.internal/hook?token={GHP}&amp;ref=main\"/>");
    assert_eq!(findings(&engine, &text), one("github-pat", GHP, &[], GHP));
    let text = format!("{{\"note\": \"rotate {GHP}\\nafter the release\"}}");
    assert_eq!(findings(&engine, &text), one("github-pat", GHP, &[], GHP));
    // Two tokens on one run, one raw and one escaped: each reported once, where it is.
    let other = "ghp_R3tJ8bQx2LmN7pVz4KwY6sHc1DfG9aE0uTiO";
    let escaped = other.replace('_', "\\u005f");
    let text = format!("{{\"tokens\": \"{GHP} {escaped}\"}}");
    let got = findings(&engine, &text);
    let run = format!("{GHP} {escaped}");
    assert_eq!(
        got,
        [
            ("github-pat".into(), GHP.into(), vec![], GHP.into()),
            ("github-pat".into(), other.into(), vec!["json"], run),
        ],
    );
}

#[test]
fn new_layers_nest_with_base64() {
    let engine = Engine::builtin().unwrap();
    // base64 of JSON with escaped slashes.
    let json = format!(
        "{{\"remote\": \"{}\"}}",
        json_escape(&format!("https://deploy:{URL_PASS}@git.internal.net/ops"))
    );
    let run = b64(json.as_bytes());
    let text = format!("REMOTE_CONFIG={run}\n");
    assert_eq!(
        findings(&engine, &text),
        one("url-basic-auth", URL_PASS, &["base64", "json"], &run)
    );
    // JSON holding base64 whose `/` is escaped (the `/` splits the secret's encoding).
    let inner = b64(b" db_password = \"h9oev5l#Hi9yZ?slaYrkl1\"");
    assert!(inner.contains('/'));
    let run = json_escape(&inner);
    let text = format!("{{\"env\": \"{run}\"}}");
    assert_eq!(
        findings(&engine, &text),
        one(
            "generic-password",
            "h9oev5l#Hi9yZ?slaYrkl1",
            &["json", "base64"],
            &run
        )
    );
    // Hex of base64, and entities around hex.
    let run = hex(&b64(format!("GITHUB_TOKEN={GHP}").as_bytes()));
    let text = format!("blob: {run}\n");
    assert_eq!(
        findings(&engine, &text),
        one("github-pat", GHP, &["hex", "base64"], &run)
    );
}

#[test]
fn public_documentation_examples_are_not_reported() {
    let engine = Engine::builtin().unwrap();
    for line in [
        "JWT = \"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\"",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30",
        "const stripe = require('stripe')('sk_test_4eC39HqLyjWDarjtT1zdp7dc');",
        "stripe.api_key = \"sk_test_BQokikJOvBiI2HlWgH4olfQ2\"",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE\nAWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "GITHUB_TOKEN = \"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"",
        "\"access_token\": \"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy\",",
        "MAILGUN_API_KEY = \"key-3ax6xnjp29jd6fds4gc373sgvjxteol0\"",
        "TELEGRAM_BOT_TOKEN=123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
        "GOOGLE_API_KEY = \"AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe\"",
        "AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\"",
    ] {
        assert_eq!(findings(&engine, line), [], "{line}");
        // Also when encoded.
        let encoded = format!("cfg = \"{}\"", b64(line.as_bytes()));
        assert_eq!(findings(&engine, &encoded), [], "{line}");
    }
    // Exact values: a token that merely starts like one is reported.
    let near = "stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dX\"";
    assert_eq!(findings(&engine, near).len(), 1);
}

#[test]
fn digests_under_secret_names_are_not_reported_by_generic_rules() {
    let engine = Engine::builtin().unwrap();
    for line in [
        "token_sha256 = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
        "password_hash: \"$2y$10$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1/6x1iDbwpfiaijYG\"",
        "secret_key_checksum = \"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\"",
        "api_key_md5 = \"5f4dcc3b5aa765d61d8327deb882cf99\"",
        "\"apiKeyHash\": \"5f4dcc3b5aa765d61d8327deb882cf99\",",
        "hashed_password = \"d8578edf8458ce06fbc5bb76a58c5ca4\"",
        "ACCESS_KEY_SHA512=ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff",
        "client_secret_fingerprint: 9f86d081884c7d659a2feaa0c55ad015",
    ] {
        assert_eq!(findings(&engine, line), [], "{line}");
    }
    // The same values under a secret's name are, and a key for hashing is a secret.
    for (line, secret) in [
        (
            "api_key = \"5f4dcc3b5aa765d61d8327deb882cf99\"",
            "5f4dcc3b5aa765d61d8327deb882cf99",
        ),
        (
            "HASH_SECRET = \"k7Hf9#Qz2pLm4!wX8rT3\"",
            "k7Hf9#Qz2pLm4!wX8rT3",
        ),
        ("token_hash_key: 'Ry7#vQ2mX9pLk4Wz'", "Ry7#vQ2mX9pLk4Wz"),
    ] {
        let got = findings(&engine, line);
        assert_eq!(got.len(), 1, "{line}: {got:?}");
        assert_eq!(got[0].1, secret);
    }
}

/// Rules that capture a value with its leading `$`, to see what the variable-reference filter
/// does with it.
const DOLLAR_RULES: &str = r#"
[[rules]]
id = "hash-field"
regex = '''(?m)^hash: (\S+)$'''
keywords = ["hash:"]
"#;

#[test]
fn crypt_hashes_are_not_taken_for_variable_references() {
    use scangit_core::rules::RuleSet;
    let engine = Engine::new(&RuleSet::from_toml_str(DOLLAR_RULES, "t").unwrap().0).unwrap();
    for hash in [
        "$2y$10$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1/6x1iDbwpfiaijYG",
        "$6$nUqPR0gO$X7haI272JzQG9hxXj2pMff5U.HitzreQ0cnO8uV6z6khm2TAvgPJ7BLKvEgHyatfMImFSjyZFGGuEikFrx4SkB",
        "$argon2id$v=19$m=65536,t=3,p=4$N9EYRn1mVPOiR5mWHdfbWg$UI7W9wL7AVtHEH4fJJKy+HxFmaWmF2Mx+uzhu+ND/lg",
        "$apr1$XyzHYuwD$p006uAplQWpNWHa4.ILcb7",
        "$P$BYDArYJe6kJEycVT.lgLJD.9qHZn9yR",
        "$y$j9T$8UCONHJlQJC78cUKPwpZaM$h.EJ4SpWzQQDvMsZ5c8jD8tNk0tjLNEerSswGJbINm4",
    ] {
        let got = findings(&engine, &format!("hash: {hash}\n"));
        assert_eq!(got.len(), 1, "{hash}");
        assert_eq!(got[0].1, hash);
    }
    for reference in [
        "$BCRYPT_HASH_FROM_THE_ENVIRONMENT",
        "${ADMIN_PASSWORD_HASH}",
        "$(htpasswd -nbB admin secret)",
        "$2y$10$...",
        "$admin_password_hash_in_vault$2024",
    ] {
        let got = findings(&engine, &format!("hash: {reference}\n"));
        assert_eq!(got, [], "{reference}");
    }
    // With the built-in rules, a crypt hash assigned to a password is reported by the generic
    // rule (a hash under a digest's name is not, above).
    let engine = Engine::builtin().unwrap();
    let hash = "$2y$10$HzzQvTUHcXrP1cqRsIZzac8EJfcN7jNWb5IV1/6x1iDbwpfiaijYG";
    let got = findings(&engine, &format!("admin_password: \"{hash}\"\n"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str()),
        ("generic-password", hash)
    );
}

/// A bearer-token rule for a format whose tokens hold runs of one character (a prefix of 22
/// `A`s, and zero bytes in the encoded app id), with and without the `repeated-chars` tag.
const BEARER_RULES: &str = r#"
[[rules]]
id = "x-bearer-declared"
regex = '''\b(A{22}[A-Za-z0-9%]{80,100})\b'''
keywords = ["aaaaaaaaaaaaaaaaaaaaaa"]
tags = ["x", "repeated-chars"]

[[rules]]
id = "x-bearer-undeclared"
regex = '''\b(A{22}[A-Za-z0-9%]{80,100})\b'''
keywords = ["aaaaaaaaaaaaaaaaaaaaaa"]
tags = ["x"]
"#;

#[test]
fn runs_of_one_character_are_kept_where_the_rule_declares_them() {
    use scangit_core::rules::RuleSet;
    let engine = Engine::new(&RuleSet::from_toml_str(BEARER_RULES, "t").unwrap().0).unwrap();
    let token = "AAAAAAAAAAAAAAAAAAAAAAN3q7wEAAAAAkF9r2Lm%2BzQ8vT4xWp6Yc1Hs%3DJd5Gn0Ke7Ru3Ba9Mx2Vt8Qw4Lz6Py1Sf5Dh0Cj3Ek";
    let got: Vec<_> = findings(&engine, &format!("X_BEARER_TOKEN={token}\n"))
        .into_iter()
        .filter(|f| f.2.is_empty())
        .map(|f| (f.0, f.1))
        .collect();
    assert_eq!(got, [("x-bearer-declared".to_owned(), token.to_owned())]);
    // A mask is still a placeholder.
    let masked = format!("X_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAAA{}\n", "x".repeat(90));
    assert_eq!(findings(&engine, &masked), []);
}
