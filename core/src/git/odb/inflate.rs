//! Inflating a zlib stream whose uncompressed size the input declares (a pack entry header, a
//! loose object header). The declared size is checked, never trusted for allocation: the output
//! buffer starts at most [`FIRST_CHUNK`] bytes larger than what it holds and doubles only as
//! bytes really arrive, so a tiny input declaring gigabytes costs kilobytes.

use gix_zlib::{Decompress, FlushDecompress, Status};

/// Output room given at once; an object larger than this grows its buffer as it inflates.
const FIRST_CHUNK: usize = 8 << 20;

/// Inflates from the current state of `z` (whose totals may already count a prefix of the same
/// stream) with `input` being the not yet consumed input, appending to `out` until it holds
/// exactly `size` bytes and the stream ends. Errors say how the stream disagrees with `size`.
pub(crate) fn inflate_exact(
    z: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
    size: usize,
) -> Result<(), String> {
    let (in0, out0) = (z.total_in(), z.total_out());
    let start = out.len();
    if start > size {
        return Err(format!("holds more than the {size} bytes its header says"));
    }
    let mut filled = start;
    let mut status;
    loop {
        let room = (filled - start).max(FIRST_CHUNK);
        let target = filled.saturating_add(room).min(size);
        if target > out.len() {
            out.try_reserve_exact(target - out.len())
                .map_err(|_| format!("{target} bytes do not fit in memory"))?;
            out.resize(target, 0);
        }
        let consumed = (z.total_in() - in0) as usize;
        status = z
            .decompress(
                &input[consumed..],
                &mut out[filled..],
                FlushDecompress::Finish,
            )
            .map_err(|e| format!("zlib: {e}"))?;
        filled = start + (z.total_out() - out0) as usize;
        if status == Status::StreamEnd || filled < out.len() || filled == size {
            break;
        }
    }
    out.truncate(filled);
    if status != Status::StreamEnd && filled == size {
        // The output is full: the stream must end here, without another byte.
        let consumed = (z.total_in() - in0) as usize;
        let mut probe = [0u8; 1];
        status = z
            .decompress(&input[consumed..], &mut probe, FlushDecompress::Finish)
            .map_err(|e| format!("zlib: {e}"))?;
        if z.total_out() - out0 > (size - start) as u64 {
            return Err(format!(
                "inflates to more than the {size} bytes its header says"
            ));
        }
    }
    if status != Status::StreamEnd || filled != size {
        return Err(format!(
            "inflates to {filled} bytes{}, header says {size}",
            if status == Status::StreamEnd {
                ""
            } else {
                " (truncated)"
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut w =
            gix_zlib::stream::deflate::Write::new(Vec::new(), gix_zlib::Compression::BEST_SPEED);
        w.write_all(data).unwrap();
        w.flush().unwrap();
        w.into_inner()
    }

    #[test]
    fn exact_sizes_inflate_and_lies_are_errors_without_big_buffers() {
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
        let packed = zlib(&data);
        let mut z = Decompress::new();
        let mut out = Vec::new();
        inflate_exact(&mut z, &packed, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
        for (declared, what) in [(data.len() + 1, "20000000 bytes"), (data.len() - 1, "more")] {
            z.reset();
            out.clear();
            let e = inflate_exact(&mut z, &packed, &mut out, declared).unwrap_err();
            assert!(e.contains(what), "{e}");
        }
        let tiny = zlib(b"tiny");
        z.reset();
        out = Vec::new();
        assert!(inflate_exact(&mut z, &tiny, &mut out, 3 << 30).is_err());
        assert!(out.capacity() <= FIRST_CHUNK, "{}", out.capacity());
        z.reset();
        out.clear();
        inflate_exact(&mut z, &zlib(b""), &mut out, 0).unwrap();
        assert!(out.is_empty());
        z.reset();
        let e = inflate_exact(&mut z, &packed[..1000], &mut out, data.len()).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }
}
