"""The audit speed bar: with N extra idle processes alive, time in alternating rounds (ABBA)
(a) merely reading every /proc/PID/smaps in full and (b) `sealkit audit --all --json >/dev/null`;
print the medians (wall and CPU time), the ratios b/a and the machine's load. Exit 1 when the median of the
rounds' wall-time ratios is above the bar.

Run it through bench/audit/run, which builds the programs first.
"""
import argparse
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time


def timed(argv):
    """(wall seconds, CPU seconds: user + system of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"bench/audit: {argv[0]} failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def count_processes():
    return sum(1 for n in os.listdir("/proc") if n.isdigit())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sealkit", required=True)
    ap.add_argument("--reader", required=True, help="bench_audit_read_all_smaps")
    ap.add_argument("--swarm", required=True, help="bench_audit_idle_swarm")
    ap.add_argument("--processes", type=int, default=2000, help="extra idle processes (default 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="ABBA rounds, 4 timed runs each (default 5)")
    ap.add_argument("--bar", type=float, default=1.3)
    args = ap.parse_args()

    # SIGINT, SIGTERM and SIGHUP end the bench through the finally below (SIGINT set here too: a shell starts
    # background jobs with it ignored, and Python keeps it so).
    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)

    before = count_processes()
    swarm = subprocess.Popen([args.swarm, str(args.processes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = swarm.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "ready" or int(line[1]) != args.processes:
            raise SystemExit(f"bench/audit: the swarm started {line} instead of {args.processes} processes")
        during = count_processes()
        load_before = os.getloadavg()
        a_cmd = [args.reader]
        b_cmd = [args.sealkit, "audit", "--all", "--json"]
        timed(a_cmd), timed(b_cmd)  # warm the dentry and ELF-file caches once
        a, b, paired = [], [], []
        for _ in range(args.rounds):
            a1, b1, b2, a2 = timed(a_cmd), timed(b_cmd), timed(b_cmd), timed(a_cmd)
            a += [a1, a2]
            b += [b1, b2]
            # One ABBA round shares the machine's moment: its ratio is immune to load that drifts between rounds.
            paired.append((b1[0] + b2[0]) / (a1[0] + a2[0]))
        load_after = os.getloadavg()
        summary = subprocess.run(b_cmd, capture_output=True, text=True, check=True).stdout
    finally:
        swarm.stdin.close()
        try:
            swarm.wait(timeout=60)
        except subprocess.TimeoutExpired:
            swarm.kill()  # its children die with it (PR_SET_PDEATHSIG)
            swarm.wait()

    import json
    totals = json.loads(summary)["totals"]
    ma, mb = statistics.median(w for w, _ in a), statistics.median(w for w, _ in b)
    ca, cb = statistics.median(c for _, c in a), statistics.median(c for _, c in b)
    ratio = mb / ma
    print(f"machine: {platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs")
    print(f"processes: {before} before, {during} with the swarm; audited {totals['processes']} "
          f"({totals['vmas']} VMAs, {totals['objects']} ELF objects)")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"{args.rounds} ABBA rounds, {len(a)} runs each")
    for name, runs, wall, cpu in (("(a) read every smaps", a, ma, ca), ("(b) sealkit audit --all --json", b, mb, cb)):
        walls = [w for w, _ in runs]
        print(f"{name:31s} wall median {wall * 1000:7.1f} ms (min {min(walls) * 1000:.1f}, max {max(walls) * 1000:.1f}); "
              f"CPU median {cpu * 1000:7.1f} ms")
    paired_ratio = statistics.median(paired)
    print(f"ratio b/a, wall time: median of the {len(paired)} ABBA rounds' ratios {paired_ratio:.3f}, "
          f"ratio of the medians {ratio:.3f}; CPU time: ratio of the medians {cb / ca:.3f}")
    print(f"bar: at most {args.bar} (on the paired wall-time ratio): {'met' if paired_ratio <= args.bar else 'NOT met'}")
    return 0 if paired_ratio <= args.bar else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench/audit: interrupted; the idle processes were stopped", file=sys.stderr)
        sys.exit(130)
