#!/usr/bin/env bash
# Runs the hostile-repository corpus (cli/tests/hostile_corpus.rs) and prints its table:
# case, outcome, error kind or skip reasons, peak RSS of the scan (MiB).
#
#   tests/hostile/table.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CARGO_BUILD_TARGET=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
tmp=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/$CARGO_BUILD_TARGET/tmp
rm -f "$tmp/hostile-corpus.tsv"
cargo test -q --release -p scangit-cli --test hostile_corpus
sort "$tmp/hostile-corpus.tsv" | awk -F'\t' 'BEGIN { printf "| case | outcome | kind / skips | peak RSS |\n|---|---|---|---|\n" }
    { printf "| %s | %s | %s | %.1f MiB |\n", $1, $2, $3, $4 / 1024 }'
