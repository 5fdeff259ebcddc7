//! The Node.js binding of libscangit: the native half of the npm package `scangit`.
//!
//! The public API is `index.js` / `index.d.ts`, a thin JavaScript layer over the classes
//! exported here (async iteration, `AbortSignal`, JS stores calling back into JS). Everything
//! that scans, stores or decides lives in `scangit-core`.

mod error;
mod events;
mod scan;
mod store;

use napi_derive::napi;

/// The library version (`scangit-core`'s).
#[napi]
pub fn core_version() -> String {
    scangit_core::VERSION.to_string()
}
