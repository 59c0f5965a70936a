#!/usr/bin/env python3
"""Instruction counts of sealkit_mseal against the raw system call.

Runs bench's callgrind_mseal under valgrind --tool=callgrind and prints, per
call, the instructions executed (Ir) by the raw loop and by the sealkit loop,
and their difference: the user-space code libsealkit adds. (Valgrind does not
know mseal; the program's own syscall() stub stands in for the kernel, the
same stub for both loops: see callgrind_mseal.cpp.) Counts do not
depend on machine load, so they hold where timings wobble. Standard library
only.

    bench/callgrind.py build/default/bench/callgrind_mseal
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

LOOPS = {"raw": "callgrind_raw_mseal_loop", "sealkit": "callgrind_sealkit_mseal_loop"}


def show(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("program", help="path of the callgrind_mseal program")
    ap.add_argument("--calls", type=int, default=100000, help="mseal calls per loop (default 100000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", args.program, str(args.calls)]
        show(cmd)
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        print(run.stdout.strip())
        if run.returncode != 0:
            sys.stderr.write(run.stderr)
            return 1
        cmd = ["callgrind_annotate", "--inclusive=yes", out]
        show(cmd)
        text = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    # The function summary has lines like
    # "2,600,066 (27.30%)  bench/callgrind_mseal.cpp:callgrind_raw_mseal_loop [/path]".
    counts = {}
    for role, fn in LOOPS.items():
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + fn + r" \[", text, re.MULTILINE)
        if not m:
            print(f"no count for {fn} in callgrind_annotate's output")
            return 1
        counts[role] = int(m.group(1).replace(",", ""))
    # A function's inclusive count covers all its calls: the measured one
    # (`calls` iterations) and the one-iteration warm-up before it.
    per_call = {role: n / (args.calls + 1) for role, n in counts.items()}
    print(f"\n{'loop':<10}{'Ir total':>14}{'Ir per call':>14}")
    for role in LOOPS:
        print(f"{role:<10}{counts[role]:>14,}{per_call[role]:>14.1f}")
    print(f"\nsealkit_mseal adds {per_call['sealkit'] - per_call['raw']:.1f} instructions per call "
          "(user space only: both loops call the same stub in place of the kernel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
