"""The corpus: real programs nobody here wrote, each run the same way sealed and unsealed. Each normalise() says
exactly which parts of the output are allowed to differ between two runs (times, counts of timed work), no more."""
import os
import re
import shutil
import subprocess

INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inputs")
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Program:
    name = "?"
    packages = []  # Debian packages it needs beyond scripts/bootstrap's default list
    commands = []  # executables that must exist
    smoke = False
    user = None
    same_processes = True  # the unsealed and sealed runs exec the same number of process images

    def missing(self, which):
        """What is not installed, so that a program that cannot run is reported, never compared as two failures."""
        return [c for c in self.commands if not which(c)]

    def prepare(self, ctx):
        pass

    def run(self, ctx):
        raise NotImplementedError

    def cleanup(self, ctx):
        pass

    def normalise(self, label, stream, text, workdir):
        return text


def copy_input(ctx, name):
    shutil.copy(os.path.join(INPUTS, name), os.path.join(ctx.dir, name))


class Shell(Program):
    name, commands, smoke = "bash+coreutils", ["bash"], True

    def run(self, ctx):
        copy_input(ctx, "shell.sh")
        ctx.call("shell.sh", ["bash", "shell.sh"])


class Perl(Program):
    name, commands, smoke = "perl", ["perl"], True

    def run(self, ctx):
        copy_input(ctx, "perl.pl")
        ctx.call("perl.pl", ["perl", "perl.pl"])


class Git(Program):
    name, commands, smoke = "git", ["git"], True

    def run(self, ctx):
        copy_input(ctx, "git.sh")
        ctx.call("git.sh", ["bash", "git.sh"])


class Sqlite(Program):
    name, packages, commands, smoke = "sqlite3", ["sqlite3"], ["sqlite3"], True

    def run(self, ctx):
        copy_input(ctx, "sqlite.sql")
        ctx.call("sqlite.sql", ["sqlite3", "-bail", "db.sqlite", ".read sqlite.sql"])


class Python(Program):
    """Part of CPython's own test suite (Debian's libpython3.11-testsuite), in worker processes (-j0)."""
    name, packages, commands = "python3 -m test", ["libpython3.11-testsuite"], ["/usr/bin/python3"]
    same_processes = False  # -j0's workers are restarted as tests finish: how many depends on timing
    tests = ["test_json", "test_ctypes", "test_hashlib", "test_zlib", "test_bz2", "test_lzma", "test_struct",
             "test_unicodedata", "test_csv", "test_array", "test_pickle", "test_decimal", "test_datetime"]

    def __init__(self, smoke_set=False):
        if smoke_set:
            self.tests, self.smoke = ["test_json", "test_ctypes", "test_zlib"], True

    def missing(self, which):
        tests = [t for t in self.tests if not os.path.exists(f"/usr/lib/python3.11/test/{t}") and
                 not os.path.exists(f"/usr/lib/python3.11/test/{t}.py")]
        return super().missing(which) + [f"python test {t}" for t in tests]

    def run(self, ctx):
        ctx.call("regrtest", ["/usr/bin/python3", "-m", "test", "-j0", "--junit-xml", "junit.xml"] + self.tests)
        try:
            with open(os.path.join(ctx.dir, "junit.xml")) as f:
                xml = f.read()
        except OSError:
            xml = ""
        # One line per test case with its outcome: the comparison that matters, independent of timing.
        cases = re.findall(r'<testcase ([^>]*?)(?:/>|>(.*?)</testcase>)', xml, re.S)
        outcome = sorted(f"{_attr(attrs, 'classname')}.{_attr(attrs, 'name')} {_junit_outcome(body)}"
                         for attrs, body in cases)
        ctx.steps.append(type(ctx.steps[-1])("junit.xml", 0, "\n".join(outcome) + f"\n{len(outcome)} cases\n", ""))

    def normalise(self, label, stream, text, workdir):
        if label != "regrtest":
            return text
        # -j0 prints each test as it finishes, in a varying order, with the elapsed time and load average, and the
        # total duration: keep each test's result line without those, sorted, and the summary lines.
        keep = []
        for line in text.splitlines():
            line = re.sub(r"^\d+:\d\d:\d\d (load avg: [\d.]+ )?", "", line)
            line = re.sub(r"^\[ *\d+/\d+(/\d+)?\] ", "", line)
            line = re.sub(r" \(\d[\d.]* (sec|ms)\)", "", line)
            line = re.sub(r" \d+ min \d+ sec", "", line)
            if re.match(r"^(Total duration:|Run tests in parallel|== |0:|Using random seed)", line):
                continue
            if "-- running:" in line or line.startswith("running:") or line.startswith("== Tests result"):
                continue
            keep.append(line)
        return "\n".join(sorted(keep))


def _attr(attrs, name):
    m = re.search(rf'\b{name}="([^"]*)"', attrs)
    return m.group(1) if m else ""


def _junit_outcome(body):
    for kind in ("failure", "error", "skipped"):
        if f"<{kind}" in (body or ""):
            return kind
    return "ok"


class OpenSSL(Program):
    name, commands, smoke = "openssl", ["openssl"], True

    def run(self, ctx):
        with open(os.path.join(ctx.dir, "data"), "wb") as f:
            f.write(bytes(range(256)) * 4096)
        ctx.call("dgst", ["openssl", "dgst", "-sha256", "-sha512", "data"])
        ctx.call("enc", ["bash", "-c", "openssl enc -aes-256-cbc -K " + "11" * 32 + " -iv " + "22" * 16 +
                         " -in data | openssl dgst -sha256 -r"])
        ctx.call("speed", ["openssl", "speed", "-seconds", "1", "-bytes", "1024", "-mr", "sha256"])

    def normalise(self, label, stream, text, workdir):
        if label == "speed":
            # Machine-readable speed output: +R lines carry the count done in the time given, +F the rates.
            text = re.sub(r"^\+R:\d+:(\S+?):[\d.]+$", r"+R:<count>:\1:<seconds>", text, flags=re.M)
            text = re.sub(r"^(\+F:\d+:\S+?)(:[\d.]+)+$", r"\1:<rates>", text, flags=re.M)
        return text


class Node(Program):
    name, commands, smoke = "node", ["node"], False

    def run(self, ctx):
        copy_input(ctx, "node.js")
        ctx.call("node.js", ["node", "node.js"])


class Java(Program):
    name, commands = "java (javac + JIT)", ["javac", "java"]

    def run(self, ctx):
        copy_input(ctx, "Corpus.java")
        ctx.call("javac", ["javac", "-d", "classes", "Corpus.java"])
        ctx.call("java", ["java", "-cp", "classes", "Corpus"])


class Build(Program):
    """cmake, make and gcc building this repository's library, command-line tool and runtime (Release, no debug
    information, so the objects of the two builds can be compared byte for byte)."""
    name, commands = "cmake+make+gcc", ["cmake", "make", "g++"]
    targets = ["sealkit_static", "sealkit_runtime", "sealkit_cli"]

    def prepare(self, ctx):
        # One copy of the committed source for both builds, so that edits made meanwhile cannot differ them.
        self.src = os.path.join(os.path.dirname(ctx.dir), "build-source")
        if not os.path.isdir(self.src):
            os.makedirs(self.src)
            archive = subprocess.run(["git", "-C", SOURCE_ROOT, "archive", "HEAD"], capture_output=True)
            if archive.returncode == 0:
                subprocess.run(["tar", "x", "-C", self.src], input=archive.stdout, check=True)
            else:  # not a git checkout: copy the tree as it is
                shutil.copytree(SOURCE_ROOT, self.src, dirs_exist_ok=True, ignore=shutil.ignore_patterns("build"))

    def run(self, ctx):
        ctx.call("cmake", ["cmake", "-S", self.src, "-B", "build", "-G", "Unix Makefiles",
                           "-DCMAKE_BUILD_TYPE=Release", "-DSEALKIT_BUILD_TESTS=OFF", "-DSEALKIT_BUILD_BENCH=OFF"])
        ctx.call("make", ["make", "-C", "build", "-j2", "--no-print-directory"] + self.targets)
        sums = []
        for root, _, files in os.walk(os.path.join(ctx.dir, "build")):
            for f in files:
                if f.endswith((".o", ".a", ".so")) or f == "sealkit":
                    sums.append(f"{os.path.relpath(os.path.join(root, f), ctx.dir)} {_sha256(os.path.join(root, f))}")
        ctx.steps.append(type(ctx.steps[-1])("artefacts", 0, "\n".join(sorted(sums)) + "\n", ""))

    def normalise(self, label, stream, text, workdir):
        if label == "make":
            # -j2 runs jobs in a varying order, and each line's percentage is the progress at the time it printed.
            return "\n".join(sorted(re.sub(r"^\[ *\d+%\] ", "", ln) for ln in text.splitlines()))
        return text


def _sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Chromium(Program):
    """Debian's chromium, headless: renders a page with text, a table and a canvas drawn by script, and writes a
    screenshot whose SHA-256 is compared. Its V8 freezes its flags read-only after start-up and its protected_memory
    section goes read-only and writable again: the page-aligned writable sections sealkit leaves unsealed
    (docs/runtime.md, "Mutable sections"). `sandboxed`: as an ordinary user with Chromium's own sandbox (user
    namespaces); otherwise as root with --no-sandbox, the way containers run it."""
    packages, commands = ["chromium"], ["/usr/lib/chromium/chromium"]
    same_processes = False  # zygotes and utility processes come and go with timing
    page = ("data:text/html,<title>sealkit</title><h1>corpus</h1><table border=1><tr><td>sealed</td><td>42</td>"
            "</tr></table><canvas id=c width=120 height=60></canvas><script>var x=document.getElementById('c')"
            ".getContext('2d');x.fillStyle='%23c33';x.fillRect(10,10,100,40);document.title='done'</script>")

    def __init__(self, sandboxed):
        self.sandboxed = sandboxed
        self.name = "chromium --headless" + (" (user, sandbox)" if sandboxed else " (root, --no-sandbox)")
        self.user = "nobody" if sandboxed else None

    def run(self, ctx):
        argv = ["/usr/lib/chromium/chromium", "--headless", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + os.path.join(ctx.dir, "profile"), "--window-size=400,300",
                "--screenshot=" + os.path.join(ctx.dir, "shot.png"), self.page]
        if not self.sandboxed:
            argv.insert(1, "--no-sandbox")
        shot = os.path.join(ctx.dir, "shot.png")
        # Each run starts from nothing: no screenshot of the other run to find, a first-run profile.
        shutil.rmtree(os.path.join(ctx.dir, "profile"), ignore_errors=True)
        if os.path.exists(shot):
            os.unlink(shot)
        step = ctx.call("chromium --screenshot", argv, timeout=180)
        digest = _sha256(shot) if os.path.exists(shot) else "no screenshot"
        ctx.steps.append(type(step)("screenshot sha256", 0, digest + "\n", ""))

    def normalise(self, label, stream, text, workdir):
        if label == "chromium --screenshot" and stream == "err":
            # Chromium logs as [pid:tid:date/time:LEVEL:file(line)] message: what it could not reach here (D-Bus,
            # cpufreq files) in an order and number that depend on timing. Those lines are left out, every other
            # line (a crash report, a fatal error) is compared.
            return "\n".join(ln for ln in text.splitlines()
                             if ln.strip() and not re.match(r"^\[\d+:\d+:\d{4}/\d{6}\.\d+:(ERROR|WARNING|INFO):", ln)
                             and not re.match(r"^\[\d{4}/\d{6}\.\d+:(ERROR|WARNING|INFO):", ln))
        return text
