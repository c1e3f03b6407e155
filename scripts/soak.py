#!/usr/bin/env python3
"""Soak test of bucket-cors (`make soak`): one Envoy with the filter in front of the testkit
object store, N mixed requests over keep-alive connections, every answer checked.

    python3 scripts/soak.py --envoy .venv/bin/envoy \
        --wasm target/wasm32-wasip1/release/bucket_cors.wasm \
        --objstore target/release/objstore --requests 1000000

It starts the object store (`objstore --listen 127.0.0.1:PORT`) and Envoy (`--concurrency 1
--disable-hot-restart`, a generated bootstrap shaped like envoy/envoy.yaml) on free loopback
ports, sends a warm-up, reads Envoy's resident memory (VmRSS in /proc/<pid>/status), sends the
N requests (a fixed, repeating mix of allowed, refused, preflight and no-Origin requests),
reads the RSS again and prints a summary: requests, duration, req/s, unexpected answers (with
the first few), RSS before/after and growth. Every answer is checked: status, the
Access-Control-Allow-Origin value expected for its kind (or its absence) and Vary.

Exit status: 0 when there was no unexpected answer, Envoy is still up with no Wasm crash in
its log, and RSS grew by less than --max-growth percent (default 5); 1 otherwise; 2 when the
set-up failed. Python 3 standard library only; traffic only to 127.0.0.1.
"""

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

PREFLIGHT_VARY = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
WWW = b"https://www.example.com"
APP = b"https://app.example.com"
EVIL = b"https://evil.example.net"
ANYONE = b"https://anyone.example.net"

# The plugin configuration: the shape of envoy/envoy.yaml's.
PLUGIN_CONFIG = """{
  "endpoints": ["s3.localhost"],
  "path_style": true,
  "buckets": {
    "photos": {
      "CORSRule": [
        {
          "ID": "example-com-uploads",
          "AllowedOrigin": ["https://www.example.com", "https://*.example.com"],
          "AllowedMethod": ["GET", "PUT", "HEAD"],
          "AllowedHeader": ["content-type", "x-amz-meta-*"],
          "ExposeHeader": ["ETag", "x-amz-request-id"],
          "MaxAgeSeconds": 600
        }
      ],
      "ResponseVary": true
    },
    "public": {
      "CORSRule": [
        { "ID": "anyone-reads", "AllowedOrigin": ["*"], "AllowedMethod": ["GET", "HEAD"] }
      ]
    }
  },
  "default": null,
  "unmatched_preflight": "reject"
}"""


def request(method, host, target, headers=(), body=b""):
    out = b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, target, host)
    for n, v in headers:
        out += n + b": " + v + b"\r\n"
    if body:
        out += b"Content-Length: %d\r\n" % len(body)
    return out + b"\r\n" + body


PS = b"objects.local"  # a host under no endpoint: path-style addressing
VH = b"photos.s3.localhost"  # virtual-hosted: bucket photos

# kind -> (category, request bytes, expected status, expected ACAO (None: absent),
#          expected Vary (None: absent))
KINDS = {
    "preflight allowed (exact origin)": (
        "preflight",
        request(b"OPTIONS", PS, b"/photos/cat.jpg", [
            (b"Origin", WWW),
            (b"Access-Control-Request-Method", b"PUT"),
            (b"Access-Control-Request-Headers", b"Content-Type, x-amz-meta-a"),
        ]),
        200, WWW, PREFLIGHT_VARY,
    ),
    "preflight allowed (vhost, wildcard origin)": (
        "preflight",
        request(b"OPTIONS", VH, b"/cat.jpg", [
            (b"Origin", APP),
            (b"Access-Control-Request-Method", b"GET"),
        ]),
        200, APP, PREFLIGHT_VARY,
    ),
    "preflight refused (origin)": (
        "preflight",
        request(b"OPTIONS", PS, b"/photos/cat.jpg", [
            (b"Origin", EVIL),
            (b"Access-Control-Request-Method", b"GET"),
        ]),
        403, None, PREFLIGHT_VARY,
    ),
    "preflight refused (method)": (
        "preflight",
        request(b"OPTIONS", PS, b"/photos/cat.jpg", [
            (b"Origin", WWW),
            (b"Access-Control-Request-Method", b"DELETE"),
        ]),
        403, None, PREFLIGHT_VARY,
    ),
    "preflight refused (bucket without CORS)": (
        "preflight",
        request(b"OPTIONS", PS, b"/private/x", [
            (b"Origin", WWW),
            (b"Access-Control-Request-Method", b"GET"),
        ]),
        403, None, PREFLIGHT_VARY,
    ),
    "allowed GET (echo)": (
        "allowed",
        request(b"GET", PS, b"/photos/cat.jpg", [(b"Origin", WWW)]),
        200, WWW, b"Origin",
    ),
    "allowed GET (*)": (
        "allowed",
        request(b"GET", PS, b"/public/logo.png", [(b"Origin", ANYONE)]),
        200, b"*", b"Origin",
    ),
    "allowed PUT (wildcard origin, body)": (
        "allowed",
        request(b"PUT", PS, b"/photos/upload.bin", [
            (b"Origin", APP), (b"Content-Type", b"application/octet-stream"),
        ], body=b"x" * 256),
        200, APP, b"Origin",
    ),
    "refused GET (origin not allowed)": (
        "refused",
        request(b"GET", PS, b"/photos/cat.jpg", [(b"Origin", EVIL)]),
        200, None, b"Origin",
    ),
    "refused GET (method not allowed)": (
        "refused",
        request(b"DELETE", PS, b"/photos/gone.bin", [(b"Origin", WWW)]),
        204, None, b"Origin",
    ),
    "no Origin (configured bucket)": (
        "no Origin",
        request(b"GET", PS, b"/photos/cat.jpg"),
        200, None, b"Origin",
    ),
    "no Origin (bucket without CORS)": (
        "no Origin",
        request(b"GET", PS, b"/private/x"),
        404, None, None,
    ),
}

# kind -> the filter counter (Envoy /stats, `wasmcustom.bucket_cors.*`) it increments.
COUNTER = {
    "preflight allowed (exact origin)": "preflight.allowed",
    "preflight allowed (vhost, wildcard origin)": "preflight.allowed",
    "preflight refused (origin)": "preflight.refused.origin",
    "preflight refused (method)": "preflight.refused.method",
    "preflight refused (bucket without CORS)": "preflight.refused.no_configuration",
    "allowed GET (echo)": "actual.matched",
    "allowed GET (*)": "actual.matched",
    "allowed PUT (wildcard origin, body)": "actual.matched",
    "refused GET (origin not allowed)": "actual.unmatched",
    "refused GET (method not allowed)": "actual.unmatched",
}

# The repeating mix: 20 slots; 45% preflights, 20% allowed, 15% refused, 20% no Origin.
MIX = (
    ["preflight allowed (exact origin)"] * 3
    + ["preflight allowed (vhost, wildcard origin)"] * 2
    + ["preflight refused (origin)"] * 2
    + ["preflight refused (method)"]
    + ["preflight refused (bucket without CORS)"]
    + ["allowed GET (echo)"] * 2
    + ["allowed GET (*)"]
    + ["allowed PUT (wildcard origin, body)"]
    + ["refused GET (origin not allowed)"] * 2
    + ["refused GET (method not allowed)"]
    + ["no Origin (configured bucket)"] * 3
    + ["no Origin (bucket without CORS)"]
)
assert len(MIX) == 20

TIMEOUT = 30.0
MAX_EXAMPLES = 5


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def yaml_quote(s):
    """A JSON string literal, which is also a YAML double-quoted scalar."""
    import json
    return json.dumps(s)


def bootstrap(wasm, listen, admin, upstream):
    return f"""# generated by scripts/soak.py
admin:
  address:
    socket_address: {{ address: 127.0.0.1, port_value: {admin} }}
static_resources:
  listeners:
  - name: s3
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {listen} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: s3
          codec_type: AUTO
          route_config:
            name: objstore
            virtual_hosts:
            - name: objstore
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: objstore }}
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: bucket-cors
                root_id: bucket-cors
                vm_config:
                  vm_id: bucket-cors
                  runtime: envoy.wasm.runtime.v8
                  code:
                    local:
                      filename: {yaml_quote(wasm)}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: {yaml_quote(PLUGIN_CONFIG)}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: objstore
    type: STATIC
    connect_timeout: 2s
    load_assignment:
      cluster_name: objstore
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: {upstream} }}
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def wait_until(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {seconds} s")


# -- the load ---------------------------------------------------------------------------------


class Conn:
    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = bytearray()

    def open(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by Envoy")
        self.buf += chunk

    def exchange(self, data):
        """Sends one request, reads one response: (status, [ACAO values], [Vary values],
        close?)."""
        if self.sock is None:
            self.open()
        self.sock.sendall(data)
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        lines = head.split(b"\r\n")
        status = int(lines[0][9:12])
        acao, vary = [], []
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"access-control-allow-origin":
                acao.append(value)
            elif name == b"vary":
                vary.append(value)
            elif name == b"connection" and b"close" in value.lower():
                close = True
            elif name == b"transfer-encoding":
                raise ValueError("unexpected Transfer-Encoding in a response")
        while len(self.buf) < length:
            self._fill()
        del self.buf[:length]
        if close:
            self.close()
        return status, acao, vary, close


def check(kind, status, acao, vary):
    _, _, want_status, want_acao, want_vary = KINDS[kind]
    problems = []
    if status != want_status:
        problems.append(f"status {status} (want {want_status})")
    if want_acao is None:
        if acao:
            problems.append(f"ACAO {acao} (want none)")
    elif acao != [want_acao]:
        problems.append(f"ACAO {acao} (want [{want_acao!r}])")
    if want_vary is None:
        if vary:
            problems.append(f"Vary {vary} (want none)")
    elif vary != [want_vary]:
        problems.append(f"Vary {vary} (want [{want_vary!r}])")
    return problems


def run_thread(port, start, count, result, lock):
    """Requests start .. start+count-1 of the mix on one keep-alive connection."""
    conn = Conn(port)
    done = unexpected = reconnects = 0
    examples = []
    per_kind = {}
    try:
        for i in range(start, start + count):
            kind = MIX[i % len(MIX)]
            data = KINDS[kind][1]
            try:
                status, acao, vary, closed = conn.exchange(data)
            except (OSError, EOFError, ValueError) as e:
                conn.close()
                unexpected += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"#{i} {kind}: {type(e).__name__}: {e}")
                done += 1
                continue
            if closed:
                reconnects += 1
            problems = check(kind, status, acao, vary)
            if problems:
                unexpected += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(f"#{i} {kind}: " + "; ".join(problems))
            per_kind[kind] = per_kind.get(kind, 0) + 1
            done += 1
    finally:
        conn.close()
        with lock:
            result["done"] += done
            result["unexpected"] += unexpected
            result["reconnects"] += reconnects
            result["examples"].extend(examples)
            for k, v in per_kind.items():
                result["per_kind"][k] = result["per_kind"].get(k, 0) + v


def run_process(port, start, count, threads, queue):
    """One client process: `threads` keep-alive connections, each its share of the requests."""
    result = {"done": 0, "unexpected": 0, "reconnects": 0, "examples": [], "per_kind": {}}
    lock = threading.Lock()
    share, extra = divmod(count, threads)
    workers, offset = [], start
    for t in range(threads):
        n = share + (1 if t < extra else 0)
        th = threading.Thread(target=run_thread, args=(port, offset, n, result, lock), daemon=True)
        offset += n
        workers.append(th)
        th.start()
    for th in workers:
        th.join()
    queue.put(result)


def load(port, total, processes, threads, deadline, progress=None):
    """Sends `total` requests of the mix from `processes` x `threads` connections; returns the
    merged result and the duration. `progress(sent_estimate)` is called about every 5 s."""
    queue = mp.Queue()
    share, extra = divmod(total, processes)
    procs, offset = [], 0
    t0 = time.monotonic()
    for p in range(processes):
        n = share + (1 if p < extra else 0)
        pr = mp.Process(target=run_process, args=(port, offset, n, threads, queue), daemon=True)
        offset += n
        procs.append(pr)
        pr.start()
    results = []
    last = t0
    while len(results) < processes:
        try:
            results.append(queue.get(timeout=1.0))
        except Exception:
            pass
        now = time.monotonic()
        if progress and now - last >= 5.0:
            progress(now - t0)
            last = now
        if now > deadline:
            for pr in procs:
                if pr.is_alive():
                    pr.terminate()
            raise TimeoutError("the run did not finish within --max-seconds")
    for pr in procs:
        pr.join(timeout=10)
    elapsed = time.monotonic() - t0
    merged = {"done": 0, "unexpected": 0, "reconnects": 0, "examples": [], "per_kind": {}}
    for r in results:
        merged["done"] += r["done"]
        merged["unexpected"] += r["unexpected"]
        merged["reconnects"] += r["reconnects"]
        merged["examples"].extend(r["examples"])
        for k, v in r["per_kind"].items():
            merged["per_kind"][k] = merged["per_kind"].get(k, 0) + v
    return merged, elapsed


# -- set-up and report ------------------------------------------------------------------------

CRASH_MARKERS = ("panicked", "uncaught", "wasm trap", "runtimeerror", "[critical]")


def crash_lines(log_path):
    try:
        with open(log_path, errors="replace") as f:
            return [l.rstrip() for l in f if any(m in l.lower() for m in CRASH_MARKERS)]
    except OSError:
        return []


def put_object(port, bucket, key, data):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/{bucket}/{key}", data=data, method="PUT"
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        if r.status != 200:
            raise RuntimeError(f"PUT /{bucket}/{key}: {r.status}")


def stop(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def fmt_kib(k):
    return f"{k / 1024:.1f} MiB ({k} kB)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envoy", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--objstore", required=True)
    ap.add_argument("--requests", type=int, default=1_000_000, help="requests after the warm-up (default 1,000,000)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up requests (default: 2%% of --requests, 2,000 to 50,000)")
    ap.add_argument("--processes", type=int, default=2, help="client processes (default 2)")
    ap.add_argument("--threads", type=int, default=4, help="keep-alive connections per process (default 4)")
    ap.add_argument("--max-growth", type=float, default=5.0, help="fail when RSS grows by this many percent or more (default 5)")
    ap.add_argument("--max-seconds", type=float, default=3600, help="give up after this long (default 3600)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with Envoy's bootstrap and log")
    args = ap.parse_args()

    for path, what in ((args.envoy, "Envoy"), (args.wasm, "wasm"), (args.objstore, "objstore")):
        if not os.path.isfile(path):
            print(f"soak: {what} not found at {path} (make build envoy; cargo build --release -p bucket-cors-testkit --bin objstore)", file=sys.stderr)
            return 2
    wasm = os.path.abspath(args.wasm)
    warmup = args.warmup if args.warmup is not None else max(2_000, min(50_000, args.requests // 50))
    deadline = time.monotonic() + args.max_seconds

    tmp = tempfile.mkdtemp(prefix="bucket-cors-soak-")
    store = envoy = None
    rc = 2
    started = False
    try:
        up_port, listen, admin = free_port(), free_port(), free_port()
        # The store logs one line per request to stderr: not kept.
        store = subprocess.Popen(
            [args.objstore, "--listen", f"127.0.0.1:{up_port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: socket.create_connection(("127.0.0.1", up_port), timeout=1).close() is None,
                   20, "objstore")
        put_object(up_port, "photos", "cat.jpg", b"meow")
        put_object(up_port, "public", "logo.png", b"png")

        boot = os.path.join(tmp, "bootstrap.yaml")
        with open(boot, "w") as f:
            f.write(bootstrap(wasm, listen, admin, up_port))
        log = os.path.join(tmp, "envoy.log")
        envoy = subprocess.Popen(
            [args.envoy, "-c", boot, "--concurrency", "1", "--disable-hot-restart",
             "-l", "warning", "--log-path", log],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "stderr.log"), "w"),
        )
        wait_until(lambda: envoy.poll() is None and http_get(f"http://127.0.0.1:{admin}/ready")[0] == 200,
                   120, "Envoy")
        if envoy.poll() is not None:
            raise RuntimeError("Envoy exited")
        print(f"soak: Envoy pid {envoy.pid} on 127.0.0.1:{listen} (admin {admin}), objstore pid {store.pid} on 127.0.0.1:{up_port}")
        print(f"soak: mix of {len(MIX)} slots: " + ", ".join(
            f"{c} {sum(1 for k in MIX if KINDS[k][0] == c) * 100 // len(MIX)}%"
            for c in ("allowed", "refused", "preflight", "no Origin")))
        print(f"soak: {args.processes} client processes x {args.threads} keep-alive connections")

        started = True
        rss_start = rss_kib(envoy.pid)
        w, w_elapsed = load(listen, warmup, args.processes, args.threads, deadline)
        time.sleep(1.0)
        rss_before = rss_kib(envoy.pid)
        print(f"soak: warm-up {w['done']:,} requests in {w_elapsed:.1f} s, {w['unexpected']} unexpected; "
              f"RSS at start {fmt_kib(rss_start)}, after warm-up {fmt_kib(rss_before)}")

        samples = []

        def progress(elapsed):
            try:
                r = rss_kib(envoy.pid)
            except (OSError, RuntimeError):
                return
            samples.append((elapsed, r))
            if len(samples) % 6 == 1:  # about every 30 s
                print(f"soak:   {elapsed:6.0f} s  RSS {fmt_kib(r)}", flush=True)

        res, elapsed = load(listen, args.requests, args.processes, args.threads, deadline, progress)
        time.sleep(1.0)
        alive = envoy.poll() is None
        rss_after = rss_kib(envoy.pid) if alive else 0
        ready = False
        if alive:
            try:
                ready = http_get(f"http://127.0.0.1:{admin}/ready") == (200, "LIVE\n")
            except OSError:
                ready = False
        stats = ""
        if alive:
            try:
                stats = http_get(f"http://127.0.0.1:{admin}/stats?filter=bucket_cors")[1]
            except OSError:
                pass
        crashes = crash_lines(log)
        growth = (rss_after - rss_before) * 100.0 / rss_before if rss_before else 0.0
        unexpected = res["unexpected"] + w["unexpected"]

        print()
        print("bucket-cors soak summary")
        print(f"  requests        {res['done']:,} (+ {w['done']:,} warm-up)")
        print(f"  duration        {elapsed:.1f} s")
        print(f"  throughput      {res['done'] / elapsed:,.0f} req/s")
        print(f"  unexpected      {unexpected} (warm-up {w['unexpected']}, run {res['unexpected']})")
        for e in (w["examples"] + res["examples"])[:MAX_EXAMPLES]:
            print(f"                  {e}")
        print(f"  reconnects      {res['reconnects'] + w['reconnects']} (Envoy closed a keep-alive connection)")
        print(f"  Envoy RSS       before {fmt_kib(rss_before)}, after {fmt_kib(rss_after)}, growth {growth:+.3f}%"
              f" (limit {args.max_growth}%)")
        if samples:
            lo, hi = min(s[1] for s in samples), max(s[1] for s in samples)
            print(f"  RSS during run  min {fmt_kib(lo)}, max {fmt_kib(hi)} ({len(samples)} samples)")
        print(f"  Envoy           {'alive' if alive else 'DEAD'}, /ready {'LIVE' if ready else 'NOT READY'}, "
              f"{len(crashes)} Wasm crash/critical log line(s)")
        for l in crashes[:5]:
            print(f"                  {l}")
        print("  per kind (run)")
        for k in KINDS:
            print(f"    {res['per_kind'].get(k, 0):>9,}  {k}")
        got = {}
        for l in stats.splitlines():
            name, _, value = l.partition(":")
            if "bucket_cors." in name and value.strip().isdigit():
                got[name.split("bucket_cors.", 1)[1]] = int(value)
        want = {c: 0 for c in COUNTER.values()}
        for part in (w, res):
            for k, n in part["per_kind"].items():
                if k in COUNTER:
                    want[COUNTER[k]] += n
        counters_ok = alive and all(got.get(c) == n for c, n in want.items())
        print(f"  filter counters (Envoy /stats, warm-up included): {'as sent' if counters_ok else 'MISMATCH'}")
        for c in sorted(set(want) | set(got)):
            mark = "" if c not in want or got.get(c) == want[c] else f"   (want {want[c]:,})"
            print(f"    {got.get(c, 0):>9,}  bucket_cors.{c}{mark}")

        ok = (unexpected == 0 and alive and ready and not crashes and counters_ok
              and growth < args.max_growth)
        print(f"\nsoak: {'PASS' if ok else 'FAIL'}")
        rc = 0 if ok else 1
    except (RuntimeError, TimeoutError, OSError) as e:
        print(f"soak: {e}", file=sys.stderr)
        if os.path.exists(os.path.join(tmp, "envoy.log")):
            with open(os.path.join(tmp, "envoy.log"), errors="replace") as f:
                print("".join(f.readlines()[-30:]), file=sys.stderr)
        # A failure once the load has started is a failed soak (1), before it a set-up error (2).
        rc = 1 if started else 2
    finally:
        stop(envoy)
        stop(store)
        if args.keep:
            print(f"soak: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
