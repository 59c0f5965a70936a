"""What /proc/PID/smaps of a live process says about sealing, read here (not through sealkit's parser).

An ELF object is a file mapped at offset 0 that starts with the ELF magic; its VMAs are every mapping of that file
plus the anonymous VMA right after its last one when that is its bss. The object is sealed when every one of those
VMAs has `sl` in VmFlags. The start-up objects are those ld.so lists for the executable (ld.so --list), so an
unsealed object that is not one of them is a dlopen'd object.
"""
import os
import struct
import subprocess

RUNTIME_NAME = "libsealkit-runtime.so"  # sealkit run's LD_AUDIT
PRELOAD_NAME = "libsealkit-preload.so"  # LD_PRELOAD or /etc/ld.so.preload: a start-up object ld.so --list may omit
LDSO = "/lib64/ld-linux-x86-64.so.2"
_startup_cache = {}
_elf_cache = {}


def read_smaps(pid):
    """[(start, end, perms, offset, path, sealed)] or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            text = f.read()
    except OSError:
        return None
    vmas = []
    for line in text.splitlines():
        if line.startswith("VmFlags:"):
            if vmas:
                vmas[-1][5] = "sl" in line.split()[1:]
            continue
        parts = line.split(None, 5)
        if len(parts) >= 5 and "-" in parts[0] and len(parts[1]) == 4 and not parts[0].endswith(":"):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            vmas.append([start, end, parts[1], int(parts[2], 16), parts[5] if len(parts) > 5 else "", False])
    return vmas


def is_elf_file(path):
    if path not in _elf_cache:
        try:
            with open(path, "rb") as f:
                _elf_cache[path] = f.read(4) == b"\x7fELF"
        except OSError:
            _elf_cache[path] = False
    return _elf_cache[path]


def load_span(path):
    """(lowest p_vaddr rounded down to a page, highest p_vaddr + p_memsz) of the PT_LOAD segments, or None."""
    if ("span", path) not in _elf_cache:
        span = None
        try:
            with open(path, "rb") as f:
                head = f.read(64)
                phoff, = struct.unpack_from("<Q", head, 32)
                phentsize, phnum = struct.unpack_from("<HH", head, 54)
                f.seek(phoff)
                table = f.read(phentsize * phnum)
            loads = []
            for i in range(phnum):
                p_type, _, _, p_vaddr, _, _, p_memsz = struct.unpack_from("<IIQQQQQ", table, i * phentsize)
                if p_type == 1:
                    loads.append((p_vaddr, p_vaddr + p_memsz))
            if loads:
                span = (min(a for a, _ in loads) & ~0xFFF, max(b for _, b in loads))
        except (OSError, struct.error):
            pass
        _elf_cache[("span", path)] = span
    return _elf_cache[("span", path)]


def startup_objects(exe):
    """Real paths of the objects ld.so maps for exe at start-up (its DT_NEEDED closure, the program, ld.so)."""
    if exe not in _startup_cache:
        names = {os.path.realpath(exe), os.path.realpath(LDSO)}
        try:
            out = subprocess.run([LDSO, "--list", exe], capture_output=True, text=True, timeout=20,
                                 env={"PATH": "/usr/bin:/bin"}).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for line in out.splitlines():
            if "=>" in line:
                target = line.split("=>", 1)[1].split("(")[0].strip()
                if target.startswith("/"):
                    names.add(os.path.realpath(target))
            elif line.strip().startswith("/"):
                names.add(os.path.realpath(line.split("(")[0].strip()))
        _startup_cache[exe] = names
    return _startup_cache[exe]


class Verdict:
    """One look at one live process."""

    def __init__(self, pid, exe):
        self.pid = pid
        self.exe = exe
        self.state = "gone"  # gone | starting | no-runtime | checked
        self.objects = 0
        self.sealed_objects = 0
        self.unsealed_startup = []  # paths: a failure
        self.unsealed_dlopened = []  # paths: a left-over of today's runtime
        self.system_unsealed = []
        self.recheck_failed = False  # unsealed objects seen, then the process was gone before a second look
        self.details = []  # the VMAs of unsealed start-up objects, for the report

    def unsettled(self):
        """Something is unsealed that the runtime may still be about to seal."""
        return bool(self.unsealed_startup or self.system_unsealed or self.unsealed_dlopened)


def vdso_line(pid):
    """The [vdso] line of /proc/PID/maps: its address changes at every exec (ASLR), so two equal reads around a
    look at smaps prove no exec happened in between (an exec of the same program keeps the same exe)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return next((ln for ln in f if ln.rstrip().endswith("[vdso]")), None)
    except OSError:
        return None


def check(pid, runtime_name):
    """runtime_name: the injected object whose own VMAs, once sealed, mean the start-up pass is done (the audit
    module under `sealkit run`, the preload object machine-wide)."""
    try:
        before = vdso_line(pid)
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return Verdict(pid, None)
    v = Verdict(pid, exe)
    vmas = read_smaps(pid)
    try:
        if not vmas or before is None or vdso_line(pid) != before or os.readlink(f"/proc/{pid}/exe") != exe:
            return v  # gone, or exec'd meanwhile: this look says nothing
    except OSError:
        return v
    vdso = before.split()[0].split("-")
    if not any(m[4] == "[vdso]" and m[0] == int(vdso[0], 16) for m in vmas):
        return v  # smaps was read across an exec
    runtime = [m for m in vmas if m[4].endswith(runtime_name)]
    if not runtime:
        v.state = "no-runtime"
        return v
    if not all(m[5] for m in runtime):
        v.state = "starting"  # the start-up pass has not reached the injected object yet
        return v
    v.state = "checked"
    objects = {}  # path -> [vmas]
    for m in vmas:
        path = m[4]
        if path.startswith("/") and m[3] == 0 and path not in objects and is_elf_file(path):
            objects[path] = []
    for path in objects:
        span = load_span(path)
        base = min(m[0] for m in vmas if m[4] == path and m[3] == 0)
        end = base + ((span[1] - span[0] + 0xFFF) & ~0xFFF) if span else None
        mine = [m for m in vmas if m[4] == path and (end is None or base <= m[0] < end)]
        last = max(m[1] for m in mine)
        # The bss past the file: anonymous VMAs from the end of the last file VMA up to the end of the last segment.
        bss = [m for m in vmas if end and m[4] == "" and last <= m[0] < end]
        objects[path] = mine + bss
    startup = startup_objects(exe)
    for path, ms in objects.items():
        v.objects += 1
        if all(m[5] for m in ms):
            v.sealed_objects += 1
        elif path.endswith((RUNTIME_NAME, PRELOAD_NAME)) or os.path.realpath(path) in startup:
            v.unsealed_startup.append(path)
            v.details += [f"{m[0]:x}-{m[1]:x} {m[2]} {m[3]:x} {m[4]} sealed={m[5]}" for m in ms]
        else:
            v.unsealed_dlopened.append(path)
    for m in vmas:
        if m[4] in ("[vdso]", "[vvar]", "[vvar_vclock]", "[stack]") and not m[5]:
            v.system_unsealed.append(m[4])
    return v
