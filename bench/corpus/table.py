"""The one table, then every failure and left-over with its reason."""


def is_glibc_own_load(path):
    return "/libnss_" in path or "/gconv/" in path or "/libidn2.so" in path


def why_unsealed(path, glibc_own_in_same_run):
    """The reason docs/runtime.md gives for each kind of object the runtime leaves unsealed."""
    if is_glibc_own_load(path):
        return ("loaded by glibc itself (__libc_dlopen_mode), which no dlopen wrapper sees; sealed only at the "
                "program's next dlopen/dlmopen/dlclose, which this program did not make")
    if "/libgcc_s.so" in path:
        return ("libgcc_s: glibc loads it itself for unwinding (sealed only at a later dlopen/dlmopen/dlclose), or "
                "it is a dependency of another object listed here")
    if glibc_own_in_same_run:
        return "probably a dependency of glibc's own load above, left unsealed with it"
    return "loaded after start-up and not sealed (see docs/runtime.md, Objects loaded later)"


def print_report(rows, deploy, verbose):
    head = ["program", "processes", "processes sealed", "objects sealed / seen", "dlopen'd objects unsealed",
            "live processes checked", "failures"]
    body = []
    for r in rows:
        body.append([r.name, str(r.processes), str(r.sealed), f"{r.objects_sealed} / {r.objects_seen}",
                     str(len({o for _, o in r.dlopen_unsealed})), str(r.live_checked), str(len(r.failures))])
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print(line(b))
    print()
    print(f"sealed with: {deploy.name} (log lines \"injected_as\":\"{deploy.injected_as}\").")
    print("processes: process images (one per exec) the kernel reported for the sealed run"
          + (", the launcher excluded;" if deploy.launcher else ";"))
    print("sealed: those with a runtime log line showing every object sealed and no mseal failure. Objects count the")
    print("vDSO, which the runtime seals as a system mapping. Live processes: /proc/PID/smaps read while they ran.")
    for r in rows:
        if r.failures:
            print(f"\nFAILURES {r.name}:")
            for f in r.failures:
                print(f"  - {f}")
        if r.dlopen_unsealed:
            print(f"\nleft-over {r.name}: objects loaded after start-up, unsealed at the last look at a live process:")
            by_obj = {}
            for exe, obj in sorted(r.dlopen_unsealed):
                by_obj.setdefault(obj, set()).add(exe)
            glibc_own = any(is_glibc_own_load(o) for o in by_obj)
            for obj, exes in sorted(by_obj.items()):
                print(f"  - {obj} (in {', '.join(sorted(exes))}): {why_unsealed(obj, glibc_own)}")
        if r.dlopen_unconfirmed - r.dlopen_unsealed:
            print(f"\nleft-over {r.name}: unsealed at one look only, the process gone before a second (perhaps "
                  f"caught inside dlopen, before the seal; not counted above):")
            for exe, obj in sorted(r.dlopen_unconfirmed - r.dlopen_unsealed):
                print(f"  - {obj} (in {exe})")
        if r.static:
            names = ", ".join(f"{e} x{r.static.count(e)}" for e in sorted(set(r.static)))
            print(f"\nleft-over {r.name}: {len(r.static)} statically linked process(es) ({names}): no ld.so runs, so "
                  f"nothing can be injected; not counted as sealed")
        if r.unidentified:
            print(f"\nleft-over {r.name}: {r.unidentified} exec(s) with no log line exited before /proc/PID/exe "
                  f"could be read, so whether each was static or unsealed is unknown")
        if verbose and r.notes:
            print(f"\nnotes {r.name}:")
            for n in sorted(set(r.notes)):
                print(f"  - {n}")
    failed = sum(1 for r in rows if r.failures)
    print(f"\ncorpus: {len(rows) - failed} passed, {failed} failed")
