"""The summary of one guest run: per step, its exit code and the facts that matter (tests/oldkernel/run prints it)."""
import errno
import os

import console_log


def errno_name(n):
    return errno.errorcode.get(n, str(n)) if n else "0"


def probe_facts(doc):
    if not doc:
        return "no JSON"
    f = doc.get("facts", {})

    def val(key):
        v = f.get(key, {}).get("value")
        return "yes" if v is True else "no" if v is False else "unknown" if v is None else str(v)

    detail = f.get("mseal", {}).get("detail", "")
    return (f"can_seal {str(doc.get('can_seal')).lower()}; mseal {val('mseal')} ({detail}); "
            f"seccomp_filter {val('seccomp_filter')}; procmap_query {val('procmap_query')}; backend {val('backend')}")


def selftest_facts(step):
    doc = step.json()
    if doc:
        s = doc.get("summary", {})
        return f"kernel {doc.get('kernel')}; ok {doc.get('ok')}; {len(doc.get('cells', []))} cells; summary {s}"
    first = next((l for l in step.lines if l.strip()), "")
    return "no JSON: " + first.strip()[:200]


def gtest_facts(log, name):
    doc = log.file_json(f"gtest-{name}.json")
    if doc is None:
        step = log.step("gtest-" + name)
        if step and step.rc == 137:
            return "no results: killed at the step time limit (--step-timeout)", []
        return "no results (the binary did not write its JSON: it crashed?)", []
    cases = console_log.gtest_cases(doc)
    count = {s: sum(1 for _, st in cases if st == s) for s in ("passed", "failed", "skipped", "not run")}
    failed = [n for n, st in cases if st == "failed"]
    text = f"{len(cases)} tests: {count['passed']} passed, {count['failed']} failed, {count['skipped']} skipped"
    if count["not run"]:
        text += f", {count['not run']} not run"
        reason = skip_reason(log.step("gtest-" + name))
        if reason:
            text += f" ({reason})"
    elif count["skipped"] and count["skipped"] + count["failed"] == len(cases):
        reason = skip_reason(log.step("gtest-" + name))
        if reason:
            text += f" (first skip: {reason})"
    return text, failed


def skip_reason(step):
    """The message of the first GTEST_SKIP in a step's output (gtest prints it on the line after "...: Skipped")."""
    if not step:
        return ""
    for i, line in enumerate(step.lines[:-1]):
        if line.endswith(": Skipped"):
            return step.lines[i + 1].strip()[:160]
    return ""


def run_facts(log, name):
    plain, sealed = log.step(f"plain-{name}"), log.step(f"run-{name}")
    if not sealed or not sealed.finished:
        return "did not finish"
    lines = log.file_json_lines(f"run-{name}.log")
    same = plain is not None and plain.rc == sealed.rc and plain.output == sealed.output
    text = f"output and exit code {'the same as' if same else 'DIFFERENT from'} the plain run"
    if not lines:
        return text + "; no SEALKIT_LOG line"
    calls = sum(l.get("mseal_calls", 0) for l in lines)
    sealed_objects = sum(l.get("objects_sealed", 0) for l in lines)
    seen = sum(l.get("objects_seen", 0) for l in lines)
    errs = sorted({errno_name(l.get("first_errno", 0)) for l in lines})
    return (f"{text}; SEALKIT_LOG: {len(lines)} line(s), objects sealed {sealed_objects}/{seen}, "
            f"mseal calls {calls}, first_errno {'/'.join(errs)}")


def attack_facts(step):
    """The attack target's lines, "NAME ok" or "NAME ERRNO", counted."""
    results = [l.split() for l in step.lines if len(l.split()) == 2 and "_" in l.split()[0]]
    if not results:
        first = next((l for l in step.lines if l.strip()), "")
        return "no attack ran: " + first.strip()[:200]
    blocked = [n for n, r in results if r == "EPERM"]
    done = [n for n, r in results if r == "ok"]
    other = [f"{n} {r}" for n, r in results if r not in ("ok", "EPERM")]
    text = f"{len(results)} attacks: {len(blocked)} failed with EPERM, {len(done)} succeeded"
    return text + (f", other: {', '.join(other)}" if other else "")


def text(log, info):
    out = []
    uname = log.step("uname")
    release = uname.output.strip() if uname and uname.finished else "unknown (no uname step)"
    out.append(f"sealkit on Debian 12's kernel: guest kernel {release}, kernel file {os.path.basename(info['kernel'])}")
    out.append(f"accelerator {info['accel']}; initramfs built in {info['initramfs_seconds']} s; qemu ran "
               f"{info['boot_seconds']} s (limit {info['timeout']} s, per step {info['step_timeout']} s); "
               f"guest finished every step: {'yes' if log.done else 'NO'}")
    out.append("")
    rows = []
    failures = []
    for name, step in log.steps.items():
        rc = str(step.rc) if step.finished else "-"
        if name.startswith("gtest-"):
            facts, failed = gtest_facts(log, name[len("gtest-"):])
            failures += [f"{name[len('gtest-'):]}: {f}" for f in failed]
        elif name in ("probe-json", "probe-seccomp-json"):
            facts = probe_facts(step.json())
        elif name in ("selftest-json", "selftest-seccomp-json"):
            facts = selftest_facts(step)
        elif name.startswith("attack-"):
            facts = attack_facts(step)
        elif name.startswith("run-"):
            facts = run_facts(log, name[len("run-"):])
        elif name in ("uname", "uname-a", "nproc"):
            facts = step.output.strip()
        else:
            facts = ""
        if not step.finished:
            facts = "DID NOT FINISH " + facts
        secs = f"{step.seconds:.1f}" if step.seconds is not None else "-"
        rows.append((name, rc, secs, facts))
    for name, why in log.not_run.items():
        rows.append((name, "-", "-", "not run: " + why))
    width = max((len(r[0]) for r in rows), default=4)
    out.append(f"{'step':<{width}}  {'rc':>3}  {'secs':>5}  facts")
    for name, rc, secs, facts in rows:
        out.append(f"{name:<{width}}  {rc:>3}  {secs:>5}  {facts}")
    if log.guest_seconds is not None:
        out.append(f"(the guest's uptime when its steps ended: {log.guest_seconds:.1f} s)")
    if failures:
        out.append("")
        out.append("failed tests in the guest:")
        out += ["  " + f for f in failures]
    return "\n".join(out) + "\n"
