#!/bin/sh
# examples/prometheus/sealkit.rules.yml through Debian's promtool: the rules load (check rules) and fire as
# sealkit.rules.test.yml says (test rules). Without promtool it exits 77, ctest's skip, with the reason;
# scripts/test fails on that skip (tests/must-not-skip.txt): scripts/bootstrap installs the prometheus package.
#
# usage: alert_rules_test.sh RULES_DIR
set -eu
dir=$1
if ! command -v promtool >/dev/null; then
  echo "skipped: promtool is not installed (Debian's prometheus package; scripts/bootstrap installs it)"
  exit 77
fi
promtool check rules "$dir/sealkit.rules.yml"
cd "$dir"
promtool test rules sealkit.rules.test.yml
