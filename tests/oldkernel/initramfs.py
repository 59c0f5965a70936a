"""The guest's initramfs: a newc cpio archive (uncompressed: the kernel then has nothing to inflate, which under
software emulation saves seconds) holding busybox, tests/oldkernel/init, the build tree's ELF objects at their host
paths, a few Debian programs, and every shared library all of these need, each at the path it has here (symlinks
included: /bin -> usr/bin, /lib64/ld-linux-x86-64.so.2 -> ..., libfoo.so.1 -> libfoo.so.1.2.3).
"""
import os
import re
import stat
import subprocess

# Dynamically linked Debian programs that init runs plainly and under `sealkit run` (and the shell the tests use).
# getent and iconv: tests/runtime's NSS and gconv cases (glibc's own dlopens), with what those load; setpriv: the
# machine-wide test's setuid case.
DEBIAN_PROGRAMS = ["/usr/bin/true", "/usr/bin/ls", "/usr/bin/cat", "/usr/bin/wc", "/usr/bin/echo", "/usr/bin/env",
                   "/usr/bin/sh", "/bin/sh", "/bin/true", "/bin/ls", "/bin/echo", "/usr/bin/python3",
                   "/usr/bin/getent", "/usr/bin/iconv", "/usr/bin/setpriv"]
DEBIAN_FILES = ["/etc/nsswitch.conf", "/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2",
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache",
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d", "/usr/lib/x86_64-linux-gnu/gconv/ISO8859-1.so"]
# What init's python3 step imports (tests/oldkernel/init, py_script): json, and decimal, whose C part is an
# extension module ld.so loads with dlopen at run time (with libmpdec), the path libsealkit-preload.so handles.
# xml.etree.ElementTree (pyexpat, libexpat): tests/cli/map_test.cpp parses sealkit map's SVG with it.
PYTHON_IMPORTS = ["json", "decimal", "xml.etree.ElementTree"]
# Build-tree directories that hold no object the guest needs (and our own output).
SKIP_DIRS = {"CMakeFiles", "Testing", "_deps", ".cmake"}


class Image:
    def __init__(self):
        self.entries = {}  # guest path -> (kind, mode, payload): payload is a host path, bytes, a link target or rdev

    def _parents(self, path):
        parent = os.path.dirname(path)
        while parent not in ("/", ""):
            if parent not in self.entries:
                self.entries[parent] = ("dir", 0o755, None)
            parent = os.path.dirname(parent)

    def dir(self, path, mode=0o755):
        self._parents(path)
        self.entries.setdefault(path, ("dir", mode, None))

    def file(self, path, source=None, data=None, mode=0o644):
        self._parents(path)
        self.entries[path] = ("file", mode, source if source is not None else data)

    def symlink(self, path, target):
        self._parents(path)
        self.entries[path] = ("symlink", 0o777, target)

    def chardev(self, path, major, minor, mode=0o600):
        self._parents(path)
        self.entries[path] = ("chardev", mode, (major, minor))

    def host_path(self, path, source=None):
        """Adds `path` as it is on this machine: every symlink on the way (in a directory or the last component)
        becomes the same symlink in the image and is followed. `source`, when given, replaces the final file's
        content (a stripped copy)."""
        path = os.path.normpath(path)
        parts = path.strip("/").split("/")
        for depth in range(1, 40):  # bounded: a symlink loop must not hang the build
            cur = ""
            for i, part in enumerate(parts):
                cur += "/" + part
                if os.path.islink(cur):
                    target = os.readlink(cur)
                    self.symlink(cur, target)
                    resolved = os.path.normpath(os.path.join(os.path.dirname(cur), target))
                    parts = resolved.strip("/").split("/") + parts[i + 1:]
                    break
                if i == len(parts) - 1:
                    st = os.stat(cur)
                    if stat.S_ISDIR(st.st_mode):
                        self.dir(cur, stat.S_IMODE(st.st_mode))
                    else:
                        self.file(cur, source=source or cur, mode=stat.S_IMODE(st.st_mode))
                    return cur
            else:
                return None
        raise RuntimeError(f"too many symlinks resolving {path}")

    def write(self, out_path):
        ino = 1
        with open(out_path, "wb") as out:
            for path in sorted(self.entries):
                kind, mode, payload = self.entries[path]
                rdev = (0, 0)
                if kind == "dir":
                    fmode, data = stat.S_IFDIR | mode, b""
                elif kind == "symlink":
                    fmode, data = stat.S_IFLNK | mode, payload.encode()
                elif kind == "chardev":
                    fmode, data, rdev = stat.S_IFCHR | mode, b"", payload
                elif isinstance(payload, bytes):
                    fmode, data = stat.S_IFREG | mode, payload
                else:
                    with open(payload, "rb") as f:
                        fmode, data = stat.S_IFREG | mode, f.read()
                _record(out, ino, fmode, path.lstrip("/"), data, rdev)
                ino += 1
            _record(out, 0, 0, "TRAILER!!!", b"", (0, 0))


def _record(out, ino, mode, name, data, rdev):
    name_bytes = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name_bytes), 0]
    header = b"070701" + b"".join(b"%08x" % v for v in fields)
    out.write(header + name_bytes + b"\0" * (-(len(header) + len(name_bytes)) % 4))
    out.write(data + b"\0" * (-len(data) % 4))


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_libraries(paths):
    """Every shared library (and the dynamic loader) the given ELF files need, as ldd resolves them here."""
    found = set()
    for p in paths:
        r = subprocess.run(["ldd", p], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s*\(", line)
            if m:
                found.add(m.group(1))
            elif "not found" in line:
                raise RuntimeError(f"{p}: {line.strip()}")
    return found


def python_files(python, imports):
    """The files Debian's python3 reads to run `import <imports>` with -I -S (and os.py, its prefix landmark)."""
    code = ("import sys, os, " + ", ".join(imports) + "\n"
            "print('\\n'.join(m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)))\n"
            "print(os.__file__)")
    r = subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    return sorted(set(r.stdout.split()))


def build_tree_objects(build, skip):
    """ELF files of the build tree (executables, shared objects), and the symlinks to them (libsealkit.so.0)."""
    files, links = [], []
    for root, dirs, names in os.walk(build):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and os.path.join(root, d) not in skip]
        for n in names:
            p = os.path.join(root, n)
            if os.path.islink(p):
                if is_elf(p) and os.path.realpath(p).startswith(build + os.sep):
                    links.append(p)
            elif n.endswith((".o", ".a")):
                continue
            elif is_elf(p):
                files.append(p)
    return sorted(files), sorted(links)


def populate(image, build, init, busybox, settings, scratch, skip=(), modules=()):
    """Fills `image`; stripped copies of the build tree's objects go to `scratch` (the caller removes it after
    Image.write). `skip`: directories of the build tree to leave out (the harness's own output)."""
    for d in ("/proc", "/sys", "/dev", "/tmp", "/root", "/run", "/mnt"):
        image.dir(d)
    image.chardev("/dev/console", 5, 1)  # the kernel opens it for PID 1 before init mounts devtmpfs
    image.chardev("/dev/null", 1, 3, 0o666)
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):  # Debian's merged /usr, as here
        if os.path.islink("/" + top):
            image.symlink("/" + top, os.readlink("/" + top))
    image.file("/bb/busybox", source=busybox, mode=0o755)
    for host, guest in modules:  # init loads each with insmod
        image.file(guest, source=host)
    image.file("/init", source=init, mode=0o755)
    image.file("/etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n")
    image.file("/etc/group", data=b"root:x:0:\n")
    for key, value in settings.items():
        image.file("/etc/sealkit-oldkernel/" + key, data=(value + "\n").encode())

    files, links = build_tree_objects(build, skip)
    os.makedirs(scratch, exist_ok=True)
    for i, p in enumerate(files):
        # Debug info is most of a RelWithDebInfo binary's size, and the guest needs none of it.
        copy = os.path.join(scratch, str(i))
        if subprocess.run(["strip", "--strip-debug", "-o", copy, p], capture_output=True).returncode != 0:
            copy = p
        image.file(p, source=copy, mode=stat.S_IMODE(os.stat(p).st_mode))
    for p in links:
        image.symlink(p, os.readlink(p))

    programs = [p for p in DEBIAN_PROGRAMS + DEBIAN_FILES if os.path.exists(p)]
    for p in programs:
        if os.path.isdir(p):
            for n in sorted(os.listdir(p)):
                image.host_path(os.path.join(p, n))
        else:
            image.host_path(p)
    python = os.path.realpath("/usr/bin/python3")
    py_files = python_files(python, PYTHON_IMPORTS) if os.path.exists(python) else []
    for p in py_files:
        image.host_path(p)

    elf = files + [os.path.realpath(p) for p in programs if is_elf(p)] + [p for p in py_files if p.endswith(".so")]
    libs = needed_libraries(elf)
    for lib in sorted(libs):
        if not lib.startswith(build + os.sep):
            image.host_path(lib)
    return {"files": sum(1 for e in image.entries.values() if e[0] == "file"), "elf": len(files),
            "libs": len([l for l in libs if not l.startswith(build + os.sep)])}
