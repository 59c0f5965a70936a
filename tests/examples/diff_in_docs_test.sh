#!/usr/bin/env bash
# Keeps docs/example.md honest: its ```diff block must turn the unsealed
# "before" sealed_service into the sealed one in examples/sealed_service/.
# Reverse-applies the block to copies of the current sources, builds the
# "before" program with the same main.cpp, and checks it answers requests with
# its configuration NOT sealed, while the current program's is.
#
# usage: diff_in_docs_test.sh SOURCE_DIR CXX_COMPILER SEALKIT_STATIC_LIB SEALED_SERVICE_BINARY SANITIZE(0|1)
set -euo pipefail

src=$1 cxx=$2 lib=$3 after_binary=$4 sanitize=$5
fail() { echo "diff_in_docs: FAILED: $*" >&2; exit 1; }
command -v git >/dev/null || fail "git not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/sealkit-diff-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

awk '/^```diff$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$src/docs/example.md" >"$work/sealing.diff"
[ -s "$work/sealing.diff" ] || fail "no \`\`\`diff block in docs/example.md"

mkdir -p "$work/tree/examples/sealed_service"
cp "$src/examples/sealed_service/service.cpp" "$src/examples/sealed_service/service.hpp" "$work/tree/examples/sealed_service/"
(cd "$work/tree" && git apply -R -p1 "$work/sealing.diff") || fail "the diff in docs/example.md no longer matches examples/sealed_service"
echo "the diff in docs/example.md reverse-applies to the current sources"

san_flags=()
[ "$sanitize" = 1 ] && san_flags=("-fsanitize=address,undefined" "-fno-sanitize-recover=all")
e="$src/examples/sealed_service"
"$cxx" -std=c++20 -Wall -Wextra -Werror "${san_flags[@]}" -I"$work/tree/examples/sealed_service" -I"$e" -I"$src/include" \
  "$e/config.cpp" "$e/commands.cpp" "$work/tree/examples/sealed_service/service.cpp" "$e/main.cpp" "$lib" \
  -o "$work/before_service" || fail "the 'before' program does not build"

printf 'allowed_commands = PING, STATS\n' >"$work/service.conf"
ask() { printf 'PING\nSTATS\n' | "$1" --config "$work/service.conf" --stdin; }
# The "before" program news its tables and never deletes them (they live as long as the process), which
# LeakSanitizer would report at exit in the asan build.
before=$(ASAN_OPTIONS=detect_leaks=0 ask "$work/before_service") || fail "the 'before' program failed"
after=$(ask "$after_binary") || fail "sealed_service failed"
echo "before: $(echo "$before" | tr '\n' ' ')"
echo "after:  $(echo "$after" | tr '\n' ' ')"
[ "$before" = $'PONG\nrequests=2 keys=0 config_sealed=no' ] || fail "the 'before' program should serve, unsealed"
[ "$after" = $'PONG\nrequests=2 keys=0 config_sealed=yes' ] || fail "sealed_service should serve, sealed"
echo "diff_in_docs: passed"
