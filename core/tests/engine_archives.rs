//! Archives where secrets hide from simple readers, through `content::prepare` and the engine:
//! zip64 archives with more than 65,535 entries, archives nested three deep, entries over
//! 32 MiB, bzip2 entries, notebook metadata, and zip bombs by repetition that must stay bounded;
//! zip by magic whatever the name, tar, gzip, bzip2 and xz alone and combined, nested archives
//! named `outer!inner`, binary members listed, and every bomb limit (a 2 GiB gzip bomb under a
//! memory bound, many entries, high ratios, deep nesting, the decompression budget, the output
//! limit) stopping with a `limits` line.

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
    let Prepared::Text { bytes, origin, .. } = prepare(data, path.as_bytes()) else {
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

// ---------------------------------------------------------------- archives in history

use std::io::Write;

use scangit_core::detect::extract::{
    self, Entry, INFLATE_BUDGET, MAX_DEPTH, MAX_ENTRIES, MAX_ENTRY,
};

/// What `prepare` made of an archive.
struct Got {
    origin: Option<&'static str>,
    text: Vec<u8>,
    entries: Vec<Entry>,
    limits: Vec<String>,
}

fn got(data: &[u8], path: &str) -> Got {
    match prepare(data, path.as_bytes()) {
        Prepared::Text {
            bytes,
            origin,
            entries,
            limits,
        } => Got {
            origin,
            text: bytes.into_owned(),
            entries,
            limits,
        },
        Prepared::Binary => panic!("{path}: binary"),
    }
}

impl Got {
    fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect()
    }

    /// Each secret found, with the entry whose text holds it.
    fn found(&self) -> Vec<(String, String)> {
        let e = engine();
        let mut out = Vec::new();
        e.scan(
            &self.text,
            0..self.text.len(),
            &mut e.new_scratch(),
            &mut out,
        );
        out.into_iter()
            .map(|m| {
                let holder = self
                    .entries
                    .iter()
                    .find(|x| x.text.contains(&m.start))
                    .map_or("?".to_owned(), |x| {
                        String::from_utf8_lossy(&x.name).into_owned()
                    });
                (holder, String::from_utf8_lossy(&m.secret).into_owned())
            })
            .collect()
    }

    /// The text of the entry called `name`.
    fn text_of(&self, name: &str) -> &[u8] {
        let e = self
            .entries
            .iter()
            .find(|e| e.name == name.as_bytes())
            .unwrap_or_else(|| panic!("no entry {name}: {:?}", self.names()));
        &self.text[e.text.clone()]
    }

    fn limit(&self, what: &str) -> &str {
        self.limits
            .iter()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no limit line with {what:?}: {:?}", self.limits))
    }
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    zip_support::compress(data, Method::Bzip2)
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut w =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(6)).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

/// A PNG-like binary member (NULs in its head).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";

fn env_file() -> Vec<u8> {
    format!("DEBUG=false\nGITHUB_TOKEN={GHP}\n").into_bytes()
}

#[test]
fn every_format_finds_the_secret_and_names_its_entry() {
    let long = format!("deep/{}/settings.env", "d".repeat(120));
    let env = env_file();
    let tar = tar_of(&[
        ("img/logo.png", PNG),
        ("config/.env", &env),
        (&long, &props(GHP)),
    ]);
    let want_names = ["img/logo.png", "config/.env", long.as_str()];
    for (data, path, origin) in [
        (tar.clone(), "release.tar", "tar"),
        (gz(&tar), "release.tar.gz", "gzip"),
        (gz(&tar), "release.tgz", "gzip"),
        (bz2(&tar), "release.tar.bz2", "bzip2"),
        (xz(&tar), "release.txz", "xz"),
        // The magic decides, not the name.
        (gz(&tar), "blob-without-extension", "gzip"),
    ] {
        let g = got(&data, path);
        assert_eq!(g.origin, Some(origin), "{path}");
        assert_eq!(g.names(), want_names, "{path}");
        assert_eq!(
            g.found(),
            [
                ("config/.env".to_owned(), GHP.to_owned()),
                (long.clone(), GHP.to_owned())
            ],
            "{path}"
        );
        assert!(
            g.entries[0].text.is_empty(),
            "{path}: binary member, empty range"
        );
        assert_eq!(
            g.entries[1].digest[..],
            blake3::hash(&env).as_bytes()[..20],
            "{path}: digest of the member's bytes"
        );
        assert_eq!(g.text_of("config/.env"), [&env[..], b"\n"].concat());
        assert!(g.limits.is_empty(), "{path}: {:?}", g.limits);
        let header = format!("==> {long} <==\n");
        assert!(
            g.text.windows(header.len()).any(|w| w == header.as_bytes()),
            "{path}: header lines name the member"
        );
    }
    // Any zip-based file, by magic.
    let zip = zip(
        &[
            ("res/icon.png", PNG, Method::Stored),
            ("assets/config.properties", &props(GHP), Method::Deflate),
        ],
        1,
    );
    for path in [
        "app.zip",
        "app.apk",
        "pkg.whl",
        "pkg.nupkg",
        "pkg.egg",
        "ext.xpi",
        "book.epub",
        "report.docx",
        "sheet.xlsx",
        "deck.pptx",
        "doc.odt",
        "no-extension",
    ] {
        let g = got(&zip, path);
        assert_eq!(g.origin, Some("zip"), "{path}");
        assert_eq!(g.names(), ["res/icon.png", "assets/config.properties"]);
        assert_eq!(
            g.found(),
            [("assets/config.properties".to_owned(), GHP.to_owned())],
            "{path}"
        );
        assert!(g.entries[0].text.is_empty());
    }
    assert_eq!(got(&zip, "lib/app.jar").origin, Some("jar"));
    // A UTF-16 member is transcoded.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            String::from_utf8(props(GHP))
                .unwrap()
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let g = got(&tar_of(&[("win/app.ini", &utf16)]), "w.tar");
    assert_eq!(g.found(), [("win/app.ini".to_owned(), GHP.to_owned())]);
}

#[test]
fn a_compressed_single_file_is_named_after_it() {
    let sql = format!("INSERT INTO settings VALUES ('github', '{GHP}');\n").into_bytes();
    let g = got(&gz(&sql), "backups/dump.sql.gz");
    assert_eq!(g.origin, Some("gzip"));
    assert_eq!(g.names(), ["dump.sql"]);
    assert_eq!(g.found(), [("dump.sql".to_owned(), GHP.to_owned())]);
    assert_eq!(got(&bz2(&sql), "dump.sql.bz2").names(), ["dump.sql"]);
    assert_eq!(got(&xz(&sql), "dump.sql.xz").names(), ["dump.sql"]);
    // Without a telling suffix, the name the gzip header stores (as `gzip FILE` writes it).
    let mut w = flate2::GzBuilder::new()
        .filename("orig.sql")
        .write(Vec::new(), flate2::Compression::fast());
    w.write_all(&sql).unwrap();
    let named = w.finish().unwrap();
    assert_eq!(got(&named, "backup-latest").names(), ["orig.sql"]);
    let x = extract::extract(extract::kind(&named, b"").unwrap(), &named).unwrap();
    assert_eq!(x.entries[0].name, b"orig.sql");
    // Inside an archive: `outer!inner`.
    let tar = tar_of(&[("db/dump.sql.gz", &gz(&sql))]);
    let g = got(&tar, "site.tar");
    assert_eq!(g.names(), ["db/dump.sql.gz", "db/dump.sql.gz!dump.sql"]);
    assert_eq!(
        g.found(),
        [("db/dump.sql.gz!dump.sql".to_owned(), GHP.to_owned())]
    );
}

#[test]
fn nested_archives_are_named_outer_bang_inner() {
    // A zip in a tar.gz in a zip.
    let inner = zip(&[("config/.env", &env_file(), Method::Deflate)], 1);
    let tgz = gz(&tar_of(&[
        ("README", b"hello\n"),
        ("inner/lib.zip", &inner),
    ]));
    let outer = zip(
        &[
            ("vendor/bundle.tar.gz", &tgz, Method::Stored),
            ("docs/notes.txt", b"nothing here\n", Method::Deflate),
        ],
        1,
    );
    let g = got(&outer, "release.zip");
    assert_eq!(
        g.names(),
        [
            "vendor/bundle.tar.gz",
            "vendor/bundle.tar.gz!README",
            "vendor/bundle.tar.gz!inner/lib.zip",
            "vendor/bundle.tar.gz!inner/lib.zip!config/.env",
            "docs/notes.txt",
        ]
    );
    assert_eq!(
        g.found(),
        [(
            "vendor/bundle.tar.gz!inner/lib.zip!config/.env".to_owned(),
            GHP.to_owned()
        )]
    );
    assert!(g.entries[0].text.is_empty() && g.entries[2].text.is_empty());
    assert_eq!(
        g.entries[0].digest[..],
        blake3::hash(&tgz).as_bytes()[..20],
        "a nested archive is listed with its own digest"
    );
    // A class file in a jar in a zip goes through the class extractor.
    let class = [
        &[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 0, 2, 1][..],
        &(props(GHP).len() as u16).to_be_bytes(),
        &props(GHP),
    ]
    .concat();
    let jar = zip(&[("com/acme/Config.class", &class, Method::Deflate)], 1);
    let z = zip(&[("lib/app.jar", &jar, Method::Stored)], 1);
    let g = got(&z, "dist.zip");
    assert_eq!(
        g.names(),
        ["lib/app.jar", "lib/app.jar!com/acme/Config.class"]
    );
    assert_eq!(
        g.found(),
        [(
            "lib/app.jar!com/acme/Config.class".to_owned(),
            GHP.to_owned()
        )]
    );
}

#[test]
fn real_tar_and_gzip_tools_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("config")).unwrap();
    std::fs::write(src.join("config/.env"), env_file()).unwrap();
    std::fs::write(src.join("dump.sql"), props(GHP)).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        let st = std::process::Command::new(cmd)
            .args(args)
            .current_dir(&src)
            .status()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(st.success(), "{cmd} {args:?}");
    };
    run("tar", &["-czf", "../out.tgz", "config"]);
    run("gzip", &["-k", "dump.sql"]);
    let tgz = std::fs::read(dir.path().join("out.tgz")).unwrap();
    let g = got(&tgz, "out.tgz");
    assert_eq!(g.names(), ["config/.env"]);
    assert_eq!(g.found(), [("config/.env".to_owned(), GHP.to_owned())]);
    let sqlgz = std::fs::read(src.join("dump.sql.gz")).unwrap();
    let x = extract::extract(extract::Kind::Gzip, &sqlgz).unwrap();
    assert_eq!(x.entries[0].name, b"dump.sql", "the name gzip stored");
}

// ---------------------------------------------------------------- bombs

#[test]
fn a_zip_of_more_entries_than_the_limit_stops_with_a_limit_line() {
    let files: Vec<(String, Vec<u8>)> = (0..MAX_ENTRIES + 50_000)
        .map(|i| (format!("f/{i}.txt"), b"x".to_vec()))
        .collect();
    let entries: Vec<(&str, &[u8], Method)> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice(), Method::Stored))
        .collect();
    let z = zip(&entries, 1);
    let g = got(&z, "many.zip");
    assert_eq!(g.entries.len(), MAX_ENTRIES);
    let line = g.limit("member count limit");
    assert!(line.starts_with(&format!("f/{MAX_ENTRIES}.txt:")), "{line}");
}

#[test]
fn a_tar_of_200000_tiny_entries_stops_with_a_limit_line() {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for i in 0..200_000 {
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("t/{i}"), &b"x"[..]).unwrap();
    }
    let tgz = b.into_inner().unwrap().finish().unwrap();
    let g = got(&tgz, "tiny.tar.gz");
    assert_eq!(g.entries.len(), MAX_ENTRIES);
    assert_eq!(g.limits.len(), 1, "{:?}", g.limits);
    g.limit("member count limit");
}

#[test]
fn a_high_ratio_zip_entry_stops_at_the_ratio_limit() {
    let zeros = vec![0u8; 64 << 20];
    let mut text = b"a".repeat(3 << 20);
    text.extend_from_slice(&props(GHP));
    let z = zip(
        &[
            ("zeros.bin", &zeros, Method::Bzip2),
            ("big.txt", &text, Method::Bzip2),
            ("after.properties", &props(GHP), Method::Deflate),
        ],
        1,
    );
    assert!(z.len() < 4096, "bzip2 makes a high ratio: {}", z.len());
    let g = got(&z, "ratio.zip");
    assert_eq!(g.names(), ["zeros.bin", "big.txt", "after.properties"]);
    g.limit("zeros.bin: expands more than 1000 times");
    g.limit("big.txt: expands more than 1000 times");
    assert_eq!(
        g.text_of("big.txt").len(),
        (1 << 20) + 1,
        "what was read before the limit stays"
    );
    assert_eq!(
        g.found(),
        [("after.properties".to_owned(), GHP.to_owned())],
        "the members after a cut one are read"
    );
}

#[test]
fn archives_nested_too_deep_stop_with_a_limit_line() {
    // Zips nested MAX_DEPTH + 2 deep: the secret at the bottom is past the limit.
    let mut z = zip(&[("app.properties", &props(GHP), Method::Deflate)], 1);
    for level in 0..MAX_DEPTH + 1 {
        z = zip(&[(&format!("l{level}.zip"), &z, Method::Deflate)], 1);
    }
    let g = got(&z, "deep.zip");
    assert_eq!(g.found(), []);
    g.limit("nested more than 3 deep");
    assert_eq!(g.names().last().unwrap(), "l3.zip!l2.zip!l1.zip!l0.zip");
    // gzip of gzip of gzip…: each layer is a level.
    let mut data = props(GHP);
    for _ in 0..6 {
        data = gz(&data);
    }
    let g = got(&data, "x.gz");
    assert_eq!(g.found(), []);
    g.limit("nesting limit");
}

#[test]
fn the_decompression_budget_and_the_output_limit_stop_the_blob() {
    // Five 60 MiB members of zeros in a tar.gz: 300 MiB, more than the budget.
    let zeros = vec![0u8; 60 << 20];
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for i in 0..5 {
        let mut h = tar::Header::new_gnu();
        h.set_size(zeros.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("z{i}.bin"), zeros.as_slice())
            .unwrap();
    }
    let tgz = b.into_inner().unwrap().finish().unwrap();
    let g = got(&tgz, "budget.tgz");
    g.limit("decompression budget");
    assert!(
        g.entries.len() <= INFLATE_BUDGET / zeros.len() + 1,
        "{:?}",
        g.names()
    );
    // Two 40 MiB text members: the second is cut at the output limit.
    let mut text = b"ordinary build output line\n".repeat((40 << 20) / 27);
    text.extend_from_slice(&props(GHP));
    let t = tar_of(&[("a.log", &text), ("b.log", &text), ("c.log", &text)]);
    let g = got(&t, "logs.tar");
    assert!(g.text.len() <= extract::MAX_OUTPUT);
    assert_eq!(
        g.names(),
        ["a.log", "b.log"],
        "the walk stops at the full output"
    );
    assert!(g.limit("output limit").starts_with("b.log: "));
    assert_eq!(g.found(), [("a.log".to_owned(), GHP.to_owned())]);
    // A member over MAX_ENTRY is read that far.
    let big = vec![b'x'; MAX_ENTRY + 10];
    let g = got(&tar_of(&[("huge.txt", &big)]), "h.tar");
    g.limit("huge.txt: larger than 64 MiB");
}

/// Peak resident memory of this process (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// 2 GiB of zeros, gzip-compressed as a stream (about 2 MiB).
fn gzip_bomb() -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        w.write_all(&chunk).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn a_gzip_bomb_stays_bounded_in_memory() {
    // Measured in a process of its own: the other tests of this binary run beside it.
    if std::env::var_os("SCANGIT_GZIP_BOMB_CHILD").is_some() {
        let bomb = gzip_bomb();
        // Reset the high-water mark to the current RSS, then extract.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = peak_rss();
        let start = std::time::Instant::now();
        let g = got(&bomb, "dump.bin.gz");
        let after = peak_rss();
        assert_eq!(g.names(), ["dump.bin"]);
        // A binary member: its header line only.
        assert_eq!(&g.text[..], &b"==> dump.bin <==\n"[..]);
        g.limit("dump.bin: larger than 64 MiB");
        println!(
            "BOMB compressed={} peak_growth_mib={} secs={:.2}",
            bomb.len(),
            (after - before) >> 20,
            start.elapsed().as_secs_f64()
        );
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "a_gzip_bomb_stays_bounded_in_memory",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SCANGIT_GZIP_BOMB_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.find("BOMB ").map(|i| &l[i..]))
        .expect("the child's report");
    eprintln!("{line}");
    let growth: u64 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("peak_growth_mib="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(growth < 300, "peak RSS grew {growth} MiB");
}
