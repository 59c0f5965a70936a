"""Every process a run starts, as the kernel reports it (the proc connector).

The runtime's log has one line per process image it sealed; a process that it never reached writes no line. To see
those too, the kernel's own fork/exec/exit events (NETLINK_CONNECTOR, CN_IDX_PROC, needs root) are followed for the
descendants of the process that launched the run, so the count of processes does not come from the thing under test.
"""
import os
import socket
import struct
import threading

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
EV_FORK, EV_EXEC, EV_EXIT = 0x1, 0x2, 0x80000000
SO_RCVBUFFORCE = 33
NLMSG_HDR = struct.Struct("=IHHII")
CN_MSG = struct.Struct("=IIIIHH")
EVENT_HEAD = struct.Struct("=IIQ")  # what, cpu, timestamp_ns


def elf_interp_of(path):
    """'dynamic', 'static', or 'unknown' for an executable file (PT_INTERP present or not), 64-bit or 32-bit (a
    32-bit program a build starts, such as cmake's probe of the i386 $LIB, is sealed by the i386 objects)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2):
                return "unknown"
            if head[4] == 2:
                phoff, = struct.unpack_from("<Q", head, 32)
                phentsize, phnum = struct.unpack_from("<HH", head, 54)
            else:
                phoff, = struct.unpack_from("<I", head, 28)
                phentsize, phnum = struct.unpack_from("<HH", head, 42)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
        for i in range(phnum):
            p_type, = struct.unpack_from("<I", table, i * phentsize)
            if p_type == 3:  # PT_INTERP
                return "dynamic"
        return "static"
    except OSError:
        return "unknown"


def ns_pid_of(tgid):
    """The innermost pid of NSpid in /proc/PID/status: the pid the process sees for itself."""
    with open(f"/proc/{tgid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    return tgid


class Image:
    """One exec: a process image. exe is read from /proc as soon as the event arrives (None if it was gone).
    top is the child of the launcher it descends from, which tells which run it belongs to. replaced is the seq of
    the image the process ran until this exec: its own previous one, or the one its parent ran when it forked
    (None for the direct children of this process)."""

    def __init__(self, tgid, top, seq, replaced):
        self.tgid = tgid
        self.top = top
        self.seq = seq
        self.replaced = replaced
        self.exe = None
        self.linking = "unknown"
        self.ns_pid = tgid  # its pid in its own pid namespace (a sandbox's), which is what it logs


class ProcessTree:
    """Follows fork/exec/exit of the descendants of this process (thread-group ids) from a background thread.
    Each descendant is tagged with the direct child of this process it comes from (its "top")."""

    def __init__(self):
        self.root = os.getpid()
        self.live = {self.root: None}  # tgid -> top
        self.running = {}  # tgid -> seq of the image it runs (a forked child runs its parent's until it execs)
        self.images = []
        self.forks = {}  # top -> forks seen
        self.lost_events = False
        self.error = None
        self._lock = threading.Lock()
        self._stop = False
        self._linking_cache = {}
        try:
            self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
            except OSError:
                pass
            self.sock.bind((0, CN_IDX_PROC))
            op = struct.pack("=I", PROC_CN_MCAST_LISTEN)
            body = CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(op), 0) + op
            self.sock.send(NLMSG_HDR.pack(NLMSG_HDR.size + len(body), 3, 0, 0, 0) + body)
            self.sock.settimeout(0.2)
        except OSError as e:
            self.sock = None
            self.error = f"proc connector unavailable ({e}); processes are counted from the log only"
            return
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def live_pids(self, tops):
        with self._lock:
            return {p for p, t in self.live.items() if t in tops}

    def images_of(self, tops):
        with self._lock:
            return [i for i in self.images if i.top in tops]

    def stop(self):
        if self.sock is None:
            return
        self._stop = True
        self._thread.join()
        self.sock.close()

    def _linking(self, exe):
        if exe not in self._linking_cache:
            self._linking_cache[exe] = elf_interp_of(exe)
        return self._linking_cache[exe]

    def _loop(self):
        while not self._stop:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError:  # ENOBUFS: the kernel dropped events; the count is then a lower bound
                self.lost_events = True
                continue
            off = 0
            while off + NLMSG_HDR.size <= len(data):
                length = NLMSG_HDR.unpack_from(data, off)[0]
                if length < NLMSG_HDR.size:
                    break
                self._event(data, off + NLMSG_HDR.size + CN_MSG.size)
                off += (length + 3) & ~3

    def _event(self, data, off):
        if off + EVENT_HEAD.size + 8 > len(data):
            return
        what = EVENT_HEAD.unpack_from(data, off)[0]
        body = off + EVENT_HEAD.size
        if what == EV_FORK:
            _, ptgid, cpid, ctgid = struct.unpack_from("=iiii", data, body)
            if cpid == ctgid and ptgid in self.live:  # a new process, not a thread
                with self._lock:
                    top = ctgid if ptgid == self.root else self.live[ptgid]
                    self.live[ctgid] = top
                    if ptgid in self.running:
                        self.running[ctgid] = self.running[ptgid]
                    self.forks[top] = self.forks.get(top, 0) + 1
        elif what == EV_EXEC:
            _, tgid = struct.unpack_from("=ii", data, body)
            if tgid in self.live and tgid != self.root:
                img = Image(tgid, self.live[tgid], len(self.images), self.running.get(tgid))
                try:
                    img.exe = os.readlink(f"/proc/{tgid}/exe")
                    img.linking = self._linking(img.exe)
                    img.ns_pid = ns_pid_of(tgid)
                except OSError:
                    pass
                with self._lock:
                    self.images.append(img)
                    self.running[tgid] = img.seq
        elif what == EV_EXIT:
            pid, tgid = struct.unpack_from("=ii", data, body)
            if pid == tgid and tgid != self.root:
                with self._lock:
                    self.live.pop(tgid, None)
                    self.running.pop(tgid, None)
