#!/usr/bin/env python3
"""Reads `sealkit selftest --json` run with SEALKIT_BACKEND=seccomp from stdin and checks that the library really
used the filter and that every cell is as documented, not applicable, or a known difference whose reason names the
entry of docs/seccomp.md that explains it."""
import json
import sys

report = json.load(sys.stdin)
problems = []
if report.get("backend") != "seccomp":
    problems.append(f"the library's backend is {report.get('backend')!r}, not 'seccomp'")
for cell in report["cells"]:
    verdict = cell["verdict"]
    where = f"{cell['primitive']} on {cell['class']}"
    if verdict == "known_difference":
        if "docs/seccomp.md" not in cell["reason"]:
            problems.append(f"{where}: a difference without its explanation: {cell['reason']}")
    elif verdict not in ("as_expected", "n/a"):
        problems.append(f"{where}: {verdict}: {cell['reason']}")
summary = report["summary"]
print(f"{summary['cells']} cells: {summary['as_expected']} as documented, {summary['not_applicable']} n/a, "
      f"{summary.get('known_differences', 0)} listed differences, {summary['mismatches']} mismatches")
for p in problems:
    print("FAIL", p)
sys.exit(1 if problems else 0)
