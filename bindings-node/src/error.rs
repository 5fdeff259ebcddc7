//! Errors thrown by the addon carry the contract's kind as `err.code` (`ErrorKind::as_str`).

use scangit_core::ScanError;

/// A napi error whose JS `code` is one of the contract's kinds.
pub type CodedError = napi::Error<&'static str>;

pub fn code_error(code: &'static str, message: &str) -> CodedError {
    napi::Error::new(code, message)
}

pub fn scan_error(e: &ScanError) -> CodedError {
    napi::Error::new(e.kind().as_str(), e.to_string())
}
