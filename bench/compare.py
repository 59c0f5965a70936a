#!/usr/bin/env python3
"""Runs sealkit's benchmark binaries and prints medians and ratios.

Each binary runs once, with every benchmark repeated --repetitions times in
random interleaved order (so a noisy neighbour hurts baseline and candidate
alike), and reports aggregates only. Benchmarks are named "<pair>/<role>":
where a pair has a "baseline" role and one other (the candidate, usually
"sealkit"), the ratio of their medians (candidate / baseline) is printed.
Benchmarks with a "ratio" counter (bench_seal_paired.cpp: both halves
alternate inside one loop) print the medians of their counters. Every other
benchmark is printed alone. The
figures with a limit are checked against LIMITS. Standard library only.

    bench/compare.py build/default/bench/bench_seal build/default/bench/bench_is_sealed
"""
import argparse
import json
import shlex
import subprocess
import sys

# The speed figures: a ratio limit per pair, an absolute limit (ns) per
# single benchmark. Judged on the median of real (wall-clock) time.
RATIO_LIMITS = {"mseal_resealed": 1.05, "mseal_fresh": 1.05, "mmap_sealed": 1.05}
ABSOLUTE_LIMITS_NS = {
    "is_sealed_1000_vmas/one_sealed_page": 10_000,
    "is_sealed_1000_vmas/one_unsealed_page": 10_000,
}
TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def run(binary, repetitions, extra):
    cmd = [binary, f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true",
           "--benchmark_enable_random_interleaving=true", "--benchmark_format=json", *extra]
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def medians(report):
    """{name: {"real": ns, "cpu": ns, "cv": real-time cv}} from the aggregates."""
    result = {}
    for b in report["benchmarks"]:
        if b.get("run_type") != "aggregate" or b.get("error_occurred"):
            continue
        # "mmap_sealed/sealkit/iterations:4096" -> "mmap_sealed/sealkit"
        # "paired_mmap_sealed/512/iterations:16" -> "paired_mmap_sealed"
        name = "/".join(part for part in b["run_name"].split("/") if ":" not in part and not part.isdigit())
        entry = result.setdefault(name, {})
        scale = TO_NS[b.get("time_unit", "ns")]
        if b["aggregate_name"] == "median":
            entry["real"] = b["real_time"] * scale
            entry["cpu"] = b["cpu_time"] * scale
            # Counters of the paired (ABBA) benchmarks, already per call.
            for counter in ("baseline_ns", "sealkit_ns", "ratio"):
                if counter in b:
                    entry[counter] = b[counter]
        elif b["aggregate_name"] == "cv":
            entry["cv"] = b["real_time"]  # a fraction, unitless
        elif b["aggregate_name"] == "stddev" and "ratio" in b:
            entry["ratio_sd"] = b["ratio"]
            entry["n"] = b.get("repetitions", 0)
    errors = [b["name"] for b in report["benchmarks"] if b.get("error_occurred")]
    return result, errors


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.1f} ns"


def report(results):
    """Prints the tables; returns the list of figures not met."""
    failed = []
    pairs = {}
    singles = {}
    paired = {name: m for name, m in results.items() if "ratio" in m}
    for name, m in results.items():
        if name in paired:
            continue
        group, _, role = name.partition("/")
        pairs.setdefault(group, {})[role] = m
    for group in [g for g, roles in pairs.items() if "baseline" not in roles]:
        for role, m in pairs.pop(group).items():
            singles[f"{group}/{role}"] = m
    if pairs:
        print(f"\n{'pair (candidate)':<36}{'baseline':>10}{'candidate':>10}{'ratio':>8}{'cpu ratio':>10}"
              f"{'cv b/c':>12}{'limit':>7}  met")
        for group, roles in sorted(pairs.items()):
            others = [r for r in roles if r != "baseline"]
            if len(others) != 1:
                print(f"{group:<36} needs a baseline and exactly one candidate, has {sorted(roles)}")
                failed.append(group)
                continue
            b, s = roles["baseline"], roles[others[0]]
            label = f"{group} ({others[0]})"
            ratio, cpu_ratio = s["real"] / b["real"], s["cpu"] / b["cpu"]
            limit = RATIO_LIMITS.get(group)
            met = "-" if limit is None else ("yes" if ratio <= limit else "NO")
            if met == "NO":
                failed.append(group)
            cv = f"{b.get('cv', 0) * 100:.1f}/{s.get('cv', 0) * 100:.1f}%"
            print(f"{label:<36}{fmt_ns(b['real']):>10}{fmt_ns(s['real']):>10}{ratio:>8.3f}{cpu_ratio:>10.3f}"
                  f"{cv:>12}{'' if limit is None else f'{limit:.2f}':>7}  {met}")
    if paired:
        # 95% interval of the median ratio: 1.96 standard errors, the
        # standard error of a median being about 1.2533 sd / sqrt(n).
        print(f"\n{'paired (ABBA in one loop)':<32}{'baseline':>10}{'sealkit':>10}{'ratio':>8}{'95% +-':>8}"
              f"{'limit':>7}  met")
        for name, m in sorted(paired.items()):
            limit = RATIO_LIMITS.get(name.removeprefix("paired_"))
            met = "-" if limit is None else ("yes" if m["ratio"] <= limit else "NO")
            if met == "NO":
                failed.append(name)
            n = m.get("n", 0)
            ci = 1.96 * 1.2533 * m.get("ratio_sd", 0) / n ** 0.5 if n else float("nan")
            print(f"{name:<32}{fmt_ns(m['baseline_ns']):>10}{fmt_ns(m['sealkit_ns']):>10}{m['ratio']:>8.3f}"
                  f"{ci:>8.3f}{'' if limit is None else f'{limit:.2f}':>7}  {met}")
    if singles:
        print(f"\n{'benchmark':<40}{'median':>12}{'cpu':>12}{'cv':>8}{'limit':>10}  met")
        for name, m in sorted(singles.items()):
            limit = ABSOLUTE_LIMITS_NS.get(name)
            met = "-" if limit is None else ("yes" if m["real"] < limit else "NO")
            if met == "NO":
                failed.append(name)
            print(f"{name:<40}{fmt_ns(m['real']):>12}{fmt_ns(m['cpu']):>12}{m.get('cv', 0) * 100:>7.1f}%"
                  f"{'' if limit is None else fmt_ns(limit):>10}  {met}")
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binaries", nargs="+", help="benchmark programs to run")
    ap.add_argument("--repetitions", type=int, default=20, help="repetitions of every benchmark (default 20)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a figure is above its limit (LIMITS)")
    ap.add_argument("--benchmark-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for every binary, e.g. --benchmark-arg=--benchmark_min_time=0.2")
    args = ap.parse_args()
    failed = []
    for binary in args.binaries:
        rep = run(binary, args.repetitions, args.benchmark_arg)
        ctx = rep["context"]
        print(f"# {ctx.get('date')}  cpus={ctx.get('num_cpus')}  load_avg={ctx.get('load_avg')}  "
              f"vmas={ctx.get('process_vmas', '-')}  repetitions={args.repetitions}")
        results, errors = medians(rep)
        for e in errors:
            print(f"error in {e}")
            failed.append(e)
        failed += report(results)
        print()
    if failed:
        print("not met: " + ", ".join(failed))
    return 1 if (failed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
