#!/usr/bin/python3
"""examples/grafana/sealkit.json against the real audit: the file is JSON, every panel has a unique id, a place and
queries, and every query (the panels' and the variables') names only metrics that `sealkit audit --all --format
prometheus --per-process` writes, and only PromQL functions that exist.

usage: dashboard_test.py DASHBOARD_JSON SEALKIT_BIN    (exit 0 pass, 1 fail)"""
import json
import re
import subprocess
import sys

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
# Prometheus 2.42's aggregations and functions.
FUNCTIONS = set("""sum min max avg group stddev stdvar count count_values bottomk topk quantile
abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week day_of_year
days_in_month delta deriv exp floor histogram_quantile holt_winters hour idelta increase irate label_join
label_replace ln log2 log10 minute month predict_linear rate resets round scalar sgn sort sort_desc sqrt time
timestamp vector year avg_over_time min_over_time max_over_time sum_over_time count_over_time
quantile_over_time stddev_over_time stdvar_over_time last_over_time present_over_time acos acosh asin asinh
atan atanh cos cosh sin sinh tan tanh deg pi rad""".split())


def metric_names(expr):
    """The metric names an expression selects, from its text: strings, label matchers, label lists, ranges and
    numbers taken out, what is left is functions (followed by a parenthesis), keywords and metric names."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?", " ", e)
    names, problems = set(), []
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        token = m.group(0)
        if token in KEYWORDS:
            continue
        if e[m.end():].lstrip().startswith("("):
            if token not in FUNCTIONS:
                problems.append(f"unknown function {token}")
            continue
        names.add(token)
    return names, problems


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        dash = json.load(f)  # raises on invalid JSON: the test fails
    out = subprocess.run([argv[2], "audit", "--all", "--format", "prometheus", "--per-process"], check=True,
                         capture_output=True, text=True).stdout
    emitted = set(re.findall(r"^# TYPE (\S+) ", out, re.M))
    failures = []

    queries = []  # (where, expr)
    ids = []
    for p in dash.get("panels", []):
        where = f"panel {p.get('id')} ({p.get('title')})"
        ids.append(p.get("id"))
        if not p.get("gridPos") or not p.get("title"):
            failures.append(f"{where}: no gridPos or title")
        targets = p.get("targets", [])
        if not targets:
            failures.append(f"{where}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            failures.append(f"{where}: refIds repeat: {refs}")
        queries += [(where, t.get("expr", "")) for t in targets]
    if len(set(ids)) != len(ids) or None in ids:
        failures.append(f"panel ids missing or repeated: {ids}")
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
        m = re.fullmatch(r"label_values\((\w+),\s*\w+\)", q)
        if not m:
            failures.append(f"variable {v.get('name')}: not label_values(METRIC, LABEL): {q}")
            continue
        queries.append((f"variable {v.get('name')}", m.group(1)))

    if not queries:
        failures.append("no query at all")
    for where, expr in queries:
        names, problems = metric_names(expr)
        failures += [f"{where}: {p}: {expr}" for p in problems]
        if not names:
            failures.append(f"{where}: names no metric: {expr}")
        failures += [f"{where}: {n} is not a metric sealkit audit writes: {expr}" for n in sorted(names - emitted)]
    for f in failures:
        print("dashboard_test: FAILED:", f, file=sys.stderr)
    print(f"dashboard_test: {len(queries)} queries, {len(emitted)} metrics the audit writes")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
