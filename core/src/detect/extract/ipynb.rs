//! Jupyter notebooks: every cell's source, then its text outputs (stream text, `text/plain` and
//! other `text/*` or JSON data), JSON-unescaped, so `"password = \"...\"\n"` in the file becomes
//! `password = "..."` on its own line.
//!
//! Metadata (the notebook's and each cell's: kernel and connection settings, widget state,
//! extensions' saved credentials) is walked too: each string value becomes a line
//! `key = "value"` under the key that holds it, so assignment rules see the name.

use serde_json::Value;

use super::{Out, push_line};

fn lines(v: &Value, out: &mut Out) -> bool {
    match v {
        Value::String(s) => push_line(out, s.as_bytes()),
        Value::Array(items) => {
            // Notebook text is a list of lines that already end in "\n": join them.
            let mut joined = String::new();
            for item in items {
                if let Value::String(s) = item {
                    joined.push_str(s);
                }
            }
            push_line(out, joined.as_bytes())
        }
        _ => true,
    }
}

pub(super) fn text(data: &[u8], out: &mut Out) -> bool {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let Some(cells) = doc.get("cells").and_then(Value::as_array) else {
        return false;
    };
    if let Some(meta) = doc.get("metadata")
        && !metadata("metadata", meta, out)
    {
        return true;
    }
    for cell in cells {
        if let Some(meta) = cell.get("metadata")
            && !metadata("metadata", meta, out)
        {
            return true;
        }
        if let Some(src) = cell.get("source")
            && !lines(src, out)
        {
            return true;
        }
        for output in cell
            .get("outputs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = output.get("text")
                && !lines(t, out)
            {
                return true;
            }
            if let Some(Value::Object(data)) = output.get("data") {
                for (mime, v) in data {
                    if mime.starts_with("text/") || mime.ends_with("json") {
                        let ok = match v {
                            Value::String(_) | Value::Array(_) => lines(v, out),
                            other => push_line(out, other.to_string().as_bytes()),
                        };
                        if !ok {
                            return true;
                        }
                    }
                }
            }
        }
    }
    true
}

/// Every string under `v` as `key = "value"` (the innermost key naming it); `false` when the
/// output is full. Nesting is bounded by serde_json's own recursion limit (128).
fn metadata(key: &str, v: &Value, out: &mut Out) -> bool {
    match v {
        Value::String(s) => {
            let line = format!("{key} = \"{s}\"");
            push_line(out, line.as_bytes())
        }
        Value::Array(items) => items.iter().all(|i| metadata(key, i, out)),
        Value::Object(map) => map.iter().all(|(k, i)| metadata(k, i, out)),
        _ => true,
    }
}
