#!/usr/bin/env python3
"""Instructions per request of Envoy, counted by valgrind's callgrind: a noise-free
measure of what a filter adds (CPU time on a shared machine varies by several %;
instruction counts of the same requests vary by well under 1 %).

Each Envoy (--concurrency 1, behind a cluster route to a backend Envoy that answers
200) runs under `valgrind --tool=callgrind`. Per scenario: warm-up requests, then
`callgrind_control --zero`, then --requests requests on one keep-alive connection,
then `callgrind_control --dump`; the dump's total instruction count divided by the
request count is the figure. The dump covers every Envoy thread, so Envoy's idle
timers are in it too: --idle 5 measured ~150,000 instructions per idle second
without a filter, ~1,000 per request at the ~8 ms a request takes under callgrind,
so columns whose runs differ in wall time by a few seconds differ by a few hundred
instructions per request from that alone. Repeated runs agree within ~0.1 %.

Usage: python3 bench/callgrind.py [--kinds none,noop,noop-abi,native,bucket-cors] [--requests 1000]
         [--scenarios allowed_get,allowed_preflight,no_origin] [--wasm FILE] [--module SO]
Needs valgrind; builds bench/noop and testkit's bootstrap like bench.py.
"""

import argparse
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the bench driver: scenarios, bootstraps, backend)
from rules_store import RulesStore  # noqa: E402  (a store of bucket rules, docs/spec.md §8)


def totals(dump):
    """The instruction total of a callgrind dump (`summary:` or `totals:` line)."""
    text = Path(dump).read_text(errors="replace")
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if not m:
        raise RuntimeError(f"no total in {dump}")
    return int(m.group(1))


def control(pid, flag):
    r = subprocess.run(["callgrind_control", flag, str(pid)], capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"callgrind_control {flag}: {r.stdout}{r.stderr}")


def drive(port, scenario, n):
    """`n` requests of `scenario` on one keep-alive connection; every status recorded."""
    method, headers = bench.SCENARIOS[scenario]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    seen = {}
    try:
        for _ in range(n):
            c.request(method, bench.PATH, headers=headers)
            r = c.getresponse()
            r.read()
            seen[r.status] = seen.get(r.status, 0) + 1
    finally:
        c.close()
    return seen


def measure(run, spec, scenarios, n, warm, idle, out_dir):
    """`spec` is a kind of bench.py (none, noop, probe:<mode>, native, bucket-cors, module),
    KIND@N (bucket-cors or module with the scale phase's N-bucket configuration),
    store:KIND (bucket-cors or module reading `photos`'s rule from a store, docs/spec.md §8:
    the cache-hit cost against the same rule inline), or NAME=FILE: bucket-cors built from
    FILE.wasm, or the module built as FILE (a libbucket_cors_module.so), to compare builds
    side by side."""
    kind, wasms = spec, run.base_wasms
    store = None
    if spec.startswith("store:"):
        kind, store = spec.split(":", 1)[1], RulesStore()
        wasms = dict(run.base_wasms, plugin_config=store.plugin_config())
        spec = f"store-{kind}"
    elif "@" in spec:
        # bucket-cors@N: the scale phase's configuration with N buckets.
        kind, buckets = spec.split("@", 1)
        wasms = dict(run.base_wasms,
                     plugin_config=json.dumps(bench.plugin_config(int(buckets), 10)))
    elif "=" in spec:
        name, path = spec.split("=", 1)
        path = Path(path).resolve()
        kind = "bucket-cors" if path.suffix == ".wasm" else "module"
        wasms = dict(run.base_wasms, **{kind: path})
        spec = name
    label = f"cg-{spec}"
    write = bench.write_bootstrap
    if store:
        bench.write_bootstrap = lambda path, *args: (write(path, *args), store.add_cluster(path))
    try:
        e = bench.Envoy(label, kind, run.envoy_bin, wasms, run.a.envoy_core,
                        wrapper=["valgrind", "--tool=callgrind", "--smc-check=all-non-file",
                                 f"--callgrind-out-file={out_dir}/{spec}.%p.out"])
    finally:
        bench.write_bootstrap = write
    try:
        e.wait_ready(900)
        res = {}
        for s in scenarios:
            drive(e.port, s, warm)
            control(e.pid, "--zero")
            t0 = time.monotonic()
            statuses = drive(e.port, s, n)
            wall = time.monotonic() - t0
            before = set(Path(out_dir).glob(f"{spec}.{e.pid}.out*"))
            control(e.pid, "--dump")
            dump = sorted(set(Path(out_dir).glob(f"{spec}.{e.pid}.out*")) - before)[-1]
            ir = totals(dump)
            res[s] = {"requests": n, "instructions": ir, "per_request": round(ir / n),
                      "statuses": statuses, "wall_s": round(wall, 1), "dump": str(dump)}
            print(f"  {spec:12} {s:18} {ir / n:12,.0f} instructions/request "
                  f"({n} requests, statuses {statuses}, {wall:.0f} s)", flush=True)
            if store:
                res[s]["store_reads"] = len(store.reads)
        if idle:
            control(e.pid, "--zero")
            time.sleep(idle)
            control(e.pid, "--dump")
            dump = sorted(Path(out_dir).glob(f"{spec}.{e.pid}.out*"), key=lambda p: p.stat().st_mtime)[-1]
            res["idle_per_s"] = round(totals(dump) / idle)
            print(f"  {spec:12} idle {res['idle_per_s']:,} instructions/s", flush=True)
        return res
    finally:
        e.stop()
        if store:
            store.server.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envoy", default=str(bench.ROOT / ".venv/bin/envoy"))
    ap.add_argument("--wasm", default=str(bench.ROOT / "target/wasm32-wasip1/release/bucket_cors.wasm"))
    ap.add_argument("--module", default=None, help="libbucket_cors_module.so: adds the module kind")
    ap.add_argument("--kinds", default="none,noop,bucket-cors",
                    help="comma-separated: none, noop, noop-abi (bench/noop-abi: no SDK, "
                         "bucket-cors's exports), probe:<mode>, native, bucket-cors, module, "
                         "KIND@N (N buckets, as the scale phase), store:KIND (the rule read "
                         "from a store, docs/spec.md §8), "
                         "or NAME=FILE (a bucket-cors .wasm, or a libbucket_cors_module.so)")
    ap.add_argument("--scenarios", default="allowed_get,allowed_preflight,no_origin")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--idle", type=float, default=0, help="also count N idle seconds")
    ap.add_argument("--envoy-core", type=int, default=1)
    ap.add_argument("--load-core", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the results as JSON here")
    ap.add_argument("--markdown", default=None, metavar="BLOCK",
                    help="write the table into BENCHMARKS.md's callgrind:BLOCK block")
    ap.add_argument("--command", default=None, help="the command to quote in the table")
    a = ap.parse_args()
    run = bench.prepare_minimal(a)
    kinds = a.kinds.split(",")
    if "noop-abi" in kinds:
        # The no-op with bucket-cors's export set and no SDK (bench/noop-abi).
        abi = bench.noop_abi_wasm()
        kinds = [f"noop-abi={abi}" if k == "noop-abi" else k for k in kinds]
    out_dir = bench.RUN / "callgrind"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {"wasm": str(run.wasm), "requests": a.requests, "kinds": {}}
    try:
        bench.start_backend(run)
        for kind in kinds:
            results["kinds"][kind.split("=")[0]] = measure(run, kind, a.scenarios.split(","), a.requests,
                                             a.warm, a.idle, out_dir)
    finally:
        bench.kill_all()
    results["command"] = a.command or " ".join(["python3 bench/callgrind.py"] + sys.argv[1:])
    results["date_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["commit"] = git_describe()
    results["scenarios"] = a.scenarios.split(",")
    md = markdown(results)
    print()
    print(md)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    if a.markdown:
        update_block(a.markdown, md)


def git_describe():
    r = subprocess.run(["git", "-C", str(bench.ROOT), "describe", "--always", "--dirty",
                        "--exclude", "*"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def markdown(r):
    """The table: instructions per request by scenario and kind, and each kind's ratio to
    the SDK no-op (`noop`) when it was measured."""
    kinds = list(r["kinds"])
    ratio = [k for k in kinds if "noop" in kinds and k not in ("none", "noop")]
    L = [f"Command: `{r['command']}` at commit {r['commit']}, {r['date_utc']}; "
         f"{r['requests']} requests per cell after warm-up, Envoy instructions per request "
         "(every thread).", "",
         "| scenario | " + " | ".join(kinds) + "".join(f" | {k} / noop" for k in ratio) + " |",
         "|---|" + "---:|" * (len(kinds) + len(ratio))]
    for s in r["scenarios"]:
        row = [f"{r['kinds'][k][s]['per_request']:,}" for k in kinds]
        row += [f"{r['kinds'][k][s]['per_request'] / r['kinds']['noop'][s]['per_request']:.3f}"
                for k in ratio]
        L.append(f"| {s} | " + " | ".join(row) + " |")
    return "\n".join(L)


def update_block(name, md):
    """Replaces the text between `<!-- callgrind:NAME:begin -->` and `...:end -->` in
    BENCHMARKS.md."""
    path = bench.ROOT / "BENCHMARKS.md"
    begin, end = f"<!-- callgrind:{name}:begin -->", f"<!-- callgrind:{name}:end -->"
    text = path.read_text()
    if begin not in text or end not in text:
        sys.exit(f"BENCHMARKS.md has no {begin} ... {end} block")
    text = text[:text.index(begin) + len(begin)] + "\n" + md + "\n" + text[text.index(end):]
    path.write_text(text)


if __name__ == "__main__":
    main()
