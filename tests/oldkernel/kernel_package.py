"""Debian 12's own kernel, taken from its package without installing it: the package linux-image-amd64 depends on
(linux-image-6.1.0-N-amd64) is fetched with `apt-get download`, and only /boot/vmlinuz-* and the few MODULES are
unpacked from it (dpkg-deb). Booting needs no module (initramfs and serial console are built in); overlayfs is a
module, and tests/runtime's machine-wide test mounts an overlay on /etc.
"""
import glob
import os
import re
import shutil
import subprocess

META = "linux-image-amd64"
MODULES = ["kernel/fs/overlayfs/overlay.ko"]  # below lib/modules/RELEASE/


class Unavailable(Exception):
    pass


def _run(cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _image_package():
    """The versioned image package that linux-image-amd64 depends on now, e.g. linux-image-6.1.0-56-amd64."""
    r = _run(["apt-cache", "depends", META])
    m = re.search(r"Depends:\s*(linux-image-\S+)", r.stdout)
    return m.group(1) if m else None


def _apt_update(log):
    if os.geteuid() != 0:
        return False
    log("refreshing apt's package lists (apt-get update)")
    return _run(["apt-get", "update", "-qq"]).returncode == 0


def _cached(cache):
    found = sorted(glob.glob(os.path.join(cache, "boot", "vmlinuz-*")))
    return found[-1] if found else None


def modules(vmlinuz):
    """The modules unpacked beside `vmlinuz` (cache/boot/vmlinuz-R): [(path here, path in the guest)]."""
    root = os.path.dirname(os.path.dirname(vmlinuz))
    release = os.path.basename(vmlinuz)[len("vmlinuz-"):]
    out = []
    for m in MODULES:
        rel = os.path.join("lib", "modules", release, m)
        if os.path.exists(os.path.join(root, rel)):
            out.append((os.path.join(root, rel), "/usr/" + rel))
    return out


def vmlinuz(cache, refresh=False, log=print):
    """Path of a 6.1 vmlinuz in `cache`, downloading the package first when none is there (or when `refresh`)."""
    os.makedirs(cache, exist_ok=True)
    have = _cached(cache)
    if have and not refresh:
        log(f"kernel: {have} (cached; --refresh-kernel asks apt again)")
        return have
    for tool in ("apt-cache", "apt-get", "dpkg-deb"):
        if _run(["sh", "-c", f"command -v {tool}"]).returncode != 0:
            raise Unavailable(f"{tool} not found (not a Debian system?)")
    package = _image_package()
    if not package and _apt_update(log):
        package = _image_package()
    if not package:
        raise Unavailable(f"apt does not know {META} (no package lists, and apt-get update failed or needs root)")
    for old in glob.glob(os.path.join(cache, "*.deb")):
        os.remove(old)
    r = _run(["apt-get", "download", "-q", package], cwd=cache)
    if r.returncode != 0 and _apt_update(log):
        package = _image_package() or package
        r = _run(["apt-get", "download", "-q", package], cwd=cache)
    debs = glob.glob(os.path.join(cache, package + "_*.deb"))
    if r.returncode != 0 or not debs:
        raise Unavailable(f"apt-get download {package} failed: {r.stderr.strip()[-300:]}")
    deb = debs[0]
    for old in ("boot", "lib"):
        shutil.rmtree(os.path.join(cache, old), ignore_errors=True)
    # Only the kernel image and MODULES: all of the package's modules are hundreds of MiB unpacked.
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    x = subprocess.run(["tar", "-x", "-C", cache, "--wildcards", "./boot/vmlinuz-*"]
                       + ["./lib/modules/*/" + m for m in MODULES],
                       stdin=tar.stdout, capture_output=True, text=True)
    tar.stdout.close()
    if tar.wait() != 0 or x.returncode != 0:
        raise Unavailable(f"cannot unpack {deb}: {x.stderr.strip()[-300:]}")
    version = _run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()
    os.remove(deb)
    path = _cached(cache)
    if not path:
        raise Unavailable(f"{deb} holds no boot/vmlinuz-*")
    with open(os.path.join(cache, "package.txt"), "w") as f:
        f.write(f"{package} {version}\n")
    log(f"kernel: {path} from {package} {version}")
    return path
