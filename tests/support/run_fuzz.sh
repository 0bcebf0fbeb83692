#!/bin/sh
# Runs a libFuzzer target briefly: new inputs go to a scratch corpus in the build tree, the
# checked-in seed corpus is only read. Usage: run_fuzz.sh FUZZER SCRATCH_DIR SEED_DIR SECONDS
set -eu
mkdir -p "$2"
exec "$1" -max_total_time="$4" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 "$2" "$3"
