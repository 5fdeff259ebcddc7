#!/usr/bin/env bash
# Build the medium benchmark corpus once: /tmp/scangit-bench/medium.git (+ .planted.jsonl).
#
#   bench/make_medium.sh [--force] [--seed N]
#
# Reuses the repository when it is already there (delete it, or pass --force, to rebuild).
# The generator is tests/corpus/make_repo.py ($SCANGIT_CORPUS_SCRIPT overrides it);
# the output directory can be changed with SCANGIT_BENCH_DIR. Prints the repository path last.
set -euo pipefail

FORCE=0
SEED=1
while [ $# -gt 0 ]; do
    case $1 in
        --force) FORCE=1; shift ;;
        --seed) SEED=$2; shift 2 ;;
        *) echo "usage: $0 [--force] [--seed N]" >&2; exit 2 ;;
    esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=${SCANGIT_CORPUS_SCRIPT:-$HERE/../tests/corpus/make_repo.py}
DIR=${SCANGIT_BENCH_DIR:-/tmp/scangit-bench}
REPO=$DIR/medium.git

[ -f "$SCRIPT" ] || { echo "corpus generator not found: $SCRIPT (set SCANGIT_CORPUS_SCRIPT)" >&2; exit 2; }
mkdir -p "$DIR"
if [ "$FORCE" = 0 ] && [ -f "$REPO/HEAD" ] && [ -f "$REPO.planted.jsonl" ]; then
    echo "using cached $REPO (pass --force to rebuild)" >&2
else
    echo "building $REPO (preset medium, seed $SEED)" >&2
    start=$(date +%s)
    python3 "$SCRIPT" --preset medium --seed "$SEED" --out "$REPO" >&2
    echo "built in $(($(date +%s) - start)) s" >&2
fi
echo "$REPO"
