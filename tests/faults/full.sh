#!/usr/bin/env bash
# The fault loops at full strength (CI runs fewer rounds): 20 `git repack -adf` races against
# stored scans and 50 SIGKILLs at random moments of stored scans (cli/tests/faults.rs), then
# fault injection at every point of the SQLite store (core/tests/persist_faults.rs). Prints
# each test's figures.
#
#   tests/faults/full.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CARGO_BUILD_TARGET=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
SCANGIT_FAULT_ROUNDS=20 cargo test -q --release -p scangit-cli --test faults \
    repacks_racing -- --nocapture --test-threads 1
SCANGIT_FAULT_ROUNDS=50 cargo test -q --release -p scangit-cli --test faults \
    sigkill -- --nocapture --test-threads 1
cargo test -q --release -p scangit-core --test persist_faults -- --nocapture
