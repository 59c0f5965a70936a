"""Turns one program's two runs into a table row: processes, processes sealed, objects, dlopen'd objects left
unsealed, failures (each with its reason)."""
import difflib
import os

import harness
from proc_events import elf_interp_of


def line_sealed(line):
    """A log line proves its process sealed: no mseal failure, every object sealed but the vDSO (which has no file
    and is sealed as a system mapping), the system mappings sealed."""
    if "unparsable" in line:
        return False
    skipped = line.get("objects_skipped", 0)
    return (line.get("mseal_failures", 1) == 0 and skipped <= 1 and line.get("system_mappings_sealed", 0) >= 1
            and line.get("objects_sealed", 0) + skipped == line.get("objects_seen", -1))


def match_images(images, log_lines):
    """Pairs each exec the kernel reported with the runtime's line for it: same pid, in order. (The exe read when
    the event arrived can already be that of a later exec of the same pid, so exe only decides whether a static
    image, which has no line, takes one; a process in its own pid namespace is matched by the pid it has there.)
    Returns (pairs [(image, line or None)], unmatched log lines)."""
    by_pid = {}
    for line in log_lines:
        by_pid.setdefault(line.get("pid"), []).append(line)
    pairs = []
    for img in images:
        # A process in a pid namespace of its own (Chromium's sandbox) logs the pid it sees there.
        queue = by_pid.get(img.tgid, []) or (by_pid.get(img.ns_pid, []) if img.ns_pid != img.tgid else [])
        hit = None
        if queue and not (img.linking == "static" and queue[0].get("exe") != img.exe):
            hit = queue.pop(0)
        pairs.append((img, hit))
    leftover = [ln for q in by_pid.values() for ln in q]
    return pairs, leftover


def without_launchers(images):
    """Drops the first exec of each process the harness started under `sealkit run`: that is the launcher itself,
    which then execs the program in the same pid; and the processes the launcher starts before that (`ld.so
    --list PROGRAM`, for the static TLS the program's libraries need). (Machine-wide, the first exec is the
    program.)"""
    launchers, out = {}, []
    for img in images:
        if img.tgid == img.top and img.tgid not in launchers:
            launchers[img.tgid] = img.seq
            continue
        if img.tgid != img.top and img.replaced is not None and img.replaced == launchers.get(img.top):
            continue  # a child the launcher forked, exec'ing
        out.append(img)
    return out


class Row:
    def __init__(self, name):
        self.name = name
        self.processes = 0
        self.processes_unsealed_run = 0
        self.sealed = 0
        self.objects_seen = 0
        self.objects_sealed = 0
        self.dlopen_unsealed = set()  # (exe, object) from live smaps
        self.dlopen_unconfirmed = set()  # unsealed at one look, process gone before the next: maybe mid-dlopen
        self.live_checked = 0
        self.static = []  # exes of statically linked processes: ld.so never runs, nothing can be injected
        self.unidentified = 0  # execs with no log line whose exe was gone before it could be read
        self.failures = []  # strings
        self.notes = []


def compare_steps(row, plain, sealed, normalise):
    if len(plain.steps) != len(sealed.steps):
        row.failures.append(f"different steps: unsealed ran {len(plain.steps)}, sealed {len(sealed.steps)}")
    for a, b in zip(plain.steps, sealed.steps):
        if a.rc != b.rc:
            row.failures.append(f"{a.label}: exit status {a.rc} unsealed, {b.rc} sealed; sealed stderr: "
                                f"{b.err.strip()[-600:]}")
        for stream in ("out", "err"):
            x = normalise(a.label, stream, getattr(a, stream), plain.dir)
            y = normalise(b.label, stream, getattr(b, stream), sealed.dir)
            if x != y:
                diff = list(difflib.unified_diff(x.splitlines(), y.splitlines(), "unsealed", "sealed", lineterm="",
                                                 n=1))
                row.failures.append(f"{a.label}: std{stream} differs:\n    " + "\n    ".join(diff[:30]))
        if a.rc != 0:
            row.notes.append(f"{a.label}: exits {a.rc} unsealed too")


def analyse(deploy, program, plain, sealed, tree):
    row = Row(program.name)
    compare_steps(row, plain, sealed, program.normalise)
    images = tree.images_of(sealed.tops)
    if deploy.launcher:
        images = without_launchers(images)
    row.processes_unsealed_run = len(tree.images_of(plain.tops)) if tree.sock else 0
    row.notes.append(f"the unsealed run made {row.processes_unsealed_run} process images")
    log = harness.read_log(sealed.log_path)
    startup = [ln for ln in log if ln.get("phase", "startup") == "startup"]
    for line in startup:
        row.objects_seen += line.get("objects_seen", 0)
        vdso = min(line.get("objects_skipped", 0), 1) if line.get("system_mappings_sealed", 0) else 0
        row.objects_sealed += line.get("objects_sealed", 0) + vdso
        if line.get("mseal_failures", 0):
            row.failures.append(f"mseal failure in {line.get('exe')} (pid {line.get('pid')}): "
                                f"{line.get('mseal_failures')} failed, first errno {line.get('first_errno')}")
        if line.get("objects_not_recorded", 0):
            row.failures.append(f"{line.get('exe')}: {line['objects_not_recorded']} objects not recorded")
        if line.get("injected_as") != deploy.injected_as:
            row.failures.append(f"{line.get('exe')} (pid {line.get('pid')}): sealed at start-up by the "
                                f"{line.get('injected_as')} object, not by the {deploy.injected_as} object that "
                                f"{deploy.name} deploys")
    if tree.sock is None:
        row.processes = len(startup)
        row.sealed = sum(1 for ln in startup if line_sealed(ln))
        row.notes.append(tree.error)
    else:
        pairs, leftover = match_images(images, startup)
        row.processes = len(pairs)
        for img, line in pairs:
            if line is not None:
                if line_sealed(line):
                    row.sealed += 1
                else:
                    row.failures.append(f"{img.exe} (pid {img.tgid}) not wholly sealed: {line}")
            elif img.linking == "static":
                row.static.append(img.exe)
            elif img.exe is None:
                row.unidentified += 1
            else:
                row.failures.append(f"{img.exe} (pid {img.tgid}, {img.linking}) has no log line: not sealed")
        if leftover:
            row.notes.append(f"{len(leftover)} log lines with no exec event (events lost: {tree.lost_events})")
        if program.same_processes and not tree.lost_events and row.processes != row.processes_unsealed_run:
            row.failures.append(f"the sealed run made {row.processes} process images, the unsealed one "
                                f"{row.processes_unsealed_run}: sealing changed what the program runs, or a process "
                                "of the launcher is counted as the program's")
        if tree.lost_events:
            row.notes.append("the kernel dropped process events: the process count is a lower bound")
    for (pid, exe), v in sorted(sealed.verdicts.items()):
        if v.state == "no-runtime":
            if elf_interp_of(exe) == "dynamic":
                row.failures.append(f"live {exe} (pid {pid}) has no runtime mapped: not sealed")
            continue
        row.live_checked += 1
        if v.recheck_failed and (v.unsealed_startup or v.system_unsealed):
            # Seen only once, during start-up before the runtime's pass, and gone before a second look: its
            # runtime log line (written after the pass, checked above) is the word on it.
            row.notes.append(f"live {exe} (pid {pid}) was looked at before the runtime's start-up pass and "
                             "exited before a second look; its log line decides")
        else:
            for path in v.unsealed_startup:
                row.failures.append(f"live {exe} (pid {pid}): start-up object {path} not sealed in smaps: "
                                    + "; ".join(d for d in v.details if path in d))
            for name in v.system_unsealed:
                row.failures.append(f"live {exe} (pid {pid}): {name} not sealed in smaps")
        for path in v.unsealed_dlopened:
            if v.recheck_failed:
                row.dlopen_unconfirmed.add((os.path.basename(exe), path))
            else:
                row.dlopen_unsealed.add((os.path.basename(exe), path))
    return row
