"""Runs one corpus program twice, unsealed then sealed, in the same fresh directory, and collects what is compared
(exit codes, normalised output) and what proves sealing (log lines, kernel process events, live smaps)."""
import json
import os
import pwd
import shutil
import subprocess
import threading
import time

import smaps_check

BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
}


class Step:
    def __init__(self, label, rc, out, err):
        self.label, self.rc, self.out, self.err = label, rc, out, err


class Context:
    """What a program's run() uses: call() and spawn() run a command sealed or not, as this run is, sealed the way
    the deployment (deployments.py) says."""

    def __init__(self, deploy, program, sealed, workdir, log_path, tree):
        self.deploy = deploy
        self.program = program
        self.sealed = sealed
        self.dir = workdir
        self.log_path = log_path
        self.tree = tree
        self.tops = set()
        self.steps = []
        self.user = program.user
        self.verdicts = {}  # (pid, exe) -> smaps_check.Verdict, the last conclusive look
        self.no_runtime_since = {}
        self._sampling = False

    # --- running commands -------------------------------------------------
    def _argv(self, argv):
        return self.deploy.argv(argv, self.log_path) if self.sealed else list(argv)

    def _popen_kwargs(self, env, cwd, stdin):
        e = dict(BASE_ENV, HOME=self.dir)
        if self.sealed:
            e.update(self.deploy.env(self.log_path))
        e.update(env or {})
        kw = dict(env=e, cwd=cwd or self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                  errors="replace", stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if self.user:
            pw = pwd.getpwnam(self.user)
            kw.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        return kw

    def spawn(self, argv, env=None, cwd=None, stdin=None):
        p = subprocess.Popen(self._argv(argv), **self._popen_kwargs(env, cwd, stdin))
        self.tops.add(p.pid)
        return p

    def finish(self, label, p, timeout=600, stdin=None):
        try:
            out, err = p.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            err += f"\n[corpus: killed after {timeout}s]"
        self.steps.append(Step(label, p.returncode, out, err))
        return self.steps[-1]

    def call(self, label, argv, env=None, cwd=None, stdin=None, timeout=600):
        return self.finish(label, self.spawn(argv, env, cwd, stdin), timeout, stdin)

    # --- live smaps -------------------------------------------------------
    def look(self, pid):
        runtime_name = self.deploy.runtime_name
        v = smaps_check.check(pid, runtime_name)
        # A look can fall inside a window the runtime closes a moment later: between exec and the start-up pass
        # (ld.so still relocating), or between a dlopen's mmap and the seal before dlopen returns. Look again
        # shortly; only the last look counts.
        for _ in range(10):
            if v.state != "checked" or not v.unsettled():
                break
            time.sleep(0.01)
            again = smaps_check.check(pid, runtime_name)
            if again.state != "checked" or again.exe != v.exe:
                v.recheck_failed = True  # it exited (or exec'd): this unsealed look is the last there is
                break
            v = again
        if v.exe is None or v.state == "gone":
            return
        if self.sealed and v.exe == self.deploy.launcher:
            return  # the launcher itself, before it execs the program
        key = (pid, v.exe)
        if v.state == "checked":
            self.verdicts[key] = v
            self.no_runtime_since.pop(key, None)
        elif v.state == "no-runtime":
            first = self.no_runtime_since.setdefault(key, time.monotonic())
            # ld.so maps audit modules and preloads first thing; a process still without them after 0.5 s never
            # got them.
            if time.monotonic() - first > 0.5 and key not in self.verdicts:
                self.verdicts[key] = v

    def snapshot(self):
        """Look at every live process of this run now (servers: once they serve)."""
        if self.sealed:
            for pid in self.tree.live_pids(self.tops):
                self.look(pid)

    def _sampler(self):
        while self._sampling:
            for pid in self.tree.live_pids(self.tops):
                # Done with a process once a look found it wholly sealed; one with an unsealed object is looked at
                # again while it lives, since a dlopen caught half way is sealed when it returns.
                if not any(k[0] == pid and v.state == "checked" and not v.unsettled()
                           for k, v in list(self.verdicts.items())):
                    self.look(pid)
            time.sleep(0.05)

    def start_sampling(self):
        if self.sealed and self.tree.sock is not None:
            self._sampling = True
            self._thread = threading.Thread(target=self._sampler, daemon=True)
            self._thread.start()

    def stop_sampling(self):
        if self._sampling:
            self._sampling = False
            self._thread.join()


def fresh_dir(path, user):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o755)
    if user:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def run_program(deploy, program, tree, root):
    """Returns (unsealed Context, sealed Context)."""
    workdir = os.path.join(root, program.name)
    results = []
    for sealed in (False, True):
        deploy.switch(sealed)
        fresh_dir(workdir, program.user)
        log_path = os.path.join(root, f"{program.name}.sealkit.log")
        if sealed:
            with open(log_path, "w"):
                pass
            os.chmod(log_path, 0o666)
        ctx = Context(deploy, program, sealed, workdir, log_path, tree)
        program.prepare(ctx)
        ctx.start_sampling()
        try:
            program.run(ctx)
        finally:
            ctx.stop_sampling()
            program.cleanup(ctx)
        time.sleep(0.3)  # let the last exit events arrive
        results.append(ctx)
    return results


def read_log(path):
    lines = []
    try:
        with open(path) as f:
            for raw in f:
                raw = raw.strip()
                if raw:
                    try:
                        lines.append(json.loads(raw))
                    except ValueError:
                        lines.append({"unparsable": raw})
    except OSError:
        pass
    return lines
