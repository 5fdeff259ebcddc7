//! Errors thrown by the addon carry the contract's kind as `err.code` (`ErrorKind::as_str`).

use scangit_core::ScanError;

/// A napi error whose JS `code` is one of the contract's kinds.
pub type CodedError = napi::Error<&'static str>;

pub fn code_error(code: &'static str, message: &str) -> CodedError {
    napi::Error::new(code, message)
}

pub fn scan_error(e: &ScanError) -> CodedError {
    let mut message = e.to_string();
    if let ScanError::InvalidArgument(_) = e {
        message = camel_case_option(&message);
    }
    napi::Error::new(e.kind().as_str(), message)
}

/// The core names options as the contract does (`max_blob_bytes`); JS callers wrote them in
/// camelCase (`maxBlobBytes`): an error that starts with an option's name uses theirs.
fn camel_case_option(message: &str) -> String {
    let (first, rest) = message.split_at(message.find(' ').unwrap_or(message.len()));
    if !first.contains('_') || !first.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len());
    let mut upper = false;
    for c in first.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out + rest
}
