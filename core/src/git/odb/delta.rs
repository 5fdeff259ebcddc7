//! Git delta application (the pack "copy/insert" instruction stream), written from git's
//! pack-format documentation: a delta starts with the base size and the result size (each a
//! little-endian base-128 varint), then instructions: a byte with the high bit set copies a
//! range of the base (offset and size bytes present per bit flags; size 0 means 0x10000);
//! a byte `1..=127` inserts that many literal bytes; `0` is reserved.

use super::OdbError;

/// Read one size varint from the start of a delta. Returns (value, bytes consumed).
pub fn read_size(d: &[u8]) -> Result<(u64, usize), OdbError> {
    let mut value = 0u64;
    for (i, &b) in d.iter().enumerate() {
        if i >= 10 {
            break;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(OdbError::corrupt(
        "delta size header is truncated or too long",
    ))
}

/// Result size of `delta` without applying it.
pub fn result_size(delta: &[u8]) -> Result<u64, OdbError> {
    let (_, n) = read_size(delta)?;
    Ok(read_size(&delta[n..])?.0)
}

/// Apply `delta` to `base`, replacing the contents of `out`.
pub fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), OdbError> {
    let (base_size, n1) = read_size(delta)?;
    let (result_size, n2) = read_size(&delta[n1..])?;
    if base_size != base.len() as u64 {
        return Err(OdbError::corrupt(
            "delta base size does not match the base object",
        ));
    }
    let result_size =
        usize::try_from(result_size).map_err(|_| OdbError::corrupt("delta result too large"))?;
    out.clear();
    // The announced size is checked at the end, never trusted for more than a first reserve:
    // the buffer grows with the bytes the instructions really produce.
    out.try_reserve_exact(result_size.min(16 << 20))
        .map_err(|_| OdbError::corrupt("delta result does not fit in memory"))?;
    let mut i = n1 + n2;
    while i < delta.len() {
        let cmd = delta[i];
        i += 1;
        if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if cmd & (1 << bit) != 0 {
                    let b = *delta
                        .get(i)
                        .ok_or_else(|| OdbError::corrupt("truncated delta copy"))?;
                    offset |= usize::from(b) << (8 * bit);
                    i += 1;
                }
            }
            for bit in 0..3 {
                if cmd & (0x10 << bit) != 0 {
                    let b = *delta
                        .get(i)
                        .ok_or_else(|| OdbError::corrupt("truncated delta copy"))?;
                    size |= usize::from(b) << (8 * bit);
                    i += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let src = offset
                .checked_add(size)
                .and_then(|end| base.get(offset..end))
                .ok_or_else(|| OdbError::corrupt("delta copies beyond its base"))?;
            out.extend_from_slice(src);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            let src = delta
                .get(i..i + n)
                .ok_or_else(|| OdbError::corrupt("truncated delta insert"))?;
            out.extend_from_slice(src);
            i += n;
        } else {
            return Err(OdbError::corrupt("reserved delta instruction 0"));
        }
        if out.len() > result_size {
            return Err(OdbError::corrupt(
                "delta produces more bytes than announced",
            ));
        }
    }
    if out.len() != result_size {
        return Err(OdbError::corrupt("delta result size mismatch"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_and_insert_build_the_result() {
        let base = b"hello world";
        // base size 11, result size 12; copy base[0..6] ("hello "), insert "there!"
        let delta = [
            11u8,
            12,
            0x80 | 0x10,
            6,
            6,
            b't',
            b'h',
            b'e',
            b'r',
            b'e',
            b'!',
        ];
        let mut out = Vec::new();
        apply(base, &delta, &mut out).unwrap();
        assert_eq!(out, b"hello there!");
    }

    #[test]
    fn corrupt_deltas_are_errors_not_panics() {
        let base = b"abc";
        let mut out = Vec::new();
        assert!(apply(base, &[3, 5, 0x80 | 0x01 | 0x10, 200, 9], &mut out).is_err());
        assert!(apply(base, &[4, 1, 1, b'x'], &mut out).is_err());
        assert!(apply(base, &[3, 2, 0], &mut out).is_err());
        assert!(apply(base, &[3, 9, 5, b'a'], &mut out).is_err());
        assert!(apply(base, &[0x80, 0x80], &mut out).is_err());
    }
}
