//! C ABI (issue 5).
