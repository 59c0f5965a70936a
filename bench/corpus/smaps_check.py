"""What /proc/PID/smaps of a live process says about sealing, read here (not through sealkit's parser).

An ELF object is a file mapped at offset 0 that starts with the ELF magic; its VMAs are every mapping of that file
plus the anonymous VMA right after its last one when that is its bss. The object is sealed when every one of those
VMAs has `sl` in VmFlags. The start-up objects are those ld.so lists for the executable (ld.so --list), so an
unsealed object that is not one of them is a dlopen'd object.
"""
import os
import subprocess

RUNTIME_NAME = "libsealkit-runtime.so"
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


def check(pid):
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return Verdict(pid, None)
    v = Verdict(pid, exe)
    vmas = read_smaps(pid)
    try:
        if not vmas or os.readlink(f"/proc/{pid}/exe") != exe:
            return v  # gone, or exec'd meanwhile: this look says nothing
    except OSError:
        return v
    runtime = [m for m in vmas if m[4].endswith(RUNTIME_NAME)]
    if not runtime:
        v.state = "no-runtime"
        return v
    if not all(m[5] for m in runtime):
        v.state = "starting"  # the runtime seals itself after every other object: not done yet
        return v
    v.state = "checked"
    objects = {}  # path -> [vmas]
    for i, m in enumerate(vmas):
        path = m[4]
        if not path.startswith("/") or path.endswith(" (deleted)"):
            continue
        if path not in objects:
            if m[3] != 0 or not is_elf_file(path):
                continue
            objects[path] = []
        objects[path].append(m)
        nxt = vmas[i + 1] if i + 1 < len(vmas) else None
        if nxt and nxt[4] == "" and nxt[0] == m[1] and "w" in m[2] and "w" in nxt[2]:
            objects[path].append(nxt)  # the bss past the file
    startup = startup_objects(exe)
    for path, ms in objects.items():
        v.objects += 1
        if all(m[5] for m in ms):
            v.sealed_objects += 1
        elif path.endswith(RUNTIME_NAME) or os.path.realpath(path) in startup:
            v.unsealed_startup.append(path)
        else:
            v.unsealed_dlopened.append(path)
    for m in vmas:
        if m[4] in ("[vdso]", "[vvar]", "[vvar_vclock]", "[stack]") and not m[5]:
            v.system_unsealed.append(m[4])
    return v
