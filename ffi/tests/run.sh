#!/bin/sh
# Runs the built C tests and examples (see Makefile) under valgrind, plus the export-list and
# pkg-config checks. One `PASS name` / `FAIL name` line each; exit 1 if any failed.
set -u
: "${BUILD:?}" "${LIBDIR:?}" "${ROOT:?}"
CORPUS=${SCANGIT_CORPUS_SCRIPT:-$ROOT/tests/corpus/make_repo.py}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scangit-ctest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no"
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; VG=""; VG_MISSING=1; }
failed=0

result() { # name status
    if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1 (exit $2)"; failed=1; fi
}

# The tiny preset (with its big boundary file) for the manifest comparison; the same without
# big files for the rest, which only need some findings and run many scans under valgrind.
python3 "$CORPUS" --preset tiny --out "$WORK/tiny.git" >/dev/null 2>&1 || { echo "FAIL corpus"; exit 1; }
python3 "$CORPUS" --preset tiny --big-files 0 --out "$WORK/small.git" >/dev/null 2>&1 || { echo "FAIL corpus"; exit 1; }
python3 - "$WORK/tiny.git.planted.jsonl" "$WORK/tiny.tsv" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        if line.strip():
            r = json.loads(line)
            out.write("%d %s %d %s\n" % (1 if r["expect"] else 0, r["blob"], r["line"], r["kind"]))
PY

run() { # name command...
    name=$1
    shift
    $VG "$@" >"$WORK/$name.out" 2>&1
    rc=$?
    cat "$WORK/$name.out"
    result "$name" "$rc"
}

run test_invalid "$BUILD/test_invalid" "$WORK/small.git" "$WORK"
run test_rules "$BUILD/test_rules" "$WORK"
run test_corpus "$BUILD/test_corpus" "$WORK/tiny.git" "$WORK/tiny.tsv"
run test_abort "$BUILD/test_abort" "$WORK/small.git"
run test_sink "$BUILD/test_sink" "$WORK/small.git"
run test_store "$BUILD/test_store" "$WORK/small.git" "$WORK"
run test_threads "$BUILD/test_threads" "$WORK/small.git"
run test_kv_store "$BUILD/test_kv_store" "$WORK/small.git"

# Old callers keep working: test_store.c (old API only) built against the header as it was
# before the key/value store API was added (the parent of the commit that added
# scangit_store_open_kv; needs the git history), run against this library.
added=$(git -C "$ROOT" log --format=%H -S scangit_store_open_kv -- include/scangit.h 2>/dev/null | tail -1)
mkdir -p "$WORK/old-include"
if [ -n "$added" ] && git -C "$ROOT" show "$added^:include/scangit.h" >"$WORK/old-include/scangit.h" 2>/dev/null; then
    if ${CC:-gcc} -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror \
        -I"$WORK/old-include" -I"$ROOT/examples/c" "$ROOT/ffi/tests/test_store.c" \
        -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lscangit -lpthread -o "$WORK/test_store_old_header"; then
        run compat_old_header_test_store "$WORK/test_store_old_header" "$WORK/small.git" "$WORK"
    else
        result compat_old_header_test_store 1
    fi
else
    echo "SKIP compat_old_header_test_store (no git history of include/scangit.h)"
fi

# Examples: scan_jsonl exits 1 when it found something; its output is JSON lines ending with
# a complete summary. incremental exits 0 when the second scan scanned nothing.
$VG "$BUILD/scan_jsonl" "$WORK/small.git" >"$WORK/scan.jsonl" 2>"$WORK/scan.err"
rc=$?
cat "$WORK/scan.err"
python3 - "$WORK/scan.jsonl" <<'PY' || rc=98
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and rows[-1]["type"] == "summary" and rows[-1]["outcome"] == "complete", rows[-1:]
n = sum(r["type"] == "finding" for r in rows)
assert n == rows[-1]["findings"] > 0, (n, rows[-1])
print("scan_jsonl: %d findings as JSON lines" % n)
PY
[ "$rc" = 1 ] && rc=0
result example_scan_jsonl "$rc"
run example_incremental "$BUILD/incremental" "$WORK/small.git"
run example_incremental_kv "$BUILD/incremental_kv" "$WORK/small.git"
"$BUILD/scan_jsonl_static" "$WORK/small.git" >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] && rc=0
result example_scan_jsonl_static "$rc"

# Only scangit_* is exported from the shared object.
bad=$(nm -D --defined-only "$LIBDIR/libscangit.so" | awk '{print $3}' | grep -v '^scangit_' || true)
n=$(nm -D --defined-only "$LIBDIR/libscangit.so" | awk '{print $3}' | grep -c '^scangit_')
if [ -z "$bad" ] && [ "$n" -gt 0 ]; then result exports_only_scangit 0; else echo "exported: $bad"; result exports_only_scangit 1; fi

# pkg-config file next to the library.
if [ -f "$LIBDIR/scangit.pc" ] && grep -q -- "-lscangit" "$LIBDIR/scangit.pc"; then
    if command -v pkg-config >/dev/null; then
        PKG_CONFIG_PATH=$LIBDIR pkg-config --cflags --libs scangit >/dev/null
        result pkg_config $?
    else
        result pkg_config 0
    fi
else
    result pkg_config 1
fi

[ "${VG_MISSING:-0}" = 1 ] && { echo "FAIL valgrind (not installed)"; failed=1; }
exit "$failed"
