#!/usr/bin/env bash
# sealkit-metrics.service and .timer under a real systemd, with their hardening. A container booted by
# systemd-nspawn from an overlay of this machine's / (nothing of the host changes; its own systemd, journal and
# /var/lib/dpkg), this build installed into it with `cmake --install --prefix /usr`, Debian's
# prometheus-node-exporter there as the host has it:
#   - systemd-analyze verify accepts both units; the install enables neither;
#   - the service fails, saying why, while /var/lib/prometheus belongs to the prometheus user, and writes the
#     metrics once docs/fleet.md's dpkg-statoverride gives it to root;
#   - under the hardening the audit reaches every process: none denied (a process of nobody's is there), and the
#     filters of every process that has some are read (nobody's process has one, so does journald), none
#     not_checked: the service itself runs under no seccomp filter;
#   - each systemd setting the unit's comment names as installing a seccomp filter does so here;
#   - the timer, once started, runs the service and has a next run by the calendar.
# Without root, systemd-nspawn or prometheus-node-exporter it exits 77, ctest's skip, with the reason; scripts/test
# fails on that skip (tests/must-not-skip.txt): scripts/bootstrap installs systemd-container and the exporter.
#
# usage: systemd_unit_test.sh BUILD_DIR CMAKE_COMMAND
set -euo pipefail
build=$1 cmake=$2
skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (a container booted with systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (Debian's systemd-container; scripts/bootstrap installs it)"
[ -d /var/lib/prometheus/node-exporter ] ||
  skip "prometheus-node-exporter is not installed (its textfile directory is the unit's; scripts/bootstrap installs it)"
# Mounts in a namespace of this script's own.
[ -n "${SEALKIT_UNIT_TEST_NS:-}" ] || exec env SEALKIT_UNIT_TEST_NS=1 unshare --mount --propagation private bash "$0" "$@"

started=$SECONDS
work=$(mktemp -d /tmp/sealkit-unit-test.XXXXXX)
mount -t tmpfs sealkit-unit-test "$work"
mkdir "$work/upper" "$work/work" "$work/root"
root=$work/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$root"
nspawn=""
leader=""
cleanup() {
  if [ -n "$leader" ]; then kill -RTMIN+3 "$leader" 2>/dev/null || true; fi  # systemd's halt
  if [ -n "$nspawn" ]; then
    for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null || true
    wait "$nspawn" 2>/dev/null || true
  fi
  umount -l "$root" "$work" 2>/dev/null || true
  rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
failures=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

DESTDIR=$root "$cmake" --install "$build" --prefix /usr >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; echo "systemd_unit_test: cmake --install failed" >&2; exit 1; }
unitdir=/usr/lib/systemd/system
check "installed: $unitdir/sealkit-metrics.service runs /usr/bin/sealkit" \
  grep -q '^ExecStart=/usr/bin/sealkit audit --all --format prometheus --output /var/lib/prometheus/node-exporter/sealkit.prom$' \
  "$root$unitdir/sealkit-metrics.service"
systemd-id128 new >"$root/etc/machine-id"
# basic.target: journald and the timers, none of the host's services. SYSTEMD_SECCOMP=0: nspawn puts no filter of
# its own on the container, as a machine's PID 1 has none.
SYSTEMD_SECCOMP=0 systemd-nspawn -q -D "$root" --register=no --keep-unit --private-network --boot -- \
  systemd.unit=basic.target >"$work/console.log" 2>&1 &
nspawn=$!
# The container's PID 1: the descendant of nspawn whose NSpid ends in 1. nspawn's first child only sets the
# container up and exits (a loaded machine showed it to pgrep, then it was gone).
container_pid1() {
  local c g
  for c in $(pgrep -P "$nspawn"); do
    for g in "$c" $(pgrep -P "$c"); do
      grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$g/status" 2>/dev/null && { echo "$g"; return; }
    done
  done
}
leader=""
for _ in $(seq 100); do leader=$(container_pid1 || true); [ -n "$leader" ] && break; sleep 0.1; done
[ -n "$leader" ] || { cat "$work/console.log"; echo "systemd_unit_test: the container did not start" >&2; exit 1; }
in_ct() { nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
for _ in $(seq 100); do in_ct test -S /run/systemd/private 2>/dev/null && break; sleep 0.1; done
in_ct timeout 60 systemctl is-system-running --wait >/dev/null || true
booted=$((SECONDS - started))

check "systemd-analyze verify: both units" in_ct systemd-analyze verify "$unitdir/sealkit-metrics.service" \
  "$unitdir/sealkit-metrics.timer"
check "the install enables neither unit" test "$(in_ct systemctl is-enabled sealkit-metrics.timer sealkit-metrics.service \
  2>/dev/null | tr '\n' ' ')" = "disabled static "

prom=/var/lib/prometheus/node-exporter/sealkit.prom
journal() { in_ct journalctl -u sealkit-metrics.service -o cat --no-pager; }
if in_ct systemctl start sealkit-metrics.service 2>/dev/null; then
  fail "the service fails while /var/lib/prometheus is the prometheus user's"
else
  pass "the service fails while /var/lib/prometheus is the prometheus user's"
fi
check "... and its journal says why: $(journal | grep -m1 -o 'refusing to write.*neither root nor you' || true)" \
  bash -c 'grep -q "/var/lib/prometheus is owned by uid [0-9]* (prometheus), neither root nor you"' < <(journal)
in_ct dpkg-statoverride --update --add root root 0755 /var/lib/prometheus

# A process of nobody's with a seccomp filter: reading it needs CAP_SYS_PTRACE (another user) and CAP_SYS_ADMIN.
in_ct systemd-run -q --unit=fleet-nobody --uid=nobody -p SystemCallFilter=@system-service sleep 300
for _ in $(seq 50); do in_ct grep -q '^Seccomp:.*2' "/proc/$(in_ct systemctl show -p MainPID --value fleet-nobody)/status" 2>/dev/null && break; sleep 0.1; done
filtered() { in_ct sh -c 'grep -l "^Seccomp:[[:space:]]*2" /proc/[0-9]*/status 2>/dev/null | wc -l'; }
before=$(filtered)
t0=$SECONDS
check "the service writes $prom after dpkg-statoverride" in_ct systemctl start sealkit-metrics.service
run_seconds=$((SECONDS - t0))
after=$(filtered)
m="$root$prom"
value() { awk -v k="$1" '$1 == k { print $2 }' "$m"; }
check "mode 0644, root's: $(stat -c '%a %U' "$m")" test "$(stat -c '%a %U' "$m")" = "644 root"
check "no process denied: $(value 'sealkit_audit_processes{status="denied"}') of $(value 'sealkit_audit_processes{status="ok"}') audited" \
  test "$(value 'sealkit_audit_processes{status="denied"}')" = 0
check "no process's filters not_checked (the service runs under no filter)" \
  test "$(value 'sealkit_audit_filter_processes{status="not_checked"}')" = 0
check "every process with a filter read: $(value 'sealkit_audit_filter_processes{status="read"}') read, $before with filters" \
  test "$(value 'sealkit_audit_filter_processes{status="read"}')" = "$before" -a "$before" = "$after" -a "$before" -ge 2
check "none unknown, busy or timeout" test "$(value 'sealkit_audit_filter_processes{status="unknown"}')$(value \
  'sealkit_audit_processes{status="busy"}')$(value 'sealkit_audit_processes{status="timeout"}')" = 000

# Each setting the unit's comment rules out does install a filter on this systemd (the comment is true here).
for setting in SystemCallFilter=@system-service SystemCallArchitectures=native RestrictAddressFamilies=AF_UNIX \
  RestrictNamespaces=yes RestrictRealtime=yes RestrictSUIDSGID=yes MemoryDenyWriteExecute=yes LockPersonality=yes \
  PrivateDevices=yes ProtectKernelModules=yes ProtectKernelLogs=yes ProtectClock=yes ProtectHostname=yes \
  ProtectKernelTunables=yes; do
  mode=$(in_ct systemd-run -q --wait --pipe -p "$setting" awk '/^Seccomp:/ { print $2 }' /proc/self/status 2>&1 || true)
  [ "$mode" = 2 ] || fail "$setting installs a seccomp filter (Seccomp: $mode)"
done
pass "each of the 14 settings the unit leaves out installs a seccomp filter"

# The timer: started, it runs the service (10 s later, then every minute).
mtime=$(stat -c %Y "$m")
in_ct systemctl start sealkit-metrics.timer
sleep 1
for _ in $(seq 200); do [ "$(stat -c %Y "$m")" != "$mtime" ] && break; sleep 0.1; done
check "the timer ran the service: the file is newer" test "$(stat -c %Y "$m")" != "$mtime"
# The timer puts its next run on the calendar once the run it started has ended: the file is written just before.
for _ in $(seq 100); do
  next=$(in_ct systemctl show -p NextElapseUSecRealtime --value sealkit-metrics.timer)
  [ -n "$next" ] && break
  sleep 0.1
done
check "... and the next run is on the calendar: $next" test -n "$next"
score=$(in_ct systemd-analyze security sealkit-metrics.service --no-pager 2>/dev/null | grep -o 'Overall exposure level.*' || true)
echo "booted in ${booted} s; the service ran in ${run_seconds} s; ${score}; $((SECONDS - started)) s in all"
exit $((failures != 0))
