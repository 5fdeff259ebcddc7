//! Archives where secrets hide from simple readers, through `content::prepare` and the engine:
//! zip64 archives with more than 65,535 entries, archives nested three deep, entries over
//! 32 MiB, bzip2 entries, notebook metadata, and zip bombs by repetition that must stay bounded.

use scangit_core::detect::content::{Prepared, prepare};
use scangit_core::detect::extract::MAX_OUTPUT;
use scangit_core::engine::Engine;

/// A GitHub token with a valid checksum (from the built-in examples).
const GHP: &str = "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";

fn engine() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::builtin().unwrap())
}

/// The secrets found in `data` at `path`, with the extractor's name; `None` for binary.
fn secrets(data: &[u8], path: &str) -> Option<(Option<&'static str>, Vec<String>)> {
    let Prepared::Text { bytes, origin } = prepare(data, path.as_bytes()) else {
        return None;
    };
    let e = engine();
    let mut out = Vec::new();
    e.scan(&bytes, 0..bytes.len(), &mut e.new_scratch(), &mut out);
    let found = out
        .into_iter()
        .map(|m| String::from_utf8_lossy(&m.secret).into_owned())
        .collect();
    Some((origin, found))
}

mod zip_support;

use zip_support::{Method, zip};

fn props(secret: &str) -> Vec<u8> {
    format!("# settings\ngithub.token={secret}\n").into_bytes()
}

#[test]
fn zip64_archives_past_65535_entries_are_read_to_the_end() {
    let filler: Vec<(String, Vec<u8>)> = (0..70_000)
        .map(|i| (format!("res/{i}.txt"), b"x\n".to_vec()))
        .collect();
    let mut entries: Vec<(&str, &[u8], Method)> = filler
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice(), Method::Stored))
        .collect();
    let last = props(GHP);
    entries.push(("config/app.properties", &last, Method::Deflate));
    let jar = zip(&entries, 1);
    let (origin, found) = secrets(&jar, "app.jar").expect("extracted");
    assert_eq!(origin, Some("jar"));
    assert_eq!(found, [GHP], "the entry after 65,535 others");
}

#[test]
fn archives_nested_three_deep_and_bzip2_entries_are_read() {
    let inner = zip(&[("app.properties", &props(GHP), Method::Bzip2)], 1);
    let jar = zip(&[("WEB-INF/lib/inner.jar", &inner, Method::Deflate)], 1);
    let war = zip(&[("app.war", &jar, Method::Stored)], 1);
    let ear = zip(&[("deploy/app.war", &war, Method::Deflate)], 1);
    let (origin, found) = secrets(&ear, "release.ear").expect("extracted");
    assert_eq!(origin, Some("jar"));
    assert_eq!(found, [GHP], "bzip2 entry in a jar in a war in an ear");
}

#[test]
fn entries_over_32_mib_are_read() {
    let mut big = b"line of ordinary build output\n".repeat((40 << 20) / 30);
    big.extend_from_slice(&props(GHP));
    let jar = zip(&[("logs/build.log", &big, Method::Deflate)], 1);
    let (_, found) = secrets(&jar, "app.jar").expect("extracted");
    assert_eq!(found, [GHP], "a secret at the end of a 40 MiB entry");
}

#[test]
fn a_directory_repeating_one_big_entry_is_read_once() {
    // 65,535 directory entries all pointing at one 32 MiB entry: read once, not 65,535 times
    // (a hang before), and the extracted text stays under the bound.
    let mut big = b"0123456789abcdef".repeat((32 << 20) / 16);
    big.extend_from_slice(&props(GHP));
    let jar = zip(&[("data.txt", &big, Method::Deflate)], 65_535);
    let Prepared::Text { bytes, .. } = prepare(&jar, b"bomb.jar") else {
        panic!("extracted")
    };
    assert!(bytes.len() <= MAX_OUTPUT);
    assert!(
        bytes.len() < 2 * big.len(),
        "the entry was read once: {}",
        bytes.len()
    );
    let (_, found) = secrets(&jar, "bomb.jar").unwrap();
    assert_eq!(found, [GHP]);
}

#[test]
fn notebook_metadata_is_scanned() {
    let nb = format!(
        r#"{{"cells":[{{"cell_type":"code","source":["print(1)"],"metadata":{{"tags":[]}},"outputs":[]}}],
           "metadata":{{"kernelspec":{{"name":"python3"}},"deploy":{{"github_token":"{GHP}"}}}},
           "nbformat":4,"nbformat_minor":5}}"#
    );
    let (origin, found) = secrets(nb.as_bytes(), "analysis.ipynb").expect("extracted");
    assert_eq!(origin, Some("ipynb"));
    assert_eq!(found, [GHP], "a token in the notebook's metadata");
    let cell = nb.replace(r#""tags":[]"#, &format!(r#""auth":{{"token":"{GHP}"}}"#));
    let cell = cell.replace(GHP, "none").replacen("none", GHP, 1);
    let (_, found) = secrets(cell.as_bytes(), "analysis.ipynb").unwrap();
    assert_eq!(found, [GHP], "a token in a cell's metadata");
}
