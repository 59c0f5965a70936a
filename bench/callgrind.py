#!/usr/bin/env python3
"""Instruction counts of libsealkit's sealing calls against the raw system calls.

Runs bench's callgrind_seal under valgrind --tool=callgrind and prints, per
call, the instructions executed (Ir) by each raw loop and its sealkit twin,
and their difference: the user-space code libsealkit adds. Counts do not
depend on machine load, so they hold where timings wobble. (Valgrind does not
know mseal; the program's own syscall() stub stands in for the kernel, the
same stub for both loops of a pair: see callgrind_seal.cpp.) Standard library
only.

    bench/callgrind.py build/default/bench/callgrind_seal
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

# pair -> (raw loop, sealkit loop, calls per loop as a fraction of --calls)
PAIRS = {
    "mseal": ("callgrind_raw_mseal_loop", "callgrind_sealkit_mseal_loop", 1),
    "mmap_sealed": ("callgrind_raw_mmap_sealed_loop", "callgrind_sealkit_mmap_sealed_loop", 10),
}


def show(cmd):
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)


def inclusive_count(text, fn):
    # The function summary has lines like
    # "2,600,066 (27.30%)  bench/callgrind_seal.cpp:callgrind_raw_mseal_loop [/path]".
    m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + fn + r" \[", text, re.MULTILINE)
    return int(m.group(1).replace(",", "")) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("program", help="path of the callgrind_seal program")
    ap.add_argument("--calls", type=int, default=100000,
                    help="mseal calls per loop (default 100000; the mmap loops make a tenth as many mappings)")
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
    print(f"\n{'pair':<14}{'raw Ir/call':>13}{'sealkit Ir/call':>17}{'added':>8}")
    for pair, (raw_fn, lib_fn, divisor) in PAIRS.items():
        counts = [inclusive_count(text, fn) for fn in (raw_fn, lib_fn)]
        if None in counts:
            print(f"{pair:<14} no count in callgrind_annotate's output")
            return 1
        # A function's inclusive count covers all its calls: the measured one
        # and the one-iteration warm-up before it.
        calls = max(args.calls // divisor, 1) + 1
        raw, lib = (n / calls for n in counts)
        print(f"{pair:<14}{raw:>13.1f}{lib:>17.1f}{lib - raw:>8.1f}")
    print("\n(user space only: the kernel is not counted; mseal is a stub of the same cost in both loops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
