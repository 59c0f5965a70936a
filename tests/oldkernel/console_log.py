"""The guest's serial console log, as tests/oldkernel/init writes it: steps (output and exit code) and attached files.

Only the marker lines are trusted; everything between a step's begin and end is its output (stdout and stderr, with
the serial line's CR removed). A step without an end marker did not finish (the guest died or the host's timeout hit).
"""
import json
import re

_MARK = "=== sealkit-oldkernel: "
_BEGIN = re.compile(r"^=== sealkit-oldkernel: begin (\S+) ===$")
_END = re.compile(r"^=== sealkit-oldkernel: end (\S+) rc=(\d+)(?: secs=([\d.]+))? ===$")
_DONE = re.compile(r"^=== sealkit-oldkernel: done(?: secs=([\d.]+))? ===$")
_FILE = re.compile(r"^=== sealkit-oldkernel: file (\S+) ===$")
_END_FILE = re.compile(r"^=== sealkit-oldkernel: end-file (\S+) ===$")
_MISSING_FILE = re.compile(r"^=== sealkit-oldkernel: missing-file (\S+) ===$")
_NOT_RUN = re.compile(r"^=== sealkit-oldkernel: not-run (\S+): (.*) ===$")


class Step:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.rc = None  # None: never ended
        self.seconds = None  # as the guest's clock measured it

    @property
    def finished(self):
        return self.rc is not None

    @property
    def output(self):
        # init prints one newline before the end marker so that it starts a line; drop it.
        lines = self.lines[:-1] if self.lines and self.lines[-1] == "" else self.lines
        return "\n".join(lines)

    def json(self):
        """The step's JSON document: from its first line that starts with '{' to its last that ends with '}'."""
        return _json_block(self.lines)


class ConsoleLog:
    def __init__(self, text):
        self.started = False
        self.done = False
        self.guest_seconds = None  # the guest's uptime when init finished its steps
        self.steps = {}  # name -> Step, in order
        self.files = {}  # name -> text, or None when the guest said the file was missing
        self.not_run = {}  # step name -> why init left it out
        current = None  # ("step", Step) or ("file", name, lines)
        for raw in text.replace("\r", "").split("\n"):
            line = raw.rstrip()
            if line.startswith(_MARK) or (_MARK in line and current is None):
                # A marker may follow kernel text on the same line; take it from where it starts.
                line = line[line.index(_MARK):]
                if line == _MARK + "start ===":
                    self.started = True
                    continue
                m = _DONE.match(line)
                if m:
                    self.done = True
                    self.guest_seconds = float(m.group(1)) if m.group(1) else None
                    continue
                m = _BEGIN.match(line)
                if m:
                    current = ("step", Step(m.group(1)))
                    self.steps[m.group(1)] = current[1]
                    continue
                m = _END.match(line)
                if m and current and current[0] == "step" and current[1].name == m.group(1):
                    current[1].rc = int(m.group(2))
                    current[1].seconds = float(m.group(3)) if m.group(3) else None
                    current = None
                    continue
                m = _FILE.match(line)
                if m:
                    current = ("file", m.group(1), [])
                    continue
                m = _END_FILE.match(line)
                if m and current and current[0] == "file" and current[1] == m.group(1):
                    lines = current[2][:-1] if current[2] and current[2][-1] == "" else current[2]
                    self.files[current[1]] = "\n".join(lines)
                    current = None
                    continue
                m = _MISSING_FILE.match(line)
                if m:
                    self.files[m.group(1)] = None
                    continue
                m = _NOT_RUN.match(line)
                if m:
                    self.not_run[m.group(1)] = m.group(2)
                    continue
            if current is None:
                continue
            if current[0] == "step":
                current[1].lines.append(line)
            else:
                current[2].append(line)

    def step(self, name):
        return self.steps.get(name)

    def file_json(self, name):
        text = self.files.get(name)
        return None if text is None else _json_block(text.split("\n"))

    def file_json_lines(self, name):
        """Each line of an attached file that parses as a JSON object (a SEALKIT_LOG file: one line per process)."""
        text = self.files.get(name)
        if text is None:
            return None
        out = []
        for line in text.split("\n"):
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out


def _json_block(lines):
    first = next((i for i, l in enumerate(lines) if l.lstrip().startswith("{")), None)
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].rstrip().endswith("}")), None)
    if first is None or last is None or last < first:
        return None
    try:
        return json.loads("\n".join(lines[first:last + 1]))
    except ValueError:
        return None


def gtest_cases(doc):
    """(suite.test, status) for every test in a gtest JSON report; status: passed, failed, skipped or not run.
    "not run": the test never started, because a global environment's SetUp skipped (tests/lib does so without
    mseal); gtest still reports such tests as COMPLETED, but with the epoch as their timestamp."""
    out = []
    for suite in (doc or {}).get("testsuites", []):
        for case in suite.get("testsuite", []):
            name = suite["name"] + "." + case["name"]
            if case.get("failures"):
                status = "failed"
            elif case.get("timestamp", "").startswith("1970-01-01T00:00:00"):
                status = "not run"
            elif case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                status = "skipped"
            else:
                status = "passed"
            out.append((name, status))
    return out
