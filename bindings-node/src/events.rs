//! Events as JSON text, built on the libuv worker that pulled the batch, so the JS main thread
//! only runs `JSON.parse` (V8's fastest way to build many small objects).
//!
//! The JSON is the core's `events_json` views in [`JsonStyle::CAMEL`]: the CLI's jsonl names
//! in camelCase (`rule_id` -> `ruleId`), plus `type`. Progress events are included (the CLI's
//! jsonl leaves them out). A git path that is not valid UTF-8 is given as a lossy string in
//! `path` and, only then, as its exact bytes in `pathBytes` (a JSON array here; `index.js`
//! turns it into a `Buffer`).

use scangit_core::events_json::{self, EventView, JsonStyle};
use scangit_core::stream::OwnedEvent;

/// A batch of events as a JSON array, and whether any finding carries `pathBytes`.
pub struct JsonBatch {
    pub json: String,
    pub has_path_bytes: bool,
}

/// Serialize a batch as one JSON array.
pub fn to_json(
    events: &[OwnedEvent],
    reveal_secrets: bool,
) -> Result<JsonBatch, serde_json::Error> {
    let style = JsonStyle {
        // The core sets `secret` only with reveal_secrets; checked again by the view.
        reveal_secrets,
        ..JsonStyle::CAMEL
    };
    let mut out = Vec::with_capacity(events.len() * 512 + 2);
    let mut has_path_bytes = false;
    out.push(b'[');
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let OwnedEvent::Finding(f) = e {
            has_path_bytes |= events_json::has_path_bytes(f.path.as_deref());
        }
        serde_json::to_writer(&mut out, &EventView::new(e.as_event(), style))?;
    }
    out.push(b']');
    // serde_json writes valid UTF-8 only.
    let json = String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))?;
    Ok(JsonBatch {
        json,
        has_path_bytes,
    })
}
