#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 120) each, one after another, and print what
# each found. Needs the nightly toolchain (rustup) and cargo-fuzz (installed if missing).
# Crashes land in fuzz/artifacts/<target>/; each one found becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-120}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for t in log_line pattern_file object_views journal_report kubeconfig; do
  echo "== $t (${secs}s)"
  mkdir -p "corpus/$t"
  # log_line drives `highlight`, whose filter runs scoped worker threads: LeakSanitizer can
  # catch their thread-locals (std's channel context) between the join and the threads'
  # teardown and call it a leak (not reproducible with the input it saves). Off for it.
  extra=()
  [ "$t" = log_line ] && extra=(-detect_leaks=0)
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" 2>&1 \
    | grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' || true
done
