#!/usr/bin/env bash
# The man page and the bash completion against the real CLI: every subcommand `sealkit --help` lists has a section
# in man/sealkit.1 and is completed; every option `sealkit SUB --help` lists is in that subcommand's section and is
# completed after SUB; so is each nested subcommand (`sealkit config check`) with its options; every fixed set of
# values an option takes ({a,b,c} in the help) is completed after it. Then
# groff reads each man page with all warnings on, and none may be printed.
#
# usage: man_completion_test.sh SEALKIT_BIN SOURCE_DIR
set -euo pipefail

sealkit=$1 src=$2
man1=$src/man/sealkit.1
completion=$src/completion/sealkit
failures=0
fail() { echo "man_completion_test: FAILED: $*" >&2; failures=$((failures + 1)); }

# What the completion offers for the words given (the last one is being completed).
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sealkit; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$completion" sealkit "$@"
}

# The man page's section for one subcommand: from `.SS "sealkit SUB` to the next .SS or .SH.
man_section() {
  awk -v sub_="$1" '
    /^\.S[SH] / { inside = index($0, ".SS \"sealkit " sub_ " ") == 1 || $0 == ".SS \"sealkit " sub_ "\"" }
    inside' "$man1"
}

subcommands_of() { "$sealkit" "$@" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'; }

# Options of `sealkit WORDS... --help`: each must be in SECTION and completed after WORDS.
check_options() {  # SECTION WORDS...
  local section=$1; shift
  local help opt values v offered_opts offered_values checked=0
  local -a options
  help=$("$sealkit" "$@" --help)
  mapfile -t options < <(grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z0-9-]+')
  [ ${#options[@]} -ge 1 ] || fail "sealkit $* --help lists no option"
  offered_opts=$(complete_words "$@" "--")
  for opt in "${options[@]}"; do
    [ "$opt" = --help ] || grep -qF -- "${opt//-/\\-}" <<<"$section" || fail "man/sealkit.1, sealkit $*: no $opt"
    grep -qx -- "$opt" <<<"$offered_opts" || fail "the completion does not offer $opt after sealkit $*"
    # A fixed set of values: `--opt TEXT:{a,b,c}` in the help.
    values=$(grep -oE -- "^ +$opt [A-Z]+:\{[^}]*\}" <<<"$help" | sed -E 's/.*\{(.*)\}/\1/' | tr ',' '\n' || true)
    if [ -n "$values" ]; then
      offered_values=$(complete_words "$@" "$opt" "")
      while read -r v; do
        grep -qx -- "$v" <<<"$offered_values" || fail "the completion does not offer '$v' after sealkit $* $opt"
        grep -qF -- "${v//-/\\-}" <<<"$section" || fail "man/sealkit.1, sealkit $* $opt: no value $v"
        checked=$((checked + 1))
      done <<<"$values"
    fi
  done
  echo "sealkit $*: ${#options[@]} options and $checked option values in the man page and the completion"
}

mapfile -t subcommands < <(subcommands_of)
[ ${#subcommands[@]} -ge 6 ] || fail "sealkit --help lists ${#subcommands[@]} subcommands: ${subcommands[*]}"
offered=$(complete_words "")
for sub in "${subcommands[@]}"; do
  grep -qx "$sub" <<<"$offered" || fail "the completion does not offer the subcommand $sub"
  section=$(man_section "$sub")
  [ -n "$section" ] || { fail "man/sealkit.1 has no section .SS \"sealkit $sub ...\""; continue; }

  check_options "$section" "$sub"
  mapfile -t nested < <(subcommands_of "$sub")
  offered_nested=$(complete_words "$sub" "")
  for n in "${nested[@]}"; do
    grep -qx "$n" <<<"$offered_nested" || fail "the completion does not offer the subcommand $n after sealkit $sub"
    grep -q "^\.SS \"sealkit $sub $n" <<<"$section" || fail "man/sealkit.1 has no section .SS \"sealkit $sub $n ...\""
    check_options "$section" "$sub" "$n"
  done
done

if command -v groff >/dev/null; then
  for page in "$src"/man/*.[1-9]; do
    warnings=$(groff -man -ww -z -t "$page" 2>&1) || fail "groff could not read $page"
    [ -z "$warnings" ] || fail "groff warns about $page: $warnings"
  done
  echo "groff -ww: no warning in $(ls "$src"/man/*.[1-9] | wc -l) man pages"
else
  echo "SKIPPED part: the groff check of the man pages: groff is not installed (Debian: groff-base)"
fi

[ "$failures" -eq 0 ] || { echo "man_completion_test: $failures failures" >&2; exit 1; }
echo "man_completion_test: passed"
