//! `scangit_engine_open` through the C ABI: rules warnings are kept on the engine (never
//! dropped), strict loading turns them into `SCANGIT_RULES_INVALID`, bad flags and indexes are
//! `SCANGIT_INVALID_ARGUMENT`.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::ptr;

use scangit::handles::{
    SCANGIT_RULES_STRICT, scangit_engine, scangit_engine_free, scangit_engine_new,
    scangit_engine_open, scangit_engine_warning, scangit_engine_warning_count,
};
use scangit::status::scangit_last_error_message;
use scangit::status::scangit_status::{self, *};

/// A rules file whose rule `dup` is defined on lines 1 and 5.
const DUP: &str = "[[rules]]\nid = 'dup'\nregex = 'first-[0-9]{8}'\n\n\
                   [[rules]]\nid = 'dup'\nregex = 'second-[0-9]{8}'\n";

fn rules_file(name: &str, text: &str) -> (PathBuf, CString) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ffi-engine-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let c = CString::new(path.to_str().unwrap()).unwrap();
    (path, c)
}

fn last_error() -> String {
    // SAFETY: this thread's NUL-terminated message.
    unsafe { CStr::from_ptr(scangit_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn open(path: *const c_char, flags: u32) -> (scangit_status, *mut scangit_engine) {
    let mut engine = ptr::null_mut();
    // SAFETY: `path` is NULL or a live C string; `engine` is writable.
    let st = unsafe { scangit_engine_open(path, flags, &mut engine) };
    (st, engine)
}

fn warnings(engine: *const scangit_engine) -> Vec<String> {
    let mut n = usize::MAX;
    // SAFETY: a live engine and a writable count.
    assert_eq!(
        unsafe { scangit_engine_warning_count(engine, &mut n) },
        SCANGIT_OK
    );
    (0..n)
        .map(|i| {
            let mut w: *const c_char = ptr::null();
            // SAFETY: as above; `i` is in range.
            assert_eq!(
                unsafe { scangit_engine_warning(engine, i, &mut w) },
                SCANGIT_OK
            );
            // SAFETY: a NUL-terminated string owned by the live engine.
            unsafe { CStr::from_ptr(w) }.to_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn a_duplicate_rule_id_is_a_kept_warning_or_a_strict_error() {
    let (path, c) = rules_file("dup.toml", DUP);

    let (st, engine) = open(c.as_ptr(), 0);
    assert_eq!(st, SCANGIT_OK, "{}", last_error());
    let w = warnings(engine);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(&format!(
            "{}: rule dup: duplicate rule id (lines 1 and 5)",
            path.display()
        )),
        "{w:?}"
    );
    let mut out: *const c_char = ptr::null();
    // SAFETY: a live engine, a writable out-pointer.
    let st = unsafe { scangit_engine_warning(engine, 1, &mut out) };
    assert_eq!(st, SCANGIT_INVALID_ARGUMENT);
    assert!(out.is_null() && last_error().contains("out of range"));
    // SAFETY: from scangit_engine_open, freed once.
    unsafe { scangit_engine_free(engine) };

    // scangit_engine_new is open with flags 0.
    let mut engine = ptr::null_mut();
    // SAFETY: a live C string, a writable out-pointer.
    assert_eq!(
        unsafe { scangit_engine_new(c.as_ptr(), &mut engine) },
        SCANGIT_OK
    );
    assert_eq!(warnings(engine).len(), 1);
    // SAFETY: as above.
    unsafe { scangit_engine_free(engine) };

    let (st, engine) = open(c.as_ptr(), SCANGIT_RULES_STRICT);
    assert_eq!(st, SCANGIT_RULES_INVALID);
    assert!(engine.is_null());
    let msg = last_error();
    assert!(
        msg.contains("rule dup") && msg.contains("lines 1 and 5") && msg.contains("dup.toml"),
        "{msg}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unknown_flags_and_null_engines_are_invalid_arguments() {
    let (st, engine) = open(ptr::null(), 0x10);
    assert_eq!(st, SCANGIT_INVALID_ARGUMENT);
    assert!(engine.is_null());
    assert!(last_error().contains("flags"), "{}", last_error());

    let mut n = 0usize;
    // SAFETY: NULL engine is checked.
    let st = unsafe { scangit_engine_warning_count(ptr::null(), &mut n) };
    assert_eq!(st, SCANGIT_INVALID_ARGUMENT);
    let mut w: *const c_char = ptr::null();
    // SAFETY: as above.
    let st = unsafe { scangit_engine_warning(ptr::null(), 0, &mut w) };
    assert_eq!(st, SCANGIT_INVALID_ARGUMENT);
}

#[test]
fn the_builtin_rules_load_strictly_without_warnings() {
    let (st, engine) = open(ptr::null(), SCANGIT_RULES_STRICT);
    assert_eq!(st, SCANGIT_OK, "{}", last_error());
    assert!(warnings(engine).is_empty());
    // SAFETY: from scangit_engine_open, freed once.
    unsafe { scangit_engine_free(engine) };
}
