#!/usr/bin/env bash
# The install test: installs a built sealkit tree into a fresh prefix and
# builds two consumers against the installed files only:
#   - consumer.c with `pkg-config --cflags --libs sealkit` (the C ABI, sealkit.h only)
#   - cxx_consumer/ with find_package(sealkit) (the C++ API), shared and static
# runs them, and checks that libsealkit.so exports nothing but sealkit_*.
#
# usage: install_test.sh BUILD_DIR C_COMPILER CXX_COMPILER SANITIZE(0|1)
# With SANITIZE=1 the installed library is built with ASan+UBSan, so the
# consumers are too (a sanitized library needs the sanitizer runtime first).
set -euo pipefail

build_dir=$1 cc=$2 cxx=$3 sanitize=$4
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "install_test: FAILED: $*" >&2; exit 1; }
for tool in pkg-config nm cmake; do
  command -v "$tool" >/dev/null || fail "$tool not found; run scripts/bootstrap"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sealkit-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name sealkit.pc -path '*/pkgconfig/*' -print -quit)
so=$(find "$prefix" -name 'libsealkit.so' -print -quit)
[ -n "$pc" ] || fail "no sealkit.pc installed"
[ -n "$so" ] || fail "no libsealkit.so installed"
[ -x "$prefix/bin/sealkit" ] || fail "no sealkit CLI installed"
for header in sealkit.h sealkit.hpp; do
  [ -f "$prefix/include/sealkit/$header" ] || fail "header $header not installed"
done
[ -f "$(dirname "$so")/libsealkit.a" ] || fail "no libsealkit.a installed"
libdir=$(dirname "$so")

echo "== exported symbols of $so"
mapfile -t exported < <(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }')
printf '   %s\n' "${exported[@]}"
[ ${#exported[@]} -gt 0 ] || fail "libsealkit.so exports nothing"
stray=()
for symbol in "${exported[@]}"; do [[ $symbol == sealkit_* ]] || stray+=("$symbol"); done
[ ${#stray[@]} -eq 0 ] || fail "libsealkit.so exports symbols outside sealkit_*: ${stray[*]}"

echo "== pkg-config (PKG_CONFIG_PATH=$(dirname "$pc"))"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs sealkit) || fail "pkg-config --cflags --libs sealkit"
echo "   $flags"
# The file must describe where it was installed, not the configure-time prefix.
includedir=$(cd "$(pkg-config --variable=includedir sealkit)" 2>/dev/null && pwd) || fail "pkg-config includedir does not exist"
[ "$includedir" = "$(cd "$prefix/include" && pwd)" ] || fail "pkg-config includedir is $includedir, not under $prefix"
cli_version=$("$prefix/bin/sealkit" --version) || fail "the installed sealkit --version"
[ "sealkit $(pkg-config --modversion sealkit)" = "$cli_version" ] ||
  fail "pkg-config version $(pkg-config --modversion sealkit) differs from '$cli_version'"

san_flags=()
[ "$sanitize" = 1 ] && san_flags=("-fsanitize=address,undefined" "-fno-sanitize-recover=all")

echo "== C consumer: $cc consumer.c \$(pkg-config --cflags --libs sealkit)"
# shellcheck disable=SC2086 # pkg-config output is a list of flags
"$cc" -std=c11 -Wall -Wextra -Werror "${san_flags[@]}" "$here/consumer.c" $flags -Wl,-rpath,"$libdir" \
  -o "$work/consumer_c" || fail "building consumer.c"
# (ldd's output is captured first: grep -q quitting early would SIGPIPE ldd and fail the pipeline.)
loads_installed_lib() { local deps; deps=$(ldd "$1") && grep -q "libsealkit\.so.* => $libdir/" <<<"$deps"; }
loads_installed_lib "$work/consumer_c" || fail "consumer.c does not load the installed libsealkit"
"$work/consumer_c" || fail "consumer.c"

# Ninja when there (scripts/bootstrap installs it; make may be missing on a fresh machine).
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

# cmake_consumer DIR NAME LANG COMPILER FLAGS SHARED STATIC: configures and builds tests/install/DIR against the
# installed package (find_package(sealkit)), then runs SHARED, which must load the installed libsealkit.so, and
# STATIC, which must not need it.
cmake_consumer() {
  local dir=$1 name=$2 lang=$3 compiler=$4 flags=$5 shared=$6 static=$7
  cmake -S "$here/$dir" -B "$work/$dir" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_"$lang"_COMPILER="$compiler" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_"$lang"_FLAGS="$flags" \
    >"$work/$dir-configure.log" 2>&1 || { cat "$work/$dir-configure.log"; fail "configuring the $name consumer"; }
  cmake --build "$work/$dir" >"$work/$dir-build.log" 2>&1 || { cat "$work/$dir-build.log"; fail "building the $name consumer"; }
  loads_installed_lib "$work/$dir/$shared" || fail "$shared does not load the installed libsealkit"
  local static_deps
  static_deps=$(ldd "$work/$dir/$static")
  if grep -q libsealkit <<<"$static_deps"; then fail "$static should not need libsealkit.so"; fi
  "$work/$dir/$shared" || fail "$name consumer (shared)"
  "$work/$dir/$static" || fail "$name consumer (static)"
}

echo "== C++ consumer: find_package(sealkit) with CMAKE_PREFIX_PATH=$prefix, shared and static"
cmake_consumer cxx_consumer C++ CXX "$cxx" "-Wall -Wextra -Werror ${san_flags[*]}" consumer_shared consumer_static

echo "== C consumer: find_package(sealkit) in a C-only project, shared and static"
cmake_consumer c_consumer C C "$cc" "-std=c11 -Wall -Wextra -Werror ${san_flags[*]}" c_consumer_shared \
  c_consumer_static

# The C++ API's checks happen at compile time: a dropped Result is a warning
# ([[nodiscard]]), an if on a Result<bool> does not compile; C++20 adds span views.
echo "== C++ API at compile time (installed sealkit.hpp)"
api_check() {  # api_check STD SNIPPET: compiles SNIPPET in a main() against the installed header
  printf '#include <sealkit/sealkit.hpp>\nint main() { %s; return 0; }\n' "$2" >"$work/api.cpp"
  "$cxx" "-std=$1" -fsyntax-only -Werror=unused-result -I"$prefix/include" "$work/api.cpp" 2>"$work/api.err"
}
api_check c++17 'auto r = sealkit::seal(nullptr, 0); (void)r.has_value()' || { cat "$work/api.err"; fail "a checked Result"; }
if api_check c++17 'sealkit::seal(nullptr, 0)'; then fail "a dropped Result compiles without a warning"; fi
grep -q 'nodiscard' "$work/api.err" || { cat "$work/api.err"; fail "a dropped Result: not the nodiscard warning"; }
if api_check c++17 'if (auto r = sealkit::is_sealed(nullptr, 1)) return 1'; then
  fail "if (auto r = is_sealed(...)) compiles: it would read an unsealed mapping as sealed"
fi
api_check c++20 'auto m = sealkit::Mapping::anonymous(4096); if (m) { std::span<std::byte> b = m->bytes(); (void)b; }' ||
  { cat "$work/api.err"; fail "Mapping::bytes() in C++20"; }

# The installed `sealkit run`: finds the injected objects in <prefix>/<$LIB>/sealkit/ (cmake/runtime_layout.cmake)
# and seals a 64-bit program and, when the i386 objects are installed, a 32-bit one in the same tree.
echo "== installed sealkit run"
mapfile -t runtimes < <(find "$prefix" -name libsealkit-runtime.so | sort)
[ ${#runtimes[@]} -ge 1 ] || fail "no libsealkit-runtime.so installed"
run_log=$work/run.jsonl
tree="/bin/true"
if [ ${#runtimes[@]} -lt 2 ]; then
  echo "SKIPPED part: the 32-bit program: only one class of the runtime is installed"
elif ! echo 'int main(void) { return 0; }' | "$cc" -m32 -x c - -o "$work/prog32" 2>/dev/null; then
  echo "SKIPPED part: the 32-bit program: $cc cannot build -m32 programs"
elif ! prog32_err=$("$work/prog32" 2>&1); then
  echo "SKIPPED part: the 32-bit program: this kernel cannot execute it (${prog32_err##*: })"
else
  tree="/bin/true; $work/prog32"
fi
"$prefix/bin/sealkit" run --log "$run_log" -- /bin/sh -c "$tree" 2>"$work/run.err" || { cat "$work/run.err"; fail "installed sealkit run"; }
[ ! -s "$work/run.err" ] || { cat "$work/run.err"; fail "installed sealkit run printed errors (ld.so could not load an object?)"; }
want=$(( $(tr -cd ';' <<<"$tree" | wc -c) + 2 ))  # sh and each program
got=$(grep -c '"mseal_failures":0,' "$run_log" || true)
[ "$got" -eq "$want" ] || { cat "$run_log"; fail "expected $want sealed processes in the log, got $got"; }
echo "installed sealkit run: $got processes sealed ($tree; runtimes: ${runtimes[*]#"$prefix"/})"

# The shipped /etc/ld.so.preload line: for a prefix other than /usr (ld.so's trusted directories), the objects
# through $LIB; each class's preload object installed without an execute bit (it gets the set-user-ID bit when
# sealing is switched on; docs/runtime.md, "Machine-wide"). The /usr form is tested by MachineWide, installed there.
echo "== installed share/sealkit/ld.so.preload"
line=$(cat "$prefix/share/sealkit/ld.so.preload") || fail "no share/sealkit/ld.so.preload installed"
[ "$line" = "$prefix/\$LIB/sealkit/libsealkit-preload.so" ] || fail "share/sealkit/ld.so.preload says '$line'"
for object in $(find "$prefix" -name 'libsealkit-*.so' -path '*/sealkit/*'); do
  mode=$(stat -c %a "$object")
  [ "$mode" = 644 ] || fail "$object is installed with mode $mode, expected 644"
done

# The man pages (each C function's name a `.so` page that shows libsealkit(3)) and the bash completion.
echo "== installed man pages and bash completion"
for page in man1/sealkit.1 man5/sealkit-runtime.conf.5 man3/libsealkit.3 man3/sealkit_mseal.3 man3/sealkit_version.3; do
  [ -f "$prefix/share/man/$page" ] || fail "no share/man/$page installed"
done
[ -f "$prefix/share/bash-completion/completions/sealkit" ] || fail "no share/bash-completion/completions/sealkit installed"
if command -v man >/dev/null; then
  shown=$(MANPATH="$prefix/share/man" MANWIDTH=80 man sealkit_mseal 2>&1) || fail "man sealkit_mseal: $shown"
  grep -q 'sealkit_seal_loaded_objects' <<<"$shown" || fail "man sealkit_mseal does not show libsealkit(3): $shown"
else
  echo "SKIPPED part: man sealkit_mseal: man is not installed (Debian: man-db)"
fi

echo "install_test: passed"
