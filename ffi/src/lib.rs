//! The C ABI of libscangit: `libscangit.so` / `libscangit.a`, declared in `include/scangit.h`.
//!
//! Modelled on SQLite's C API: one `scangit_` prefix, opaque handles, a status code from every
//! call with the message fetched separately, and extension points (event sink, persistence
//! store) as structs of function pointers that begin with their own size. This crate converts
//! types and owns the threading story only; every scanning decision stays in `scangit-core`.
//!
//! Invariants at the boundary:
//! - No Rust panic crosses it: every entry point runs inside [`status::guard`], which turns a
//!   panic into `SCANGIT_INTERNAL`.
//! - Every pointer, size field and string is checked before use; a bad one is
//!   `SCANGIT_INVALID_ARGUMENT`, never a crash (beyond what C cannot tell us: a non-null pointer
//!   to freed or too-small memory).
//! - Data handed to a callback lives only for that call; data handed back by the caller is
//!   copied before the call returns.
//!
//! Modules: [`status`] (codes, last error, guards), [`handles`] (engine, abort token, report),
//! [`options`], [`event`] (event structs and the sink adapter), [`store`] (the store vtable and
//! adapter, SQLite by path), [`kv`] (stores as three key/value callbacks over the core's
//! `KvStore`), [`scan`] (the scan entry point).

#![allow(non_camel_case_types)]

pub mod event;
pub mod handles;
pub mod options;
pub mod scan;
pub mod status;
pub mod store;
mod util;
// After `store`: cbindgen emits items in module order, so the header only grows at the end.
pub mod kv;

use std::ffi::c_char;

/// ABI version of this header and library; bumped on any incompatible change. Compare
/// `scangit_abi_version()` (the library's) with `SCANGIT_ABI_VERSION` (the header's).
pub const SCANGIT_ABI_VERSION: u32 = 1;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version (`"0.1.0"`), a static NUL-terminated string. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn scangit_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// The ABI version the library was built with (`SCANGIT_ABI_VERSION` of its header).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn scangit_abi_version() -> u32 {
    SCANGIT_ABI_VERSION
}
