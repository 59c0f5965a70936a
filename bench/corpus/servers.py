"""The servers: each runs whole sealed (master and every worker); its live processes are looked at in
/proc/PID/smaps while a client on loopback loads it."""
import os
import re
import socket
import time

from programs import Program


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if port_open(port):
            return True
        time.sleep(0.1)
    return False


def server_log_problems(path, pattern):
    """The server log's serious lines, without their timestamps and pids."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return "(no log)\n"
    bad = [re.sub(r"^\S+ \S+( UTC)? \[\d+\]|^\S+ \S+ \[\w+\] \d+#\d+: (\*\d+ )?", "", ln) for ln in lines
           if re.search(pattern, ln)]
    return "\n".join(bad) + "\n"


class Postgres(Program):
    """PostgreSQL 15 as the postgres user (it refuses root): initdb, pg_ctl start on 127.0.0.1, pgbench -i and a
    3-second pgbench run, pg_ctl stop."""
    name, packages, user = "postgresql+pgbench", ["postgresql"], "postgres"
    bindir = "/usr/lib/postgresql/15/bin"
    commands = [bindir + "/initdb", bindir + "/pg_ctl", bindir + "/postgres", bindir + "/pgbench", bindir + "/psql"]

    def prepare(self, ctx):
        if not hasattr(self, "port"):
            self.port = free_port()

    def run(self, ctx):
        b = self.bindir
        data = os.path.join(ctx.dir, "data")
        ctx.call("initdb", [b + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                            "--locale=C.UTF-8"])
        opts = f"-p {self.port} -k {ctx.dir} -c listen_addresses=127.0.0.1"
        ctx.call("pg_ctl start", [b + "/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(ctx.dir, "pg.log"), "-w",
                                  "start"])
        conn = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "postgres"]
        ctx.call("pgbench -i", [b + "/pgbench", "-i", "-s", "2"] + conn)
        bench = ctx.spawn([b + "/pgbench", "-T", "3", "-c", "4", "-j", "2"] + conn)
        time.sleep(1.5)
        ctx.snapshot()  # postmaster, its helpers, the four backends and pgbench, all live now
        ctx.finish("pgbench", bench)
        ctx.call("psql", [b + "/psql", "-X", "-A", "-t", "-c",
                          "select count(*) from pgbench_accounts; select extname from pg_extension order by 1; "
                          "do $$ begin raise notice 'plpgsql %', 6 * 7; end $$;"] + conn)
        ctx.snapshot()
        ctx.call("pg_ctl stop", [b + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        ctx.steps.append(type(ctx.steps[-1])("pg.log", 0, server_log_problems(
            os.path.join(ctx.dir, "pg.log"), r"PANIC|FATAL|ERROR|terminated by signal|was terminated"), ""))

    def cleanup(self, ctx):
        pid_file = os.path.join(ctx.dir, "data", "postmaster.pid")
        if os.path.exists(pid_file):  # a run that failed half way: do not leave a server behind
            ctx.call("cleanup stop", [self.bindir + "/pg_ctl", "-D", os.path.join(ctx.dir, "data"), "-m",
                                      "immediate", "-w", "stop"])

    def normalise(self, label, stream, text, workdir):
        text = re.sub(r"waiting for server to (start|shut down)\.+", r"waiting for server to \1...", text)
        if label == "pgbench -i":
            text = re.sub(r"\d+\.\d\d s", "<t> s", text)
            text = re.sub(r"^\d+ of \d+ tuples \(\d+%\) done \(elapsed [\d.]+ s, remaining [\d.]+ s\)\r?\n?", "",
                          text, flags=re.M)
        if label == "pgbench":
            for key in ("latency average", "latency stddev", "initial connection time", "tps"):
                text = re.sub(rf"^{key} = [\d.]+", f"{key} = <n>", text, flags=re.M)
            text = re.sub(r"^number of transactions actually processed: \d+",
                          "number of transactions actually processed: <n>", text, flags=re.M)
            text = re.sub(r"\(without initial connection time\)", "", text)
        return text


class Nginx(Program):
    """nginx (master + 2 workers, the stream module loaded with load_module, so dlopen'd) on 127.0.0.1, loaded by
    wrk for 3 seconds, then stopped with `nginx -s quit`."""
    name, packages = "nginx+wrk", ["nginx", "libnginx-mod-stream", "wrk"]
    commands = ["/usr/sbin/nginx", "/usr/bin/wrk"]
    module = "/usr/lib/nginx/modules/ngx_stream_module.so"

    def prepare(self, ctx):
        if not hasattr(self, "port"):
            self.port = free_port()
        d = ctx.dir
        os.makedirs(os.path.join(d, "html"))
        with open(os.path.join(d, "html", "index.html"), "w") as f:
            f.write("<p>sealed</p>\n" * 64)
        load = f"load_module {self.module};\n" if os.path.exists(self.module) else ""
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(f"""{load}daemon off;
master_process on;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp-body; proxy_temp_path {d}/tmp-proxy; fastcgi_temp_path {d}/tmp-fcgi;
  uwsgi_temp_path {d}/tmp-uwsgi; scgi_temp_path {d}/tmp-scgi;
  server {{ listen 127.0.0.1:{self.port}; root {d}/html; }}
}}
""")

    def run(self, ctx):
        d = ctx.dir
        nginx = ["/usr/sbin/nginx", "-p", d, "-e", d + "/error.log", "-c", d + "/nginx.conf"]
        server = ctx.spawn(nginx)
        up = wait_for_port(self.port)
        if not up:
            server.kill()
            ctx.finish("nginx", server)
            return
        bench = ctx.spawn(["wrk", "-t", "2", "-c", "8", "-d", "3s", f"http://127.0.0.1:{self.port}/index.html"])
        time.sleep(1.5)
        ctx.snapshot()  # master, both workers, wrk
        ctx.finish("wrk", bench)
        ctx.call("nginx -s quit", nginx + ["-s", "quit"])
        ctx.finish("nginx", server, timeout=30)
        ctx.steps.append(type(ctx.steps[-1])("error.log", 0, server_log_problems(
            os.path.join(d, "error.log"), r"\[(emerg|alert|crit|error)\]|exited on signal"), ""))

    def normalise(self, label, stream, text, workdir):
        if label == "wrk":
            # Timing figures; the lines themselves (and any error or non-2xx line) stay.
            out = []
            for line in text.splitlines():
                if re.match(r"\s*(Latency|Req/Sec)\s", line):
                    line = re.sub(r"\s+[\d.]+\S*", " <n>", line)
                elif re.match(r"\s*\d+ requests in ", line):
                    line = re.sub(r"[\d.]+", "<n>", line)
                elif re.match(r"(Requests|Transfer)/sec:", line):
                    line = re.sub(r"[\d.]+\w*$", "<n>", line)
                out.append(line)
            return "\n".join(out)
        return text


class Redis(Program):
    """redis-server (jemalloc, whose initial-exec TLS needs room in the static TLS block under LD_AUDIT) on
    127.0.0.1, no persistence, loaded by redis-benchmark; a few redis-cli commands; `shutdown nosave`."""
    name, packages = "redis+redis-benchmark", ["redis-server", "redis-tools"]
    commands = ["/usr/bin/redis-server", "/usr/bin/redis-cli", "/usr/bin/redis-benchmark"]

    def prepare(self, ctx):
        if not hasattr(self, "port"):
            self.port = free_port()

    def run(self, ctx):
        d = ctx.dir
        server = ctx.spawn(["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", d, "--logfile", d + "/redis.log", "--daemonize", "no"])
        if not wait_for_port(self.port):
            server.kill()
            ctx.finish("redis-server", server)
            return
        cli = ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        bench = ctx.spawn(["/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", str(self.port), "-n", "20000", "-q"])
        time.sleep(1.5)
        ctx.snapshot()  # the server (its background threads included) and redis-benchmark
        ctx.finish("redis-benchmark", bench)
        for command in (["ping"], ["set", "k", "v"], ["get", "k"], ["incr", "n"], ["dbsize"]):
            ctx.call("redis-cli " + " ".join(command), cli + command)
        ctx.snapshot()
        ctx.call("redis-cli shutdown nosave", cli + ["shutdown", "nosave"])
        ctx.finish("redis-server", server, timeout=30)
        try:
            with open(os.path.join(d, "redis.log"), errors="replace") as f:
                log = f.read()
        except OSError:
            log = "(no log)\n"
        # Every line, without its "pid:role date time" head; the pid it prints on start-up is the only other
        # figure that differs between two runs.
        log = re.sub(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ ", "", log, flags=re.M)
        ctx.steps.append(type(ctx.steps[-1])("redis.log", 0, re.sub(r"\bpid=\d+", "pid=<n>", log), ""))

    def cleanup(self, ctx):
        if port_open(self.port):  # a run that failed half way: do not leave a server behind
            ctx.call("cleanup shutdown", ["/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "shutdown",
                                          "nosave"])

    def normalise(self, label, stream, text, workdir):
        if label == "redis-benchmark":
            # -q redraws a progress line per test ("NAME: rps=... avg_msec=...", then spaces to blank it, each
            # ended by \r, which the text read here turns into a line end) before its result: those are rates
            # only, and how many depends on the time taken, so they go; the result lines stay with their rate
            # and latency as <n>.
            out = []
            for line in text.split("\n"):
                if not line.strip() or re.match(r"^.+: rps=\S+ \(overall: \S+\) avg_msec=\S+ \(overall: \S+\)$",
                                                line):
                    continue
                out.append(re.sub(r"^(.+): [\d.]+ requests per second, p50=[\d.]+ msec$",
                                  r"\1: <n> requests per second, p50=<n> msec", line))
            return "\n".join(out)
        return text
