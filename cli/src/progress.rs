//! A single self-overwriting progress line on stderr, fed by `progress` events. A leaf: the
//! output sink drives it, and it imports nothing of the output module.
//!
//! Only constructed when stderr is a terminal (the caller checks): carriage returns and
//! erase-line sequences would be garbage in a log file or CI output.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use scangit_core::Progress;

use crate::units::human_bytes;

/// `\r` to column 0, then erase the whole line.
const CLEAR_LINE: &str = "\r\x1b[2K";

#[derive(Default)]
pub struct ProgressLine {
    /// Whether a line is currently shown (and must be cleared before other stderr output).
    /// The mutex also keeps concurrent worker updates from interleaving.
    visible: Mutex<bool>,
}

/// The text of the line, e.g. `scan 120/400 blobs (30%), 12.3 MB`.
pub fn format_progress(p: &Progress) -> String {
    let unit = match p.phase.as_str() {
        "commits" => " commits",
        "plan" | "scan" => " blobs",
        _ => "",
    };
    let mut s = format!("scangit: {} {}", p.phase.as_str(), p.done);
    if p.total > 0 {
        s.push_str(&format!(
            "/{}{unit} ({}%)",
            p.total,
            p.done.saturating_mul(100) / p.total
        ));
    } else {
        s.push_str(unit);
    }
    if p.bytes_scanned > 0 {
        s.push_str(&format!(", {}", human_bytes(p.bytes_scanned)));
    }
    s
}

impl ProgressLine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&self, p: &Progress) {
        let mut visible = self.visible.lock().unwrap_or_else(PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        // Errors writing progress are ignored: it is decoration, never worth failing a scan.
        let _ = write!(err, "{CLEAR_LINE}{}", format_progress(p));
        let _ = err.flush();
        *visible = true;
    }

    /// Removes the line so the report or an error message starts on a clean line.
    pub fn clear(&self) {
        let mut visible = self.visible.lock().unwrap_or_else(PoisonError::into_inner);
        if *visible {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{CLEAR_LINE}");
            let _ = err.flush();
            *visible = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use scangit_core::events::Phase;

    use super::*;

    #[test]
    fn formats() {
        let p = Progress {
            phase: Phase::Scan,
            done: 120,
            total: 400,
            bytes_scanned: 12_300_000,
        };
        assert_eq!(
            format_progress(&p),
            "scangit: scan 120/400 blobs (30%), 12.3 MB"
        );
        let p = Progress {
            phase: Phase::Index,
            done: 3,
            total: 0,
            bytes_scanned: 0,
        };
        assert_eq!(format_progress(&p), "scangit: index 3");
    }
}
