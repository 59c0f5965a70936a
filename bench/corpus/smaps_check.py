"""What /proc/PID/smaps of a live process says about sealing, read here (not through sealkit's parser).

An ELF object is a file mapped at offset 0 that starts with the ELF magic; its VMAs are every mapping of that file
plus the anonymous VMA right after its last one when that is its bss, but for those wholly inside the pages the runtime
leaves unsealed on purpose (PT_GNU_MUTABLE and mutable sections, mutable_ranges). The object is sealed when every one
of those VMAs has `sl` in VmFlags. The start-up objects are those ld.so lists for the executable (ld.so --list), so an
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


def mutable_ranges(path):
    """[(lo, hi)] file addresses of the pages sealkit leaves unsealed in the object, rounded out to pages:
    PT_GNU_MUTABLE, and each allocated, writable, not executable, non-TLS section aligned to a page or more (its
    mutable sections, docs/runtime.md) inside a writable PT_LOAD and outside RELRO (rounded down at both ends, as
    ld.so protects it). Read here from the section table, not through sealkit's code."""
    key = ("mutable", path)
    if key not in _elf_cache:
        out = []
        try:
            with open(path, "rb") as f:
                head = f.read(64)
                phoff, shoff = struct.unpack_from("<QQ", head, 32)
                phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", head, 54)
                f.seek(phoff)
                table = f.read(phentsize * phnum)
                f.seek(shoff)
                sections = f.read(shentsize * shnum) if shoff and shentsize == 64 else b""
            loads, relro = [], None
            for i in range(phnum):
                p_type, p_flags, _, p_vaddr, _, _, p_memsz = struct.unpack_from("<IIQQQQQ", table, i * phentsize)
                if p_type == 1:
                    loads.append((p_vaddr & ~0xFFF, (p_vaddr + p_memsz + 0xFFF) & ~0xFFF, bool(p_flags & 2)))
                elif p_type == 0x6474F552:
                    relro = (p_vaddr & ~0xFFF, (p_vaddr + p_memsz) & ~0xFFF)
                elif p_type == 0x6474F555:
                    out.append((p_vaddr & ~0xFFF, (p_vaddr + p_memsz + 0xFFF) & ~0xFFF))
            for i in range(len(sections) // 64):
                _, _, flags, addr, _, size, _, _, align, _ = struct.unpack_from("<IIQQQQIIQQ", sections, i * 64)
                if flags & 0x407 != 0x3 or size == 0 or align < 4096 or addr % 4096:
                    continue
                lo, hi = addr, (addr + size + 0xFFF) & ~0xFFF
                seg = next((s for s in loads if s[2] and s[0] <= lo < s[1]), None)
                if seg is None:
                    continue
                hi = min(hi, seg[1])
                if relro and lo < relro[1] and relro[0] < hi:
                    lo, hi = (relro[1], hi) if lo >= relro[0] else (lo, relro[0])
                if lo < hi:
                    out.append((lo, hi))
        except (OSError, struct.error):
            pass
        merged = []  # touching ranges as one: unsealed neighbours can share a VMA
        for lo, hi in sorted(out):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        _elf_cache[key] = merged
    return _elf_cache[key]


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
        # Minus the VMAs the runtime leaves unsealed on purpose (mseal splits VMAs at their edges).
        bias = base - span[0] if span else 0
        keep = [(lo + bias, hi + bias) for lo, hi in mutable_ranges(path)]
        objects[path] = [m for m in mine + bss if not any(lo <= m[0] and m[1] <= hi for lo, hi in keep)]
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
