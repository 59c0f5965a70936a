"""The two ways the sealed run is sealed, as docs/runtime.md describes them:

- sealkit-run: each command is started as `sealkit run --log L -- COMMAND` (the audit module, with the preload
  object beside it; without --runtime sealkit names the objects of both ELF classes that lie next to it, so a
  32-bit program the tree starts is sealed too); the first exec of each command is the launcher itself.
- machine-wide: sealkit installed into /usr and switched on with /etc/ld.so.preload, in a private mount namespace
  of this process (overlays over /usr and /etc, a tmpfs over ldconfig's aux-cache) so the host's files are never
  touched. Commands run as they are; the preload object seals them and writes its line to SEALKIT_LOG. The
  unsealed run sees an empty /etc/ld.so.preload.
"""
import ctypes
import os
import shutil
import subprocess
import tempfile

RUNTIME_NAME = "libsealkit-runtime.so"
PRELOAD_NAME = "libsealkit-preload.so"
PRELOAD_FILE = "/etc/ld.so.preload"
SHIPPED_LINE = "/usr/share/sealkit/ld.so.preload"
CLONE_NEWNS = 0x00020000


class DeploymentError(Exception):
    """The sealed runs cannot be set up; the message says what to do."""


class SealkitRun:
    name = "sealkit-run"
    injected_as = "audit"  # the log line's "injected_as": the audit module seals start-up
    runtime_name = RUNTIME_NAME  # mapped in every sealed process; sealed once the start-up pass is done

    def __init__(self, sealkit, runtime):
        self.sealkit, self.runtime = sealkit, runtime
        self.launcher = os.path.realpath(sealkit)

    def _run(self):
        return [self.sealkit, "run"] + (["--runtime", self.runtime] if self.runtime else [])

    def argv(self, argv, log_path):
        return self._run() + ["--log", log_path, "--"] + list(argv)

    def ready(self):
        """None when `sealkit run` starts a program; else what it said, so the corpus stops before comparing."""
        p = subprocess.run(self._run() + ["--", "/bin/true"], capture_output=True, text=True)
        return None if p.returncode == 0 else f"{' '.join(self._run())} -- /bin/true: exit {p.returncode}: {p.stderr}"

    def env(self, log_path):
        return {}

    def switch(self, sealed):
        pass

    def leave(self):
        pass


class MachineWide:
    name = "machine-wide"
    injected_as = "preload"
    runtime_name = PRELOAD_NAME  # /etc/ld.so.preload maps only the preload object
    launcher = None

    def __init__(self, build_dir):
        self.build_dir = build_dir
        self.scratch = None
        self.mounts = []
        self.line = None
        self.preload_objects = []

    def argv(self, argv, log_path):
        return list(argv)

    def env(self, log_path):
        return {"SEALKIT_LOG": log_path}

    def switch(self, sealed):
        """The installed line in /etc/ld.so.preload for the sealed run, an empty file for the unsealed one."""
        with open(PRELOAD_FILE, "w") as f:
            f.write(self.line if sealed else "")

    def enter(self):
        """Moves this (still single-threaded) process into its own mount namespace and deploys sealkit there as
        docs/runtime.md "Machine-wide" says. Every process started afterwards inherits the namespace."""
        if os.geteuid() != 0:
            raise DeploymentError("--mode machine-wide needs root (a private mount namespace over /usr and /etc); "
                                  "run it with sudo")
        cache = os.path.join(self.build_dir, "CMakeCache.txt")
        libdirs = _cache_values(cache, ("SEALKIT_RUNTIME_LIBDIR", "SEALKIT_RUNTIME_LIBDIR_I386"))
        if not libdirs.get("SEALKIT_RUNTIME_LIBDIR"):
            raise DeploymentError(f"{cache}: no SEALKIT_RUNTIME_LIBDIR: --sealkit must be bin/sealkit of a "
                                  "configured and built sealkit build tree (cmake --install installs that tree)")
        # Python 3.11 has no os.unshare; the C library's wrapper is the system call itself.
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS) != 0:
            raise DeploymentError(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
        _run(["mount", "--make-rprivate", "/"])
        self.scratch = tempfile.mkdtemp(prefix="sealkit-corpus-mw-")
        self._mount(["-t", "tmpfs", "sealkit-corpus", self.scratch])
        for d in ("/usr", "/etc"):
            layer = os.path.join(self.scratch, d.strip("/"))
            os.makedirs(layer + "/upper")
            os.makedirs(layer + "/work")
            self._mount(["-t", "overlay", "overlay", "-o",
                         f"lowerdir={d},upperdir={layer}/upper,workdir={layer}/work", d])
        if os.path.isdir("/var/cache/ldconfig"):
            self._mount(["-t", "tmpfs", "-o", "mode=0700", "sealkit-corpus", "/var/cache/ldconfig"])
        env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
        _run(["cmake", "--install", self.build_dir, "--prefix", "/usr"], env=env)
        for key in ("SEALKIT_RUNTIME_LIBDIR", "SEALKIT_RUNTIME_LIBDIR_I386"):
            obj = f"/usr/{libdirs[key]}/sealkit/{PRELOAD_NAME}" if libdirs.get(key) else None
            if obj and os.path.isfile(obj):
                # The set-user-ID bit: ld.so takes a preload from its trusted directories in secure execution
                # only with it (docs/runtime.md, "Machine-wide").
                os.chmod(obj, 0o4644)
                self.preload_objects.append(obj)
        if not self.preload_objects:
            raise DeploymentError(f"cmake --install {self.build_dir} installed no {PRELOAD_NAME}: build the whole "
                                  "tree first (cmake --build --preset default)")
        _run(["ldconfig"])
        with open(SHIPPED_LINE) as f:
            self.line = f.read()
        if not self.line.strip():
            raise DeploymentError(f"{SHIPPED_LINE} is empty")
        self.switch(False)

    def _mount(self, args):
        _run(["mount"] + args)
        self.mounts.append(args[-1])

    def leave(self):
        """Unmounts (lazily: this process still has files open in them) and removes the scratch directory, which
        the host sees as an empty directory."""
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], check=False)
        self.mounts = []
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _run(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise DeploymentError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-600:]}")


def _cache_values(path, keys):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.rstrip("\n").partition("=")
                if name.split(":")[0] in keys:
                    out[name.split(":")[0]] = value
    except OSError as e:
        raise DeploymentError(f"{path}: {e.strerror}: --sealkit must be bin/sealkit of a sealkit build tree")
    return out
