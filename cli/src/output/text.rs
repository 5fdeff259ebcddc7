//! `--format text`: the human report. One block per secret (its first introduction):
//!
//! ```text
//! aws-access-key  config/prod.env:5:7  bbbbbbbbbb  Alice Example <alice@example.com>  1970-01-01 00:15:40 UTC
//!     key = AKIA****************
//!     AWS access key, 3 occurrences
//! ```
//!
//! then a summary line. Everything that comes from the repository (paths, snippets, names) is
//! sanitised: a hostile repository must not be able to send escape sequences to the terminal.

use std::fmt::Write as _;
use std::io::{self, Write};

use scangit_core::events_json::millis;
use scangit_core::{Finding, Location, Outcome, Summary};

use super::{Collected, FindingGroup, RenderOptions, group_findings};
use crate::units::human_bytes;

/// Commit ids are shown with 10 hex digits: unambiguous in practice and still short.
const SHORT_OID: usize = 10;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn rule(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn location(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn commit(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Replaces control characters (ESC, CR, BEL, ...) with their escaped form.
pub fn sanitize(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch (proleptic Gregorian calendar;
/// Howard Hinnant's days-to-civil algorithm, so no date crate is needed).
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn location(f: &Finding) -> String {
    let object = f.blob.to_hex_with_len(SHORT_OID);
    match f.location {
        Location::CommitMessage => {
            return format!("message of commit {object}:{}:{}", f.line, f.column);
        }
        Location::TagMessage => return format!("message of tag {object}:{}:{}", f.line, f.column),
        Location::Blob => {}
    }
    match &f.path {
        Some(p) => format!(
            "{}:{}:{}",
            sanitize(&String::from_utf8_lossy(p)),
            f.line,
            f.column
        ),
        // Blobs reachable from no commit have no path; name the blob instead.
        None => format!(
            "blob {}:{}:{}",
            f.blob.to_hex_with_len(SHORT_OID),
            f.line,
            f.column
        ),
    }
}

fn write_group(
    w: &mut dyn Write,
    g: &FindingGroup<'_>,
    c: &Collected,
    style: &Style,
    options: RenderOptions,
) -> io::Result<()> {
    let f = g.first;
    let mut head = format!(
        "{}  {}",
        style.rule(&sanitize(&f.rule_id)),
        style.location(&location(f))
    );
    match f.commit {
        Some(id) => {
            let _ = write!(
                head,
                "  {}",
                style.commit(&id.to_hex_with_len(SHORT_OID).to_string())
            );
            if let Some(meta) = c.commits.get(&id) {
                let _ = write!(
                    head,
                    "  {} <{}>  {}",
                    sanitize(&meta.author_name),
                    sanitize(&meta.author_email),
                    format_time(meta.author_time)
                );
            }
        }
        None => head.push_str("  (no commit)"),
    }
    writeln!(w, "{head}")?;
    writeln!(w, "    {}", sanitize(&f.snippet))?;
    if options.reveal_secrets
        && let Some(secret) = &f.secret
    {
        writeln!(w, "    secret: {}", sanitize(secret))?;
    }
    let n = g.occurrences.len();
    let mut detail = format!(
        "{}, {n} occurrence{}",
        sanitize(&f.rule_description),
        if n == 1 { "" } else { "s" }
    );
    if !f.decoded_from.is_empty() {
        let _ = write!(detail, ", decoded from {}", f.decoded_from.join(" > "));
    }
    writeln!(w, "    {}", style.dim(&detail))
}

fn write_summary(
    w: &mut dyn Write,
    findings: usize,
    occurrences: usize,
    s: &Summary,
) -> io::Result<()> {
    let outcome = match s.outcome {
        Outcome::Complete => "complete",
        Outcome::Partial => "PARTIAL",
    };
    let t = &s.timings;
    writeln!(
        w,
        "Scan {outcome}: {findings} secret{} ({occurrences} occurrence{}), {} commits, {}/{} blobs scanned ({}), \
         {:.3} s (open {} ms, index {} ms, commits {} ms, plan {} ms, scan {} ms, finalize {} ms)",
        if findings == 1 { "" } else { "s" },
        if occurrences == 1 { "" } else { "s" },
        s.commits,
        s.blobs_scanned,
        s.blobs_planned,
        human_bytes(s.bytes_scanned),
        t.total.as_secs_f64(),
        millis(t.open),
        millis(t.index),
        millis(t.commits),
        millis(t.plan),
        millis(t.scan),
        millis(t.finalize),
    )?;
    for skip in &s.skipped {
        let note = if skip.reason.makes_partial() {
            ""
        } else {
            " (not a gap)"
        };
        writeln!(
            w,
            "  skipped {}: {}{note}",
            skip.reason.as_str(),
            skip.count
        )?;
        for ex in &skip.examples {
            writeln!(w, "    e.g. {}", sanitize(ex))?;
        }
    }
    Ok(())
}

pub fn render(
    w: &mut dyn Write,
    collected: &Collected,
    summary: &Summary,
    options: RenderOptions,
) -> io::Result<()> {
    let style = Style { on: options.color };
    let groups = group_findings(collected);
    if groups.is_empty() {
        writeln!(w, "No secrets found.")?;
    }
    for g in &groups {
        write_group(w, g, collected, &style, options)?;
        writeln!(w)?;
    }
    write_summary(w, groups.len(), collected.findings.len(), summary)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    fn render_string(options: RenderOptions, c: &Collected) -> String {
        let mut out = Vec::new();
        render(&mut out, c, &summary(4), options).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn report_shows_first_introduction_and_counts() {
        let text = render_string(RenderOptions::default(), &collected());
        let first = text.lines().next().unwrap();
        assert_eq!(
            first,
            "aws-access-key  config/prod.env:5:7  bbbbbbbbbb  Alice Example <alice@example.com>  1970-01-01 00:15:40 UTC"
        );
        assert!(text.contains("    key = AKIA****************\n"));
        assert!(text.contains("aws-access-key description, 3 occurrences"));
        assert!(text.contains("github-pat description, 1 occurrence\n"));
        assert!(text.contains(
            "Scan PARTIAL: 2 secrets (4 occurrences), 12 commits, 38/40 blobs scanned (1.2 MB)"
        ));
        assert!(text.contains("  skipped too_large: 2\n    e.g. eeee: 300 MB > 256 MB\n"));
        assert!(!text.contains('\x1b'), "no colour unless asked");
        assert!(!text.contains("AKIASECRET"), "no secret unless revealed");
    }

    #[test]
    fn colour_and_reveal_on_request() {
        let text = render_string(
            RenderOptions {
                reveal_secrets: true,
                color: true,
            },
            &collected(),
        );
        assert!(text.contains("\x1b[1;31maws-access-key\x1b[0m"));
        assert!(text.contains("    secret: AKIASECRETSECRET1234\n"));
    }

    #[test]
    fn empty_report() {
        let text = render_string(RenderOptions::default(), &Collected::default());
        assert!(text.starts_with("No secrets found.\nScan PARTIAL: 0 secrets (0 occurrences)"));
    }

    #[test]
    fn repository_text_cannot_inject_escapes() {
        let mut c = Collected::default();
        let mut f = finding("r", "fp", '1', None, b"evil\x1b[2Jname", 1);
        f.snippet = "x\x1b]0;pwned\x07".into();
        c.findings.push(f);
        let text = render_string(RenderOptions::default(), &c);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("evil\\u{1b}[2Jname:1:7  (no commit)"));
    }

    #[test]
    fn dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59 UTC");
    }
}
