//! Checked conversions of what C hands us: strings, out-pointers and size-prefixed structs.

use std::ffi::{CStr, c_char};

use crate::status::{FfiError, FfiResult};

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn req_str<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(FfiError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-null, and the caller promises NUL termination and lifetime.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| FfiError::invalid(format!("{what} is not valid UTF-8")))
}

/// An optional string: NULL is `None`.
///
/// # Safety
/// As [`req_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { req_str(p, what) }.map(Some)
    }
}

/// Write `value` through an out-pointer, or fail with invalid-argument when it is NULL.
///
/// # Safety
/// `out` is null or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, what: &str, value: T) -> FfiResult {
    if out.is_null() {
        return Err(FfiError::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-null and, per the caller, valid for writes.
    unsafe { out.write(value) };
    Ok(())
}

/// Fail with invalid-argument when `p` is NULL.
pub(crate) fn non_null<T>(p: *const T, what: &str) -> FfiResult {
    if p.is_null() {
        Err(FfiError::invalid(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// A struct whose first field is its `size_t size`, filled by the caller. The library accepts
/// sizes from `MIN_SIZE` (the first published layout) to its own `size_of`, and treats fields
/// past the caller's size as absent (their defaults): fields are only ever appended.
pub(crate) trait Sized_: Default + Copy {
    const MIN_SIZE: usize;
    const NAME: &'static str;
    fn set_size(&mut self, size: usize);
}

/// Copy a size-prefixed struct from C, checking its size.
///
/// # Safety
/// `p` is null or points to at least `size_of::<usize>()` readable bytes, and to as many bytes
/// as its leading size field says.
pub(crate) unsafe fn read_sized<T: Sized_>(p: *const T) -> FfiResult<T> {
    non_null(p, T::NAME)?;
    // SAFETY: non-null; the caller promises the leading size field is readable.
    let size = unsafe { p.cast::<usize>().read_unaligned() };
    check_size::<T>(size)?;
    let mut out = T::default();
    // SAFETY: `size` bytes are readable at `p` (the caller's promise, size checked to be at most
    // size_of::<T>()), `out` is a T, and every T here is plain old data (integers, raw and
    // nullable function pointers) for which a prefix copy over defaults is a valid value.
    unsafe {
        std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&raw mut out).cast::<u8>(), size);
    }
    out.set_size(size);
    Ok(out)
}

pub(crate) fn check_size<T: Sized_>(size: usize) -> FfiResult {
    if size < T::MIN_SIZE || size > std::mem::size_of::<T>() {
        return Err(FfiError::invalid(format!(
            "{}.size is {size}; this library accepts {}..={} (sizeof in its header)",
            T::NAME,
            T::MIN_SIZE,
            std::mem::size_of::<T>()
        )));
    }
    Ok(())
}

/// Fill a caller's size-prefixed struct with defaults (the `*_init` functions).
///
/// # Safety
/// `p` is null or valid for writes of `size` bytes.
pub(crate) unsafe fn init_sized<T: Sized_>(p: *mut T, size: usize) -> FfiResult {
    non_null(p, T::NAME)?;
    check_size::<T>(size)?;
    let mut d = T::default();
    d.set_size(size);
    // SAFETY: `p` is valid for `size` bytes (caller's promise) and `size <= size_of::<T>()`.
    unsafe {
        std::ptr::copy_nonoverlapping((&raw const d).cast::<u8>(), p.cast::<u8>(), size);
    }
    Ok(())
}
