#!/usr/bin/env bash
# Full-history scan benchmark: scangit against the cost of simply reading every object.
#
#   bench/full_history.sh [--threads N] [--with-peers] [--runs N] REPO
#
# In one invocation, on the same repository and a warm page cache:
#   baseline  git cat-file --batch-all-objects --batch --unordered >/dev/null
#             (inflate every object once: the floor for any full-history scanner)
#   scangit   scangit scan REPO --threads N --format jsonl --output /dev/null
#   kingfisher (when `kingfisher` is on PATH, or with --with-peers, which installs it from PyPI
#             into a venv under bench/out/): kingfisher scan REPO --no-validate --no-update-check
# Each is timed with /usr/bin/time (wall seconds, peak RSS); with --runs N the best wall time of
# N runs is kept. Prints a table with the ratio to the baseline, and writes it to
# bench/out/full_history-<repo name>.tsv.
#
# scangit is built with `cargo build --release` unless SCANGIT_BIN names a binary.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
    exit "${1:-2}"
}

THREADS=2
WITH_PEERS=0
RUNS=1
REPO=""
while [ $# -gt 0 ]; do
    case $1 in
        --threads) THREADS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --with-peers) WITH_PEERS=1; shift ;;
        -h | --help) usage 0 ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) [ -z "$REPO" ] || usage; REPO=$1; shift ;;
    esac
done
[ -n "$REPO" ] || usage
[ -d "$REPO" ] || { echo "not a directory: $REPO" >&2; exit 2; }
REPO=$(cd "$REPO" && pwd)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT=$HERE/out
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
    echo "installing GNU time (/usr/bin/time)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi

if [ -n "${SCANGIT_BIN:-}" ]; then
    SCANGIT=$SCANGIT_BIN
else
    (cd "$ROOT" && cargo build --release -q -p scangit-cli)
    SCANGIT=$ROOT/target/release/scangit
fi

KINGFISHER=""
if [ "$WITH_PEERS" = 1 ]; then
    VENV=$OUT/peers-venv
    if [ ! -x "$VENV/bin/kingfisher" ]; then
        echo "installing kingfisher-bin into $VENV" >&2
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q kingfisher-bin
    fi
    KINGFISHER=$VENV/bin/kingfisher
elif command -v kingfisher >/dev/null; then
    KINGFISHER=$(command -v kingfisher)
fi

# measure NAME CMD...: best-of-RUNS wall seconds and its peak RSS (KiB) into RESULT_<NAME>.
TIME_FILE=$(mktemp)
trap 'rm -f "$TIME_FILE"' EXIT
declare -A WALL RSS STATUS
measure() {
    local name=$1 best="" best_rss="" rc i
    shift
    for ((i = 0; i < RUNS; i++)); do
        rc=0
        /usr/bin/time -o "$TIME_FILE" -f "%e %M" "$@" >/dev/null 2>"$OUT/$name.stderr" || rc=$?
        # GNU time prefixes "Command exited with non-zero status N" when rc != 0: take the last line.
        read -r wall rss < <(tail -n 1 "$TIME_FILE") || true
        # scangit exits 1 when it finds secrets, kingfisher 200/205: findings are not failures.
        if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then
            best=$wall
            best_rss=$rss
        fi
    done
    WALL[$name]=$best
    RSS[$name]=$best_rss
    STATUS[$name]=$rc
}

# Warm the page cache so every tool reads the same cached pack files.
git -C "$REPO" cat-file --batch-all-objects --batch --unordered >/dev/null

measure baseline git -C "$REPO" cat-file --batch-all-objects --batch --unordered
measure scangit "$SCANGIT" scan "$REPO" --threads "$THREADS" --format jsonl --output /dev/null --no-progress
TOOLS=(baseline scangit)
if [ -n "$KINGFISHER" ]; then
    measure kingfisher "$KINGFISHER" scan "$REPO" --no-validate --no-update-check
    TOOLS+=(kingfisher)
fi

size=$(du -sk "$REPO" | awk '{print $1}')
objects=$(git -C "$REPO" count-objects -v | awk '/^(count|in-pack):/ {s += $2} END {print s}')
name=$(basename "$REPO")
tsv=$OUT/full_history-${name%.git}.tsv
header="# repo $REPO: ${objects} objects, $((size / 1024)) MiB on disk; threads $THREADS; best of $RUNS"
echo "$header"
echo "$header" >"$tsv"
{
    printf 'tool\twall_s\tpeak_rss_mib\tratio_to_baseline\texit\n'
    for t in "${TOOLS[@]}"; do
        awk -v t="$t" -v w="${WALL[$t]}" -v r="${RSS[$t]}" -v b="${WALL[baseline]}" -v e="${STATUS[$t]}" \
            'BEGIN {printf "%s\t%.2f\t%.1f\t%s\t%s\n", t, w, r / 1024, (b > 0 ? sprintf("%.2f", w / b) : "n/a"), e}'
    done
} | tee -a "$tsv" | column -t -s $'\t'
echo "(written to $tsv; stderr of each run in $OUT/<tool>.stderr)"
for t in "${TOOLS[@]}"; do
    case "$t:${STATUS[$t]}" in
        scangit:0 | scangit:1 | baseline:0 | kingfisher:0 | kingfisher:200 | kingfisher:205) ;;
        *) echo "warning: $t exited with ${STATUS[$t]}; see $OUT/$t.stderr" >&2 ;;
    esac
done
