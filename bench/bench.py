#!/usr/bin/env python3
"""`make bench`: bucket-cors against Envoy without a filter, a no-op proxy-wasm
filter and Envoy's native CORS filter, on loopback, with `wrk`.

Phases (all bounded in time; every process started here is killed at the end):

  main    four Envoys that differ only in the filter -- none, noop (bench/noop),
          native (envoy.filters.http.cors), bucket-cors -- each `--concurrency 1`,
          routes are `direct_response` (no upstream). For every round, for every
          scenario, each Envoy in turn (order rotated per round) gets a `wrk` run
          of --seconds; Envoy's CPU time (utime+stime from /proc/<pid>/stat) is
          read before and after, so CPU/request = delta / requests. Envoy is
          pinned to one core and wrk to the other (taskset).
  probe   the host-call shapes of bucket-cors without its policy (bench/noop in
          its probe modes), on the allowed actual GET: where the per-request
          cost goes.
  scale   bucket-cors with 1, 1,000, 10,000 and 100,000 buckets (every 10th
          bucket and the benchmarked one with 10 rules): CPU/request per
          scenario, start-up time until ready, RSS, RSS per extra worker
          (--concurrency 2 minus 1), config size; a count whose Envoy does not
          start is recorded with the reason from its log.
  startup each Envoy alone, started 3 times: median spawn -> first request served.
  opt     bucket-cors as cargo builds it vs wasm-opt -O3 / -Oz: start-up and
          CPU/request (needs binaryen).
  size    the .wasm size, with wasm-opt -O3 / -Oz when binaryen is installed,
          and the largest contributors by crate (from the wasm name section).

Output: --out (bench/results.json) and, unless --quick, the generated section
of BENCHMARKS.md (between the bench:begin / bench:end markers).

Every Envoy's bootstrap comes from testkit's `bootstrap` binary, the generator
the tests and the soak use (built here with cargo, as bench/noop is).

python3 standard library only. Needs wrk and taskset; binaryen optional.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "target" / "bench-run"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------
# The policy: the README's "photos" bucket. The native CorsPolicy is the
# closest equivalent Envoy can express (it does not check requested headers
# and has no per-bucket selection).

ORIGIN_OK = "https://www.example.com"
ORIGIN_BAD = "https://evil.example.net"

PHOTOS_RULE = {
    "ID": "example-com-uploads",
    "AllowedOrigin": ["https://www.example.com", "https://*.example.com"],
    "AllowedMethod": ["GET", "PUT", "HEAD"],
    "AllowedHeader": ["content-type", "x-amz-meta-*"],
    "ExposeHeader": ["ETag", "x-amz-request-id"],
    "MaxAgeSeconds": 600,
}

# The native CorsPolicy, as arguments of the testkit `bootstrap` binary.
NATIVE_CORS_ARGS = [
    "--native-cors",
    "--cors-origin", "https://www.example.com",
    "--cors-origin-regex", r"https://.*\.example\.com",
    "--cors-methods", "GET, PUT, HEAD",
    "--cors-headers", "content-type, x-amz-meta-*",
    "--cors-expose-headers", "ETag, x-amz-request-id",
    "--cors-max-age", "600",
    "--cors-credentials",
]

# name -> (method, headers, {envoy kind: expected status}, expect ACAO on bucket-cors)
SCENARIOS = {
    "allowed_get": ("GET", {"Origin": ORIGIN_OK}),
    "refused_get": ("GET", {"Origin": ORIGIN_BAD}),
    "allowed_preflight": ("OPTIONS", {"Origin": ORIGIN_OK,
                                      "Access-Control-Request-Method": "PUT",
                                      "Access-Control-Request-Headers": "content-type"}),
    "refused_preflight": ("OPTIONS", {"Origin": ORIGIN_BAD,
                                      "Access-Control-Request-Method": "PUT"}),
    "no_origin": ("GET", {}),
}
PATH = "/photos/cat.jpg"

# What bucket-cors must answer (checked once per Envoy before measuring).
EXPECT_BUCKET_CORS = {
    "allowed_get": (200, ORIGIN_OK),
    "refused_get": (200, None),
    "allowed_preflight": (200, ORIGIN_OK),
    "refused_preflight": (403, None),
    "no_origin": (200, None),
}


def photos_cors(rules):
    return {"CORSRule": rules, "ResponseVary": True}


def filler_rule(i, j):
    """Rule j of filler bucket i: never matches the benchmark origins."""
    return {
        "ID": f"r{j}",
        "AllowedOrigin": [f"https://app{i}-{j}.example.org", f"https://*.tenant{i}-{j}.example.org"],
        "AllowedMethod": ["GET", "PUT", "HEAD"],
        "AllowedHeader": ["content-type", "x-amz-meta-*"],
        "ExposeHeader": ["ETag"],
        "MaxAgeSeconds": 300,
    }


def plugin_config(buckets=1, rules_photos=1, many_rules_every=10):
    """The bucket-cors configuration. `photos` is the benchmarked bucket; with
    rules_photos=10 its matching rule is the last of 10. Other buckets are
    fillers; every `many_rules_every`-th has 10 rules."""
    photos = [filler_rule(0, j) for j in range(rules_photos - 1)] + [PHOTOS_RULE]
    b = {"photos": photos_cors(photos)}
    for i in range(1, buckets):
        n = 10 if many_rules_every and i % many_rules_every == 0 else 1
        b[f"bucket-{i:06d}"] = photos_cors([filler_rule(i, j) for j in range(n)])
    return {"endpoints": ["s3.example.internal"], "path_style": True, "buckets": b,
            "default": None, "unmatched_preflight": "reject"}


def inline_config(buckets):
    """`buckets` buckets, each with its own inline rule (no two alike); `photos` is
    the benchmarked one (its rule matches first)."""
    b = {"photos": photos_cors([PHOTOS_RULE])}
    for i in range(1, buckets):
        b[f"bucket-{i:07d}"] = photos_cors([filler_rule(i, 0)])
    return {"endpoints": ["s3.example.internal"], "path_style": True, "buckets": b}


def policies_config(buckets, policies):
    """`buckets` buckets naming `policies` shared named policies (docs/spec.md §1); `photos`
    names the benchmarked rule's policy."""
    pol = {f"p{j}": photos_cors([filler_rule(j, 0)]) for j in range(policies - 1)}
    pol["web"] = photos_cors([PHOTOS_RULE])
    b = {"photos": "web"}
    for i in range(1, buckets):
        b[f"bucket-{i:07d}"] = f"p{i % (policies - 1)}"
    return {"endpoints": ["s3.example.internal"], "path_style": True, "policies": pol,
            "buckets": b}


# --------------------------------------------------------------------------
# Envoy configurations: JSON bootstraps written by testkit's `bootstrap` binary,
# the generator the tests and the soak use (JSON: a 100,000-bucket
# configuration is tens of MB, which Envoy's YAML path would parse much more
# slowly). Every route is a `direct_response` (no upstream).

BOOTSTRAP_BIN = ROOT / "target/release/bootstrap"


def filter_args(kind, wasms, plugin_config_file):
    """The `bootstrap` arguments of the HTTP filter of `kind`:
    none | noop | probe:<mode> | native | bucket-cors | module."""
    if kind == "none":
        return []
    if kind == "native":
        return NATIVE_CORS_ARGS
    if kind == "noop":
        return ["--wasm", "noop", str(wasms["noop"]), "noop"]
    if kind.startswith("probe:"):
        return ["--wasm", "noop", str(wasms["noop"]), kind.split(":", 1)[1]]
    if kind == "bucket-cors":
        return ["--wasm", "bucket-cors", str(wasms["bucket-cors"]), f"@{plugin_config_file}"]
    if kind == "module":
        return ["--module", str(wasms["module"]), f"@{plugin_config_file}"]
    raise ValueError(kind)


# The backend every measured Envoy routes to (`start_backend`): Envoy's native CORS
# filter returns early on a route without a route entry (`direct_response`), so
# every scenario goes through a cluster route, as a real deployment does.
UPSTREAM = None


def write_bootstrap(path, kind, port, admin_port, wasms):
    """Writes the bootstrap of `kind` to `path` (the plugin configuration next to it):
    a cluster route to UPSTREAM, or a `direct_response` for the backend itself."""
    plugin_config_file = path.parent / "plugin-config.json"
    if kind in ("bucket-cors", "module"):
        plugin_config_file.write_text(wasms["plugin_config"])
    route = ["--upstream", UPSTREAM] if kind != "backend" else ["--direct", "200", "ok"]
    subprocess.run([str(BOOTSTRAP_BIN), "--listen", str(port), "--admin", str(admin_port),
                    "--out", str(path)] + route
                   + filter_args("none" if kind == "backend" else kind, wasms, plugin_config_file),
                   check=True, timeout=120)


# --------------------------------------------------------------------------
# Processes

STARTED = []  # every Popen started here, killed on exit


def kill_all():
    for p in STARTED:
        if p.poll() is None:
            try:
                p.kill()
            except ProcessLookupError:
                pass
    for p in STARTED:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    STARTED.clear()


def on_signal(signum, _frame):
    kill_all()
    sys.exit(128 + signum)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_envoy(path):
    """The venv's `envoy` is a Python shim that execs the binary: use the
    binary itself so start-up time has no Python in it."""
    p = Path(path)
    with open(p, "rb") as f:
        if f.read(4) == b"\x7fELF":
            return p
    found = sorted((p.parent.parent / "lib").glob("python3*/site-packages/envoy/_bin/envoy"))
    if not found:
        sys.exit(f"cannot find the Envoy binary behind {p}")
    return found[0]


def log_reason(path):
    """The lines of an Envoy log that say why it stopped (wasm log, critical)."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    wasm, other = [], []
    for line in lines:
        if "backtrace" in line:
            continue
        m = re.search(r"wasm log [^:]*: (.*)$", line)
        if m:
            wasm.append(m.group(1))  # a panic message comes split over several lines
        elif "critical" in line:
            other.append(re.sub(r"^.*\] ", "", line).strip())
    text = "".join(wasm[:3]).strip()
    return "; ".join(x for x in [f"filter: {text}" if text else ""] + other[:3] if x)[:1000]


def http_get(port, method, path, headers, timeout=2.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()


class Envoy:
    def __init__(self, label, kind, envoy_bin, wasms, core, concurrency=1, wrapper=()):
        self.label, self.kind = label, kind
        self.port, self.admin = free_port(), free_port()
        self.dir = RUN / label
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cfg = self.dir / "envoy.json"
        write_bootstrap(self.cfg, kind, self.port, self.admin, wasms)
        self.config_bytes = self.cfg.stat().st_size
        self.plugin_config_bytes = (len(wasms["plugin_config"].encode())
                                    if kind in ("bucket-cors", "module") else 0)
        cmd = ["taskset", "-c", str(core), *wrapper, str(envoy_bin), "-c", str(self.cfg),
               "--concurrency", str(concurrency), "--disable-hot-restart",
               "--log-level", "warn", "--log-path", str(self.dir / "envoy.log")]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.dir / "stderr.log", "wb"),
                                     start_new_session=True)
        STARTED.append(self.proc)
        self.pid = self.proc.pid
        self.ready_s = None      # admin /ready says LIVE
        self.ready_cpu_s = None  # Envoy's CPU time (every thread) when it said LIVE
        self.serving_s = None    # first bench request answered through the filter

    def wait_ready(self, timeout):
        deadline = self.t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label}: Envoy exited ({self.proc.returncode}); "
                                   f"see {self.dir}/envoy.log")
            try:
                if self.ready_s is None:
                    st, _ = http_get(self.admin, "GET", "/ready", {}, timeout=0.5)
                    if st == 200:
                        self.ready_s = time.monotonic() - self.t0
                        self.ready_cpu_s = self.cpu_ticks() / CLK_TCK
                if self.ready_s is not None:
                    st, _ = http_get(self.port, "GET", PATH, {"Origin": ORIGIN_OK}, timeout=0.5)
                    if st == 200:
                        self.serving_s = time.monotonic() - self.t0
                        return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{self.label}: not ready after {timeout}s; see {self.dir}/envoy.log")

    def cpu_ticks(self):
        """utime+stime of the whole process (all threads), in clock ticks."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        f = stat[stat.rindex(")") + 2:].split()
        return int(f[11]) + int(f[12])  # fields 14 and 15

    def cpu_ns(self):
        """Sum of the threads' run time from schedstat (ns): a finer cross-check."""
        total = 0
        for t in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                total += int((t / "schedstat").read_text().split()[0])
            except (OSError, ValueError):
                pass
        return total

    def rss_kib(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


# --------------------------------------------------------------------------
# Load

WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


def wrk_script(name):
    method, headers = SCENARIOS[name]
    path = RUN / f"wrk-{name}.lua"
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{PATH}"']
    for k, v in headers.items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    path.write_text("\n".join(lines) + "\n" + WRK_DONE)
    return path


def drive(envoy, scenario, seconds, connections, core):
    """One bounded wrk run against `envoy`; returns the measurement."""
    script = RUN / f"wrk-{scenario}.lua"
    cmd = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
           "--timeout", "5s", "-s", str(script), f"http://127.0.0.1:{envoy.port}{PATH}"]
    t0, n0 = envoy.cpu_ticks(), envoy.cpu_ns()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    t1, n1 = envoy.cpu_ticks(), envoy.cpu_ns()
    m = re.search(r"^BENCHJSON (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed on {envoy.label}/{scenario}: {out.stdout}{out.stderr}")
    r = json.loads(m.group(1))
    n = max(r["requests"], 1)
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu_s"] = (t1 - t0) / CLK_TCK
    r["cpu_us_per_req"] = (t1 - t0) / CLK_TCK * 1e6 / n
    r["sched_cpu_us_per_req"] = (n1 - n0) / 1e3 / n
    r["cpu_util"] = r["cpu_s"] / (r["duration_us"] / 1e6)
    return r


def check(envoy, scenario):
    """One request through the Envoy: status and the CORS headers it got."""
    method, headers = SCENARIOS[scenario]
    st, h = http_get(envoy.port, method, PATH, headers)
    return {"status": st, "acao": h.get("access-control-allow-origin"), "vary": h.get("vary")}


def verify_bucket_cors(envoy, scenarios):
    for s in scenarios:
        c = check(envoy, s)
        want_status, want_acao = EXPECT_BUCKET_CORS[s]
        if c["status"] != want_status or c["acao"] != want_acao:
            raise RuntimeError(f"{envoy.label}/{s}: got {c}, want status {want_status} ACAO {want_acao}")


KEYS = ["cpu_us_per_req", "sched_cpu_us_per_req", "rps", "p50_us", "p90_us", "p99_us", "cpu_util"]


def med(rounds, key):
    return statistics.median(r[key] for r in rounds)


def summarise(rounds):
    return {k: round(med(rounds, k), 3) for k in KEYS}


def run_rounds(envoys, scenarios, rounds, seconds, connections, load_core, log):
    """results[scenario][label] = list of per-round measurements."""
    res = {s: {e.label: [] for e in envoys} for s in scenarios}
    for rnd in range(rounds):
        for s in scenarios:
            # Rotate the order every round so no Envoy always runs first or last.
            k = (rnd + list(scenarios).index(s)) % len(envoys)
            for e in envoys[k:] + envoys[:k]:
                r = drive(e, s, seconds, connections, load_core)
                r["round"] = rnd
                res[s][e.label].append(r)
                log(f"  round {rnd + 1}/{rounds} {s:18} {e.label:16} "
                    f"{r['rps']:9.0f} req/s  {r['cpu_us_per_req']:7.2f} us CPU/req  "
                    f"p99 {r['p99_us']} us")
    return res


def ratio_per_round(res_s, num, den, key="cpu_us_per_req"):
    """Median over rounds of num/den measured in the same round."""
    a = {r["round"]: r[key] for r in res_s[num]}
    b = {r["round"]: r[key] for r in res_s[den]}
    rs = [a[k] / b[k] for k in a if k in b and b[k] > 0]
    return round(statistics.median(rs), 3) if rs else None


# --------------------------------------------------------------------------
# Size

def leb(buf, i):
    v = s = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << s
        s += 7
        if b < 0x80:
            return v, i


def wasm_breakdown(path, top=12):
    """Code bytes per crate (from the name section), data and custom sections."""
    buf = Path(path).read_bytes()
    i, sections, imported_funcs, bodies, names = 8, {}, 0, [], {}
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        end = j + size
        if sid == 0:
            nlen, k = leb(buf, j)
            cname = buf[k:k + nlen].decode(errors="replace")
            sections[f"custom:{cname}"] = sections.get(f"custom:{cname}", 0) + size
            if cname == "name":
                k += nlen
                while k < end:
                    sub, k = buf[k], k + 1
                    ssz, k = leb(buf, k)
                    if sub == 1:
                        cnt, m = leb(buf, k)
                        for _ in range(cnt):
                            idx, m = leb(buf, m)
                            ln, m = leb(buf, m)
                            names[idx] = buf[m:m + ln].decode(errors="replace")
                            m += ln
                    k += ssz
        else:
            sections[{1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global",
                      7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
                      12: "datacount"}.get(sid, str(sid))] = size
            if sid == 2:
                cnt, k = leb(buf, j)
                for _ in range(cnt):
                    for _ in range(2):
                        ln, k = leb(buf, k)
                        k += ln
                    kind = buf[k]
                    k += 1
                    if kind == 0:
                        _, k = leb(buf, k)
                        imported_funcs += 1
                    elif kind == 1:
                        k += 1
                        flags, k = leb(buf, k)
                        _, k = leb(buf, k)
                        if flags & 1:
                            _, k = leb(buf, k)
                    elif kind == 2:
                        flags, k = leb(buf, k)
                        _, k = leb(buf, k)
                        if flags & 1:
                            _, k = leb(buf, k)
                    elif kind == 3:
                        k += 2
            if sid == 10:
                cnt, k = leb(buf, j)
                for _ in range(cnt):
                    bs, k = leb(buf, k)
                    bodies.append(bs)
                    k += bs
        i = end
    per_crate = {}
    for n, bs in enumerate(bodies):
        per_crate.setdefault(crate_of(names.get(imported_funcs + n, "?")), 0)
        per_crate[crate_of(names.get(imported_funcs + n, "?"))] += bs
    crates = sorted(per_crate.items(), key=lambda kv: -kv[1])
    return {"bytes": len(buf), "sections": sections, "functions": len(bodies),
            "code_by_crate": dict(crates[:top]),
            "code_other_crates": sum(v for _, v in crates[top:])}


def crate_of(sym):
    """The crate a (mangled or demangled) Rust symbol belongs to, roughly."""
    s = sym
    if s.startswith("_ZN"):
        # Legacy mangling: _ZN<len><ident>...; a trait impl's ident is
        # `_$LT$path..Type$u20$as$u20$path..Trait$GT$` (`..` is `::`):
        # the first path's crate, else the trait's.
        body = s[3:]
        n = re.match(r"(\d+)", body)
        if n:
            ident = body[len(n.group(1)):len(n.group(1)) + int(n.group(1))]
            if "$LT$" in ident:
                inner = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.\.", ident)
                return inner.group(1) if inner else "(generic impls)"
            return ident
    if s.startswith("_R"):
        # v0 mangling: the first crate root is C[s<hash>_]<len><name>.
        v0 = re.search(r"C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)", s)
        if v0:
            return v0.group(2)[:int(v0.group(1))]
    if "::" in s:
        return s.lstrip("<").split("::")[0]
    return "(non-Rust: libc, compiler-builtins, exports)"


def wasm_opt(wasm, flag):
    """`wasm-opt <flag> --strip-debug --strip-producers` of `wasm`, under target/."""
    dst = RUN / f"bucket_cors{flag}.wasm"
    r = subprocess.run(["wasm-opt", flag, "--strip-debug", "--strip-producers", str(wasm),
                        "-o", str(dst)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-500:])
    return dst


def size_phase(wasm, noop_wasm, log):
    out = {"bucket_cors": {"path": str(wasm), "bytes": wasm.stat().st_size},
           "noop": {"path": str(noop_wasm), "bytes": noop_wasm.stat().st_size},
           "target_bytes": 600 * 1024}
    try:
        out["bucket_cors"]["breakdown"] = wasm_breakdown(wasm)
    except Exception as e:  # a format this parser does not know: size only
        out["bucket_cors"]["breakdown_error"] = repr(e)
    opt = shutil.which("wasm-opt")
    if opt:
        ver = subprocess.run([opt, "--version"], capture_output=True, text=True).stdout.strip()
        out["wasm_opt_version"] = ver
        for flag in ("-O3", "-Oz"):
            try:
                dst = wasm_opt(wasm, flag)
                out[f"wasm_opt{flag}"] = {"path": str(dst), "bytes": dst.stat().st_size}
            except RuntimeError as e:
                out[f"wasm_opt{flag}"] = {"error": str(e)}
    else:
        out["wasm_opt"] = "not installed (apt-get install binaryen)"
    log(f"size: bucket_cors.wasm {out['bucket_cors']['bytes']} B; "
        + ", ".join(f"{k} {v.get('bytes')} B" for k, v in out.items()
                    if k.startswith("wasm_opt-") and isinstance(v, dict)))
    return out


# --------------------------------------------------------------------------

def machine():
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "mem_total_kib": int(mem),
            "kernel": platform.release(), "python": platform.python_version()}


def tool_version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


class Run:
    """What every phase needs: the options, the binaries, the log and the results so far."""

    def __init__(self, a, envoy_bin, wasm, noop_wasm, module=None):
        self.a, self.envoy_bin, self.wasm, self.noop_wasm = a, envoy_bin, wasm, noop_wasm
        self.module = module
        self.base_wasms = {"noop": noop_wasm, "bucket-cors": wasm, "module": module,
                           "plugin_config": json.dumps(plugin_config(1, 1))}
        self.started = time.monotonic()
        self.results = {}

    def log(self, msg):
        print(f"[{time.monotonic() - self.started:7.1f}s] {msg}", flush=True)

    def envoy(self, label, kind, wasms=None, concurrency=1):
        return Envoy(label, kind, self.envoy_bin, wasms or self.base_wasms, self.a.envoy_core,
                     concurrency=concurrency)

    def warm(self, envoys, scenarios):
        for e in envoys:
            for s in scenarios:
                drive(e, s, 1, self.a.connections, self.a.load_core)

    def rounds(self, envoys, scenarios):
        return run_rounds(envoys, list(scenarios), self.a.rounds, self.a.seconds,
                          self.a.connections, self.a.load_core, self.log)


def filter_kinds(run):
    """The Envoys of the main phase, in order; the module only with --module."""
    return ["none", "noop", "native", "bucket-cors"] + (["module"] if run.module else [])


def cors_kinds(run):
    """The bucket-cors builds: the Wasm filter, and the dynamic module with --module."""
    return ["bucket-cors"] + (["module"] if run.module else [])


def verify_native(envoy):
    """The native CORS filter must really act behind the cluster route: an allowed
    preflight answered with ACAO (not forwarded), and ACAO on the allowed GET."""
    for s in ("allowed_preflight", "allowed_get"):
        c = check(envoy, s)
        if c["status"] != 200 or c["acao"] != ORIGIN_OK:
            raise RuntimeError(f"{envoy.label}/{s}: got {c}, want 200 with ACAO {ORIGIN_OK}: "
                               "the native CORS filter is inert")


# The ratios of the main table: numerator / denominator, measured in the same round.
MAIN_RATIOS = [("bucket-cors", "noop"), ("bucket-cors", "native"), ("module", "native"),
               ("module", "noop"), ("noop", "none"), ("native", "none"), ("bucket-cors", "none")]


def phase_main(run):
    """The Envoys that differ only in the filter, every scenario."""
    kinds = filter_kinds(run)
    run.log(f"main: starting {len(kinds)} Envoys ({', '.join(kinds)}) behind a cluster route")
    envoys = []
    for k in kinds:
        # One at a time, so that each start-up time is its own.
        envoys.append(run.envoy(k, k))
        envoys[-1].wait_ready(60)
    by_kind = {e.label: e for e in envoys}
    for k in cors_kinds(run):
        verify_bucket_cors(by_kind[k], SCENARIOS)
    verify_native(by_kind["native"])
    checks = {s: {e.label: check(e, s) for e in envoys} for s in SCENARIOS}
    run.log("main: warm-up")
    run.warm(envoys, SCENARIOS)
    res = run.rounds(envoys, SCENARIOS)
    out = {"envoys": {e.label: {"startup_ready_s": round(e.ready_s, 3),
                                "startup_serving_s": round(e.serving_s, 3),
                                "rss_kib": e.rss_kib(),
                                "config_bytes": e.config_bytes} for e in envoys},
           "upstream": "Envoy direct_response 200 (cluster route)",
           "checks": checks, "scenarios": {}}
    for s in SCENARIOS:
        out["scenarios"][s] = {
            "median": {lbl: summarise(rs) for lbl, rs in res[s].items()},
            "ratio_cpu_per_req": {f"{a}/{b}": ratio_per_round(res[s], a, b)
                                  for a, b in MAIN_RATIOS if a in by_kind and b in by_kind},
            "ratio_sched_cpu_per_req": {f"{a}/{b}": ratio_per_round(res[s], a, b,
                                                                     "sched_cpu_us_per_req")
                                        for a, b in MAIN_RATIOS if a in by_kind and b in by_kind},
            "rounds": res[s],
        }
    return out


def phase_probe(run):
    """The host-call shapes of bucket-cors without its policy, on allowed_get."""
    modes = ["noop", "reqmap", "maps", "maps_set6", "maps_setmap", "single", "single_set6"]
    run.log("probe: starting " + ", ".join(modes) + " and bucket-cors")
    envoys = [run.envoy(f"probe-{m}", f"probe:{m}") for m in modes]
    envoys.append(run.envoy("probe-bucket-cors", "bucket-cors"))
    for e in envoys:
        e.wait_ready(60)
    run.warm(envoys, ["allowed_get"])
    res = run.rounds(envoys, ["allowed_get"])["allowed_get"]
    return {
        "scenario": "allowed_get",
        "median": {lbl: summarise(rs) for lbl, rs in res.items()},
        "minus_noop_us": {lbl: round(statistics.median(
            r["cpu_us_per_req"] - n["cpu_us_per_req"]
            for r, n in zip(rs, res["probe-noop"])), 3) for lbl, rs in res.items()},
        "rounds": res,
    }


def scale_start(run, kind, n, scale):
    """Starts bucket-cors (`kind`: the Wasm filter or the module) with `n` buckets;
    returns the Envoy, or None (recorded) when it does not start."""
    t = time.monotonic()
    cfg = json.dumps(plugin_config(n, 10))
    gen_s = time.monotonic() - t
    e = run.envoy(scale_label(kind, n), kind, dict(run.base_wasms, plugin_config=cfg))
    try:
        e.wait_ready(600)
        verify_bucket_cors(e, SCENARIOS)
    except RuntimeError as err:
        failed_after = time.monotonic() - e.t0
        e.stop()
        scale["envoys"][e.label] = {
            "kind": kind, "buckets": n, "plugin_config_bytes": e.plugin_config_bytes,
            "bootstrap_bytes": e.config_bytes, "failed": str(err),
            "failed_after_s": round(failed_after, 2),
            "log": log_reason(e.dir / "envoy.log")}
        run.log(f"  {n} buckets: FAILED after {failed_after:.1f}s: {scale['envoys'][e.label]['log']}")
        return None
    time.sleep(1)
    scale["envoys"][e.label] = {
        "kind": kind, "buckets": n, "plugin_config_bytes": e.plugin_config_bytes,
        "bootstrap_bytes": e.config_bytes, "generate_s": round(gen_s, 3),
        "startup_ready_s": round(e.ready_s, 3),
        "startup_serving_s": round(e.serving_s, 3),
        "rss_kib_concurrency1": e.rss_kib()}
    run.log(f"  {kind} {n} buckets: config {e.plugin_config_bytes} B, ready in "
            f"{e.ready_s:.2f}s, serving in {e.serving_s:.2f}s, RSS {e.rss_kib()} KiB")
    return e


def scale_label(kind, n):
    return f"scale-{n}" if kind == "bucket-cors" else f"scale-{kind}-{n}"


def phase_scale(run):
    """bucket-cors (each build) with more and more buckets: start-up, RSS per worker,
    CPU/request."""
    counts = [int(x) for x in run.a.scale.split(",")]
    kinds = cors_kinds(run)
    run.log(f"scale: {', '.join(kinds)} with {counts} buckets ('photos' has 10 rules)")
    scale = {"counts": counts, "kinds": kinds, "rules_of_benchmarked_bucket": 10,
             "filler": "every 10th bucket 10 rules, the others 1", "envoys": {}}
    envoys = [e for e in (scale_start(run, k, n, scale) for k in kinds for n in counts)
              if e is not None]
    # RSS per worker: the same configuration with --concurrency 2, one at a time.
    for e in envoys:
        d = scale["envoys"][e.label]
        n = d["buckets"]
        w = dict(run.base_wasms, plugin_config=json.dumps(plugin_config(n, 10)))
        e2 = run.envoy(f"{e.label}-c2", d["kind"], w, concurrency=2)
        e2.wait_ready(600)
        time.sleep(1)
        d["startup_serving_s_concurrency2"] = round(e2.serving_s, 3)
        d["rss_kib_concurrency2"] = e2.rss_kib()
        d["rss_kib_per_extra_worker"] = e2.rss_kib() - d["rss_kib_concurrency1"]
        e2.stop()
    # Baseline: the no-op filter's RSS per extra worker.
    base = {}
    for c in (1, 2):
        e3 = run.envoy(f"scale-noop-c{c}", "noop", concurrency=c)
        e3.wait_ready(60)
        time.sleep(1)
        base[c] = e3.rss_kib()
        e3.stop()
    scale["noop_rss_kib"] = {"concurrency1": base[1], "concurrency2": base[2],
                             "per_extra_worker": base[2] - base[1]}
    run.warm(envoys, SCENARIOS)
    res = run.rounds(envoys, SCENARIOS)
    scale["scenarios"] = {}
    for s in SCENARIOS:
        ratios = {}
        for k in kinds:
            mine = [e for e in envoys if scale["envoys"][e.label]["kind"] == k]
            for e in mine[1:]:
                ratios[e.label] = ratio_per_round(res[s], e.label, mine[0].label)
        scale["scenarios"][s] = {
            "median": {lbl: summarise(rs) for lbl, rs in res[s].items()},
            "ratio_cpu_per_req_vs_first": ratios,
            "rounds": res[s],
        }
    return scale


# The shapes of the policies phase: label -> (buckets, plugin configuration).
POLICY_SHAPES = {
    "1 bucket": lambda: (1, inline_config(1)),
    "100,000 inline": lambda: (100_000, inline_config(100_000)),
    "1,000,000 over 100 policies": lambda: (1_000_000, policies_config(1_000_000, 100)),
}


def noop_abi_wasm():
    """Builds bench/noop-abi (the no-op with bucket-cors's export set and no SDK); its path."""
    subprocess.run(["cargo", "build", "--quiet", "--manifest-path",
                    str(ROOT / "bench/noop-abi/Cargo.toml"), "--target", "wasm32-wasip1",
                    "--release", "--target-dir", str(ROOT / "target/bench")],
                   check=True, timeout=900)
    return ROOT / "target/bench/wasm32-wasip1/release/bench_noop_abi.wasm"


def policy_builds(run):
    """The builds of the policies phase: (label, Envoy kind, wasms, answers CORS), the Wasm
    filter and the module (with --module), then each --policies-also NAME=FILE (a .wasm is
    a build of the Wasm filter, a libbucket_cors_module.so one of the module), to compare
    builds side by side in one run; with --policies-floor, bench/noop-abi given the same
    plugin configuration, which it never reads: what Envoy itself spends on it."""
    builds = [(k, k, run.base_wasms, True) for k in cors_kinds(run)]
    for spec in filter(None, run.a.policies_also.split(",")):
        name, path = spec.split("=", 1)
        path = Path(path).resolve()
        kind = "bucket-cors" if path.suffix == ".wasm" else "module"
        builds.append((name, kind, dict(run.base_wasms, **{kind: path}), True))
    if run.a.policies_floor:
        builds.append(("noop-abi", "bucket-cors",
                       dict(run.base_wasms, **{"bucket-cors": noop_abi_wasm()}), False))
    return builds


def policies_start(run, label, kind, wasms, answers):
    """One start of `kind` with one worker, then with two: ready time, RSS, RSS per further
    worker. Returns (measurement, the Envoy with one worker, still running)."""
    e = run.envoy(label, kind, wasms)
    e.wait_ready(600)
    if answers:
        verify_bucket_cors(e, SCENARIOS)
    time.sleep(1)
    d = {"startup_ready_s": round(e.ready_s, 3), "startup_serving_s": round(e.serving_s, 3),
         "startup_ready_cpu_s": round(e.ready_cpu_s, 2), "rss_kib_concurrency1": e.rss_kib()}
    e2 = run.envoy(f"{label}-c2", kind, wasms, concurrency=2)
    e2.wait_ready(600)
    time.sleep(1)
    d["rss_kib_per_extra_worker"] = e2.rss_kib() - d["rss_kib_concurrency1"]
    e2.stop()
    return d, e


def phase_policies(run):
    """Named policies at scale: 10^5 buckets with their own inline rules and 10^6
    buckets sharing 100 named policies, against 1 bucket: ready time and RSS with one
    worker, RSS per further worker (each the median of --policies-starts starts, builds taking turns),
    configuration size, CPU per request (unless --policies-no-cpu)."""
    builds = policy_builds(run)
    kinds = [b[0] for b in builds]
    cpu_kinds = [b[0] for b in builds if b[3]]
    starts = run.a.policies_starts
    run.log(f"policies: {', '.join(kinds)} with {', '.join(POLICY_SHAPES)}, {starts} start(s) each")
    shapes = {}
    for shape, make in POLICY_SHAPES.items():
        n, cfg = make()
        shapes[shape] = (n, len(cfg.get("policies", {})), json.dumps(cfg, separators=(",", ":")))
    out = {"kinds": kinds, "cpu_kinds": cpu_kinds, "starts": starts, "envoys": {}}
    measured = {}
    envoys = []
    for i in range(starts):
        for shape, (n, policies, text) in shapes.items():
            for name, kind, wasms, answers in builds:
                label = f"policies-{name}-{n}-{policies}"
                d, e = policies_start(run, label, kind, dict(wasms, plugin_config=text), answers)
                measured.setdefault(label, []).append(d)
                run.log(f"  {name} {shape} (start {i + 1}): ready {d['startup_ready_s']:.2f} s "
                        f"({d['startup_ready_cpu_s']:.2f} s CPU), "
                        f"RSS {d['rss_kib_concurrency1']} KiB, +{d['rss_kib_per_extra_worker']} KiB "
                        f"per further worker")
                if i == starts - 1 and answers and not run.a.policies_no_cpu:
                    envoys.append(e)
                else:
                    e.stop()
                out["envoys"][label] = {
                    "kind": name, "shape": shape, "buckets": n, "policies": policies,
                    "plugin_config_bytes": len(text.encode()),
                    **{k: statistics.median(x[k] for x in measured[label])
                       for k in measured[label][0]},
                    "starts": measured[label]}
    out["scenarios"] = {}
    if envoys:
        run.warm(envoys, SCENARIOS)
        res = run.rounds(envoys, SCENARIOS)
        for sc in SCENARIOS:
            ratios = {}
            for kind in cpu_kinds:
                mine = [e for e in envoys if out["envoys"][e.label]["kind"] == kind]
                for e in mine[1:]:
                    ratios[e.label] = ratio_per_round(res[sc], e.label, mine[0].label)
            out["scenarios"][sc] = {
                "median": {lbl: summarise(rs) for lbl, rs in res[sc].items()},
                "ratio_cpu_per_req_vs_first": ratios,
            }
    for e in envoys:
        e.stop()
    return out


def phase_startup(run):
    """Each Envoy alone, started 3 times: median spawn -> first request served."""
    run.log("startup: each Envoy started alone, 3 times (spawn -> first request served)")
    st = {}
    kinds = [(k, k, 1) for k in filter_kinds(run)]
    kinds += [(f"bucket-cors-{n}", "bucket-cors", n)
              for n in (1000, 10000) if n <= max(int(x) for x in run.a.scale.split(","))]
    for label, kind, n in kinds:
        w = dict(run.base_wasms, plugin_config=json.dumps(plugin_config(n, 1 if n == 1 else 10)))
        runs = []
        for _ in range(3):
            e = run.envoy(f"startup-{label}", kind, w)
            e.wait_ready(600)
            time.sleep(0.5)
            runs.append({"serving_s": round(e.serving_s, 3), "rss_kib": e.rss_kib()})
            e.stop()
        st[label] = {"buckets": n if kind in ("bucket-cors", "module") else None, "runs": runs,
                     "median_serving_s": statistics.median(r["serving_s"] for r in runs),
                     "median_rss_kib": statistics.median(r["rss_kib"] for r in runs)}
        run.log(f"  {label}: {st[label]['median_serving_s']:.2f} s, "
                f"{st[label]['median_rss_kib'] / 1024:.1f} MiB")
    return st


def phase_opt(run):
    """bucket-cors as cargo builds it vs wasm-opt -O3 / -Oz (needs binaryen)."""
    run.log("opt: bucket-cors as built by cargo vs wasm-opt -O3 / -Oz (with noop)")
    variants = {"cargo": run.wasm, "O3": wasm_opt(run.wasm, "-O3"),
                "Oz": wasm_opt(run.wasm, "-Oz")}
    envoys = [run.envoy("opt-noop", "noop")]
    envoys[-1].wait_ready(60)
    for name, path in variants.items():
        envoys.append(run.envoy(f"opt-{name}", "bucket-cors",
                                dict(run.base_wasms, **{"bucket-cors": path})))
        envoys[-1].wait_ready(60)
        verify_bucket_cors(envoys[-1], SCENARIOS)
    opt_scen = ["allowed_get", "allowed_preflight"]
    run.warm(envoys, opt_scen)
    res = run.rounds(envoys, opt_scen)
    return {
        "variants": {n: {"bytes": Path(p).stat().st_size,
                         "startup_serving_s": round(e.serving_s, 3),
                         "rss_kib": e.rss_kib()}
                     for (n, p), e in zip(variants.items(), envoys[1:])},
        "scenarios": {sc: {
            "median": {lbl: summarise(rs) for lbl, rs in res[sc].items()},
            "ratio_cpu_per_req_vs_noop": {e.label: ratio_per_round(res[sc], e.label, "opt-noop")
                                          for e in envoys[1:]},
            "rounds": res[sc]} for sc in opt_scen},
    }


def phase_size(run):
    return size_phase(run.wasm, run.noop_wasm, run.log)


# In the order they run; the opt phase only when binaryen's wasm-opt is installed.
PHASES = {"main": phase_main, "probe": phase_probe, "scale": phase_scale,
          "policies": phase_policies, "startup": phase_startup, "opt": phase_opt,
          "size": phase_size}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envoy", default=str(ROOT / ".venv/bin/envoy"))
    ap.add_argument("--wasm", default=str(ROOT / "target/wasm32-wasip1/release/bucket_cors.wasm"))
    ap.add_argument("--module", default=None,
                    help="libbucket_cors_module.so (make build-module): adds the module column "
                         "and its scale rows")
    ap.add_argument("--seconds", type=int, default=3, help="seconds per wrk run (whole seconds: wrk)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--scale", default="1,1000,100000", help="bucket counts of the scale phase")
    ap.add_argument("--phases", default=",".join(PHASES))
    ap.add_argument("--quick", action="store_true",
                    help="smoke check: 1 s runs, 1 round, scale 1 and 1000; writes under target/")
    ap.add_argument("--out", default=None, help="results JSON (default bench/results.json)")
    ap.add_argument("--no-markdown", action="store_true", help="do not update BENCHMARKS.md")
    ap.add_argument("--render", action="store_true",
                    help="only re-render BENCHMARKS.md from --out (no run)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other phases already in --out (re-run some phases only)")
    ap.add_argument("--policies-also", default="", metavar="NAME=FILE,...",
                    help="policies phase: more builds side by side (a .wasm of the filter or a "
                         "libbucket_cors_module.so), e.g. before=target/bench/old.wasm")
    ap.add_argument("--policies-starts", type=int, default=1,
                    help="policies phase: starts of each build and shape (medians reported)")
    ap.add_argument("--policies-floor", action="store_true",
                    help="policies phase: also bench/noop-abi given the same configuration "
                         "(Envoy's own cost of carrying it)")
    ap.add_argument("--policies-no-cpu", action="store_true",
                    help="policies phase: start-up and memory only, no CPU rounds")
    ap.add_argument("--envoy-core", type=int, default=1)
    ap.add_argument("--load-core", type=int, default=0)
    ap.add_argument("--command", default=None, help="the command to quote in BENCHMARKS.md")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.rounds, a.scale = 1, 1, "1,1000"
    a.out_path = Path(a.out) if a.out else (RUN / "results-quick.json" if a.quick
                                            else ROOT / "bench/results.json")
    a.write_md = not (a.quick or a.no_markdown)
    return a


def prepare_minimal(a):
    """Builds the no-op filter and the bootstrap generator; returns the Run (also
    bench/callgrind.py's start)."""
    RUN.mkdir(parents=True, exist_ok=True)
    envoy_bin = real_envoy(a.envoy)
    wasm = Path(a.wasm).resolve()
    if not wasm.exists():
        sys.exit(f"{wasm} is missing: run `make build`")
    module = Path(a.module).resolve() if a.module else None
    if module and not module.exists():
        sys.exit(f"{module} is missing: run `make build-module`")
    run = Run(a, envoy_bin, wasm, ROOT / "target/bench/wasm32-wasip1/release/bench_noop.wasm",
              module)
    run.log("building bench/noop (wasm32-wasip1, release) and testkit's bootstrap generator")
    subprocess.run(["cargo", "build", "--quiet", "--manifest-path", str(ROOT / "bench/noop/Cargo.toml"),
                    "--target", "wasm32-wasip1", "--release",
                    "--target-dir", str(ROOT / "target/bench")], check=True, timeout=900)
    subprocess.run(["cargo", "build", "--quiet", "--manifest-path", str(ROOT / "Cargo.toml"),
                    "--release", "-p", "bucket-cors-testkit", "--bin", "bootstrap"],
                   check=True, timeout=900)
    return run


def start_backend(run):
    """The upstream of every measured Envoy: an Envoy answering 200 from a
    `direct_response`, pinned to the load core with wrk (so it takes no CPU from the
    measured Envoy), kept for the whole run. Sets UPSTREAM."""
    global UPSTREAM
    if UPSTREAM is None:
        e = Envoy("backend", "backend", run.envoy_bin, run.base_wasms, run.a.load_core)
        e.wait_ready(60)
        UPSTREAM = f"127.0.0.1:{e.port}"
        run.log(f"backend: Envoy direct_response 200 on {UPSTREAM}")
    return UPSTREAM


def prepare(a):
    """Checks the tools, builds the no-op filter and the bootstrap generator, writes the wrk
    scripts; returns the Run every phase shares."""
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install wrk (taskset is in util-linux)")
    run = prepare_minimal(a)
    for s in SCENARIOS:
        wrk_script(s)
    run.results = {
        "command": a.command or " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": tool_version(["git", "-C", str(ROOT), "describe", "--always", "--dirty",
                                "--exclude", "*"]),
        "machine": machine(),
        "tools": {"envoy": tool_version([str(run.envoy_bin), "--version"]),
                  "wrk": tool_version(["wrk", "-v"]),
                  "rustc": tool_version(["rustc", "--version"])},
        "params": {"seconds": a.seconds, "rounds": a.rounds, "connections": a.connections,
                   "wrk_threads": 1, "envoy_concurrency": 1, "envoy_core": a.envoy_core,
                   "load_core": a.load_core, "path": PATH, "scenarios": {
                       k: {"method": m, "headers": h} for k, (m, h) in SCENARIOS.items()},
                   "cpu_metric": "utime+stime of the Envoy process (/proc/<pid>/stat) "
                                 "delta over a run / requests; sched_cpu_us_per_req is the "
                                 "same from /proc/<pid>/task/*/schedstat (ns resolution)"},
    }
    return run


def run_phases(run, phases):
    """Each phase in turn, each with its own backend; a failed phase is recorded and the
    others still run."""
    global UPSTREAM
    try:
        for name, phase in PHASES.items():
            if name not in phases or (name == "opt" and not shutil.which("wasm-opt")):
                continue
            try:
                start_backend(run)
                run.results[name] = phase(run)
            except Exception as err:  # recorded; the other phases still run
                run.log(f"{name}: FAILED: {err!r}")
                run.results[f"{name}_error"] = repr(err)
            kill_all()
            UPSTREAM = None  # the backend went with the phase's Envoys
            (RUN / "results-partial.json").write_text(json.dumps(run.results, indent=1))
    finally:
        kill_all()


def write_results(run):
    """results JSON (merged with --out's other phases under --merge) and, unless --quick or
    --no-markdown, BENCHMARKS.md."""
    a, results = run.a, run.results
    results["elapsed_s"] = round(time.monotonic() - run.started, 1)
    if a.merge and a.out_path.exists():
        old = json.loads(a.out_path.read_text())
        results["also"] = old.get("also", []) + [{k: results[k] for k in (
            "command", "commit", "date_utc", "elapsed_s", "params")} | {"phases": sorted(set(a.phases.split(",")))}]
        # The header names the first run; each re-run names its own command and commit.
        for k in ("command", "commit", "date_utc", "elapsed_s", "params", "machine", "tools"):
            results[k] = old.get(k, results[k])
        results = old | results
    a.out_path.parent.mkdir(parents=True, exist_ok=True)
    a.out_path.write_text(json.dumps(results, indent=1) + "\n")
    run.log(f"wrote {a.out_path}")
    md = markdown(results)
    print(md)
    if a.write_md:
        update_benchmarks_md(md)
        run.log("updated BENCHMARKS.md")


def main():
    a = parse_args()
    if a.render:
        md = markdown(json.loads(a.out_path.read_text()))
        print(md)
        if a.write_md:
            update_benchmarks_md(md)
        return
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    run = prepare(a)
    run_phases(run, set(a.phases.split(",")))
    write_results(run)


# --------------------------------------------------------------------------
# Markdown

BEGIN, END = "<!-- bench:begin (generated by bench/bench.py) -->", "<!-- bench:end -->"


def markdown(r):
    m = r["machine"]
    L = [f"Command: `{r['command']}`" + (f" at commit {r['commit']}" if "commit" in r else "")
         + "  ",
         f"Date: {r['date_utc']}; machine: `nproc` = {m['nproc']}, CPU `{m['cpu_model']}`, "
         f"{m['mem_total_kib'] // 1024} MiB, Linux {m['kernel']}; {r['tools']['envoy']}; "
         f"{r['tools']['wrk']}; {r['tools']['rustc']}.  ",
         f"Each run: wrk -t1 -c{r['params']['connections']} for {r['params']['seconds']} s, "
         f"{r['params']['rounds']} rounds, Envoy `--concurrency 1` pinned to CPU "
         f"{r['params']['envoy_core']}, wrk to CPU {r['params']['load_core']}; medians over "
         f"rounds; ratios are medians of per-round ratios (same round). Elapsed {r['elapsed_s']} s.",
         ""]
    for x in r.get("also", []):
        L[-1:-1] = [f"Phases {', '.join(x['phases'])} re-run with `{x['command']}`"
                    + (f" at commit {x['commit']}" if "commit" in x else "")
                    + f" on {x['date_utc']} ({x['params']['seconds']} s x {x['params']['rounds']} rounds)."]
    if "main" in r:
        mn = r["main"]
        cols = list(mn["envoys"])
        names = {"none": "none", "noop": "noop wasm", "native": "native cors",
                 "bucket-cors": "bucket-cors wasm", "module": "bucket-cors module"}
        ratios = [k for k in ("bucket-cors/noop", "bucket-cors/native", "module/native",
                              "noop/none") if k in next(iter(mn["scenarios"].values()))["ratio_cpu_per_req"]]
        L += ["### CPU time per request (µs, Envoy process utime+stime / requests)", "",
              f"Every Envoy routes to a backend ({mn.get('upstream', 'direct_response')}). "
              "The native CORS filter was checked to answer the allowed preflight itself "
              "(200 with ACAO) before measuring.", "",
              "| scenario | " + " | ".join(names.get(c, c) for c in cols) + " | "
              + " | ".join(ratios) + " |",
              "|---|" + "---:|" * (len(cols) + len(ratios))]
        for s, d in mn["scenarios"].items():
            md_, rt = d["median"], d["ratio_cpu_per_req"]
            L.append(f"| {s} | " + " | ".join(f"{md_[k]['cpu_us_per_req']:.2f}" for k in cols)
                     + " | " + " | ".join(f"**{rt[k]:.3f}**" if k.endswith("/noop") or k == "module/native"
                                          else f"{rt[k]:.3f}" for k in ratios) + " |")
        L += ["", "### Throughput and latency (medians; req/s, p50 / p99 µs)", "",
              "| scenario | " + " | ".join(names.get(c, c) for c in cols) + " |",
              "|---|" + "---|" * len(cols)]
        for s, d in mn["scenarios"].items():
            md_ = d["median"]
            L.append(f"| {s} | " + " | ".join(
                f"{md_[k]['rps']:.0f}; {md_[k]['p50_us']:.0f} / {md_[k]['p99_us']:.0f}"
                for k in cols) + " |")
        L += ["", "Start-up (spawn → first request served) and RSS, 1 bucket: " + "; ".join(
            f"{k} {v['startup_serving_s']:.2f} s, {v['rss_kib'] / 1024:.1f} MiB"
            for k, v in mn["envoys"].items()), ""]
    if "startup" in r:
        L += ["### Start-up (each Envoy alone; median of 3 starts, spawn → first request served through the filter)", "",
              "| Envoy | start-up | RSS (concurrency 1) |", "|---|---:|---:|"]
        for lbl, d in r["startup"].items():
            L.append(f"| {lbl} | {d['median_serving_s']:.2f} s | {d['median_rss_kib'] / 1024:.1f} MiB |")
        L.append("")
    if "probe" in r:
        p = r["probe"]
        L += ["### Where the time goes: host-call probes, allowed_get (µs CPU/request)", "",
              "| filter | CPU/req | minus noop |", "|---|---:|---:|"]
        for lbl, d in p["median"].items():
            L.append(f"| {lbl.removeprefix('probe-')} | {d['cpu_us_per_req']:.2f} | {p['minus_noop_us'][lbl]:+.2f} |")
        L.append("")
    if "scale" in r:
        sc = r["scale"]
        labels = list(sc["envoys"])
        L += ["### Scale (benchmarked bucket has 10 rules, match in the last)", "",
              "| build | buckets | plugin config | start-up, one start: ready / serving (c=1) | serving (c=2) | RSS c=1 | RSS per extra worker |",
              "|---|---:|---:|---:|---:|---:|---:|"]
        for lbl in labels:
            d = sc["envoys"][lbl]
            kind = d.get("kind", "bucket-cors")
            if "failed" in d:
                L.append(f"| {kind} | {d['buckets']:,} | {d['plugin_config_bytes'] / 1024:,.0f} KiB | "
                         f"**Envoy refused to start** after {d['failed_after_s']:.1f} s: "
                         f"{d['log'][:300]} | – | – | – |")
                continue
            L.append(f"| {kind} | {d['buckets']:,} | {d['plugin_config_bytes'] / 1024:,.0f} KiB | "
                     f"{d['startup_ready_s']:.2f} / {d['startup_serving_s']:.2f} s | "
                     f"{d.get('startup_serving_s_concurrency2', float('nan')):.2f} s | "
                     f"{d['rss_kib_concurrency1'] / 1024:.1f} MiB | "
                     f"{d.get('rss_kib_per_extra_worker', 0) / 1024:.1f} MiB |")
        nb = sc.get("noop_rss_kib")
        if nb:
            L.append(f"| noop filter | – | – | – | – | {nb['concurrency1'] / 1024:.1f} MiB | "
                     f"{nb['per_extra_worker'] / 1024:.1f} MiB |")
        labels = [l for l in labels if "failed" not in sc["envoys"][l]]
        for kind in sc.get("kinds", ["bucket-cors"]):
            mine = [l for l in labels if sc["envoys"][l].get("kind", "bucket-cors") == kind]
            if not mine:
                continue
            n0 = sc["envoys"][mine[0]]["buckets"]
            L += ["", f"{kind} (µs CPU/request; ratio to {n0:,} bucket(s), same round):", "",
                  "| scenario | " + " | ".join(f"{sc['envoys'][l]['buckets']:,} buckets" for l in mine)
                  + " | " + " | ".join(f"{sc['envoys'][l]['buckets']:,} / {n0:,}" for l in mine[1:]) + " |",
                  "|---|" + "---:|" * (2 * len(mine) - 1)]
            for s, d in sc["scenarios"].items():
                L.append(f"| {s} | " + " | ".join(f"{d['median'][l]['cpu_us_per_req']:.2f}" for l in mine)
                         + " | " + " | ".join(f"{d['ratio_cpu_per_req_vs_first'][l]:.3f}" for l in mine[1:]) + " |")
        L.append("")
    if "policies" in r:
        po = r["policies"]
        labels = list(po["envoys"])
        L += ["### A million buckets: inline rules and named policies", "",
              "Ready = spawn to `/ready`; RSS of the Envoy process with `--concurrency 1`; "
              "CPU to ready = the Envoy process's CPU time (every thread) at that moment, which a "
              "busy machine stretches less than the wall time; "
              "per further worker = RSS with 2 workers minus with 1, divided per bucket"
              + (f"; medians of {po['starts']} starts, the builds taking turns" if po.get("starts", 1) > 1
                 else "") + ".", "",
              "| build | shape | plugin config | ready (c=1) | CPU to ready | RSS c=1 | per further worker | per bucket per worker |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
        for lbl in labels:
            d = po["envoys"][lbl]
            per = d["rss_kib_per_extra_worker"] * 1024 / d["buckets"] if d["buckets"] > 1 else float("nan")
            L.append(f"| {d['kind']} | {d['shape']} | {d['plugin_config_bytes'] / 1024 / 1024:,.1f} MiB | "
                     f"{d['startup_ready_s']:.2f} s | "
                     + (f"{d['startup_ready_cpu_s']:.2f} s" if "startup_ready_cpu_s" in d else "–")
                     + f" | {d['rss_kib_concurrency1'] / 1024:.1f} MiB | "
                     f"{d['rss_kib_per_extra_worker'] / 1024:.1f} MiB | "
                     + ("–" if d["buckets"] == 1 else f"{per:,.0f} B") + " |")
        for kind in po.get("cpu_kinds", po["kinds"]) if po["scenarios"] else []:
            mine = [l for l in labels if po["envoys"][l]["kind"] == kind]
            L += ["", f"{kind}: µs CPU/request, ratio to 1 bucket (same round):", "",
                  "| scenario | " + " | ".join(po["envoys"][l]["shape"] for l in mine) + " | "
                  + " | ".join(f"{po['envoys'][l]['shape']} / 1" for l in mine[1:]) + " |",
                  "|---|" + "---:|" * (2 * len(mine) - 1)]
            for sc, d in po["scenarios"].items():
                L.append(f"| {sc} | " + " | ".join(f"{d['median'][l]['cpu_us_per_req']:.2f}" for l in mine)
                         + " | " + " | ".join(f"{d['ratio_cpu_per_req_vs_first'][l]:.3f}" for l in mine[1:]) + " |")
        L.append("")
    if "opt" in r:
        o = r["opt"]
        L += ["### wasm-opt: does it change the per-request cost? (µs CPU/request; ratio to noop)", "",
              "| variant | bytes | start-up (serving) | " + " | ".join(o["scenarios"]) + " |",
              "|---|---:|---:|" + "---:|" * len(o["scenarios"])]
        for n, v in o["variants"].items():
            L.append(f"| {n} | {v['bytes']:,} | {v['startup_serving_s']:.2f} s | " + " | ".join(
                f"{d['median'][f'opt-{n}']['cpu_us_per_req']:.2f} ({d['ratio_cpu_per_req_vs_noop'][f'opt-{n}']:.3f})"
                for d in o["scenarios"].values()) + " |")
        L.append("")
    if "size" in r:
        z = r["size"]
        L += ["### Size", "", "| artifact | bytes | KiB |", "|---|---:|---:|",
              f"| bucket_cors.wasm (cargo, release) | {z['bucket_cors']['bytes']:,} | {z['bucket_cors']['bytes'] / 1024:.0f} |"]
        for k in ("wasm_opt-O3", "wasm_opt-Oz"):
            if isinstance(z.get(k), dict) and "bytes" in z[k]:
                L.append(f"| wasm-opt {k.split('_opt')[1]} --strip-debug --strip-producers | {z[k]['bytes']:,} | {z[k]['bytes'] / 1024:.0f} |")
        L.append(f"| bench_noop.wasm (the SDK no-op, same profile) | {z['noop']['bytes']:,} | {z['noop']['bytes'] / 1024:.0f} |")
        bd = z["bucket_cors"].get("breakdown")
        if bd:
            L += ["", "Code bytes by crate (function bodies, from the name section): " + ", ".join(
                f"{k} {v / 1024:.0f} KiB" for k, v in bd["code_by_crate"].items())
                + f", others {bd['code_other_crates'] / 1024:.0f} KiB. Sections: " + ", ".join(
                f"{k} {v / 1024:.0f} KiB" for k, v in sorted(bd["sections"].items(), key=lambda kv: -kv[1])
                if v >= 1024) + "."]
        L.append("")
    return "\n".join(L)


def update_benchmarks_md(md):
    path = ROOT / "BENCHMARKS.md"
    block = f"{BEGIN}\n{md}\n{END}"
    if path.exists() and BEGIN in path.read_text():
        text = path.read_text()
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = "# Benchmarks\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
