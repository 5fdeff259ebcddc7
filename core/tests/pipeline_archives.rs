//! Archives committed to history, scanned through the whole pipeline: members are scanned as
//! blobs at `archive-path!member-path` (so credential-file and path-only rules see the member's
//! own name), nested archives too, findings carry the outermost format in `decoded_from` and
//! offsets into the extracted text, and a bomb is cut with a reason that makes the scan partial.

mod pipeline_support;

use std::path::Path;
use std::process::Command;

use pipeline_support::*;
use scangit_core::detect::content::{Prepared, prepare};
use scangit_core::{Outcome, ScanMode, ScanOptions};

fn run(dir: &Path, cmd: &str, args: &[&str]) {
    let st = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(st.success(), "{cmd} {args:?}");
}

fn write(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

#[test]
fn members_of_nested_archives_are_scanned_at_their_inner_paths() {
    let tmp = temp_dir("archives");
    let repo = GitRepo::init(&tmp.path().join("r"));
    let stage = tmp.path().join("stage");
    let mut rng = Rng::new(3);
    let token = github_pat(&mut rng);
    let db_password = "Qv7rN2xLp9Tz";
    // release.zip: config/.env (a credential file by name), notes.txt with a token, keys/id_rsa.
    write(
        &stage,
        "rel/config/.env",
        &format!("APP_ENV=prod\nDB_PASSWORD={db_password}\n"),
    );
    write(&stage, "rel/notes.txt", &format!("ci token: {token}\n"));
    write(&stage, "rel/keys/id_rsa", "binary-ish key material\n");
    run(&stage.join("rel"), "zip", &["-qr", "../release.zip", "."]);
    // bundle.tar.gz holding the zip and an xz'd dump with an npm token.
    let npm = npm_token(&mut rng);
    write(
        &stage,
        "bundle/dump.sql",
        &format!("-- npm\nINSERT INTO t VALUES ('{npm}');\n"),
    );
    run(&stage.join("bundle"), "xz", &["-k", "dump.sql"]);
    std::fs::copy(stage.join("release.zip"), stage.join("bundle/release.zip")).unwrap();
    run(
        &stage.join("bundle"),
        "tar",
        &["czf", "../bundle.tar.gz", "release.zip", "dump.sql.xz"],
    );
    for f in ["release.zip", "bundle.tar.gz"] {
        std::fs::copy(stage.join(f), repo.dir.join(f)).unwrap();
    }
    repo.commit("archives");

    for mode in [ScanMode::OdbBlob, ScanMode::DiffHistory] {
        let s = scan_ok(&repo.dir, ScanOptions { mode, ..reveal() });
        let mut got: Vec<(String, String, String)> = s
            .findings
            .iter()
            .map(|f| {
                (
                    String::from_utf8_lossy(f.path.as_deref().unwrap()).into_owned(),
                    f.rule_id.clone(),
                    f.decoded_from.join(">"),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(String, String, String)> = [
            ("bundle.tar.gz!dump.sql.xz!dump.sql", "npm-token", "gzip"),
            (
                "bundle.tar.gz!release.zip!config/.env",
                "dotenv-password",
                "gzip",
            ),
            (
                "bundle.tar.gz!release.zip!keys/id_rsa",
                "ssh-private-key-file",
                "gzip",
            ),
            ("bundle.tar.gz!release.zip!notes.txt", "github-pat", "gzip"),
            ("release.zip!config/.env", "dotenv-password", "zip"),
            ("release.zip!keys/id_rsa", "ssh-private-key-file", "zip"),
            ("release.zip!notes.txt", "github-pat", "zip"),
        ]
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
        assert_eq!(got, want, "{mode:?}");
        assert_eq!(s.summary().outcome, Outcome::Complete);

        // Offsets and lines are those of the extracted text.
        let zip_blob = std::fs::read(repo.dir.join("release.zip")).unwrap();
        let Prepared::Text { bytes, .. } = prepare(&zip_blob, b"release.zip") else {
            panic!("a zip is extracted")
        };
        for f in s.findings.iter().filter(|f| f.decoded_from == ["zip"]) {
            let span = &bytes[f.start as usize..f.end as usize];
            if let Some(secret) = f
                .rule_id
                .ne("ssh-private-key-file")
                .then(|| f.secret.clone().unwrap())
            {
                assert_eq!(span, secret.as_bytes());
                let line = bytes[..f.start as usize]
                    .iter()
                    .filter(|&&c| c == b'\n')
                    .count()
                    + 1;
                assert_eq!(f.line, line as u64);
            }
        }
        let env = s
            .findings
            .iter()
            .find(|f| f.rule_id == "dotenv-password")
            .unwrap();
        assert_eq!(env.secret.as_deref(), Some(db_password));
    }
}

#[test]
fn a_gzip_bomb_in_history_is_cut_and_makes_the_scan_partial() {
    let tmp = temp_dir("bomb");
    let repo = GitRepo::init(&tmp.path().join("r"));
    // 1 GiB of zeros, gzip-compressed (about 1 MiB), with a secret after the first line.
    let mut rng = Rng::new(5);
    let token = github_pat(&mut rng);
    let raw = tmp.path().join("zeros");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&raw).unwrap();
        writeln!(f, "token {token}").unwrap();
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..1024 {
            f.write_all(&zeros).unwrap();
        }
    }
    run(tmp.path(), "gzip", &["-9", "zeros"]);
    std::fs::copy(tmp.path().join("zeros.gz"), repo.dir.join("logs.gz")).unwrap();
    repo.commit("bomb");
    let s = scan_ok(&repo.dir, reveal());
    assert_eq!(s.summary().outcome, Outcome::Partial);
    let limits: Vec<_> = s
        .summary()
        .skipped
        .iter()
        .filter(|k| k.reason.as_str() == "too_large")
        .collect();
    assert_eq!(limits.len(), 1, "{:?}", s.summary().skipped);
    // What was read before the limit is still scanned.
    assert_eq!(s.with_secret(&token).len(), 1);
    assert_eq!(
        s.with_secret(&token)[0].path.as_deref(),
        Some(&b"logs.gz!logs"[..])
    );
}
