#!/usr/bin/env python3
"""Figures of rules read from the store (docs/spec.md §8), both builds, against the store of
bench/rules_store.py (a loopback HTTP server answering `GET /<bucket>?cors`):

- ready: Envoy's start to ready (admin /ready LIVE; and to the first request answered) with one
  static bucket and with `rules_source` over a store that answers for any bucket name (so,
  for the filter, a store of a million buckets and more): nothing is read at start, so the
  two should match. Median of --starts starts each.
  The memory and reads phases' store is an Envoy answering every read from a
  `direct_response` (EnvoyStore), so the store's speed does not bound the figures.
- memory: Envoy's RSS before and after caching --buckets distinct buckets of 2 rules each
  (one preflight each, --concurrency 1): bytes per cached bucket (per VM for the Wasm filter,
  per process for the module).
- reads: store reads per second with --active buckets requested round-robin for --seconds at
  refresh_seconds --refresh; the figure for 10,000 buckets at the default 60 s scales by
  10,000 / 60 per cache.

Usage: python3 bench/store.py [--phases ready,memory,reads] [--module target/release/libbucket_cors_module.so]
Builds nothing: `make build build-module` first.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the bench driver: bootstraps, Envoy processes)
from rules_store import EnvoyStore, RulesStore  # noqa: E402  (stores of bucket rules)

PREFLIGHT = {"Origin": bench.ORIGIN_OK, "Access-Control-Request-Method": "GET"}


def start(run, kind, plugin_config, store, label, concurrency=1):
    """An Envoy of `kind` (bucket-cors or module) with `plugin_config`, and `store`'s cluster."""
    wasms = dict(run.base_wasms, plugin_config=plugin_config)
    write = bench.write_bootstrap
    if store:
        bench.write_bootstrap = lambda path, *args: (write(path, *args), store.add_cluster(path))
    try:
        return bench.Envoy(label, kind, run.envoy_bin, wasms, run.a.envoy_core, concurrency)
    finally:
        bench.write_bootstrap = write


def store_reads(e):
    """The reads `e` sent to the store: its cluster's requests."""
    c = http.client.HTTPConnection("127.0.0.1", e.admin, timeout=5)
    try:
        c.request("GET", "/stats?filter=^cluster.rules-store.upstream_rq_total$&format=json")
        stats = json.loads(c.getresponse().read()).get("stats", [])
        return next((s["value"] for s in stats if "value" in s), 0)
    finally:
        c.close()


def preflights(port, buckets):
    """One preflight per bucket name on one keep-alive connection; the statuses seen."""
    seen = {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for b in buckets:
            c.request("OPTIONS", f"/{b}/k", headers=PREFLIGHT)
            r = c.getresponse()
            r.read()
            seen[r.status] = seen.get(r.status, 0) + 1
    finally:
        c.close()
    return seen


def ready_phase(run, kinds, starts):
    out = {}
    for kind in kinds:
        for shape in ("static", "store"):
            times, serving, reads = [], [], []
            for i in range(starts):
                store = RulesStore(every_bucket=True) if shape == "store" else None
                config = (store.plugin_config() if store
                          else json.dumps(bench.plugin_config(1, 1)))
                e = start(run, kind, config, store, f"store-ready-{kind}-{shape}-{i}")
                try:
                    e.wait_ready(120)
                    times.append(e.ready_s)
                    serving.append(e.serving_s)
                    # wait_ready's probe (a GET of `photos`) is the one read expected.
                    reads.append(len(store.reads) if store else 0)
                finally:
                    e.stop()
                    if store:
                        store.server.shutdown()
            out[f"{kind} {shape}"] = {"ready_s": round(statistics.median(times), 3),
                                      "first_served_s": round(statistics.median(serving), 3),
                                      "runs": [round(t, 3) for t in times],
                                      "reads_after_first_request": max(reads)}
            print(f"  ready {kind:12} {shape:6} {out[f'{kind} {shape}']}", flush=True)
    return out


def memory_phase(run, kinds, n):
    out = {}
    for kind in kinds:
        store = EnvoyStore(run, f"store-memory-store-{kind}")
        e = start(run, kind, store.plugin_config(max_buckets=max(n, 1) * 2), store,
                  f"store-memory-{kind}")
        try:
            e.wait_ready(120)
            preflights(e.port, ["photos"] * 50)
            time.sleep(1)
            before = e.rss_kib()
            t0 = time.monotonic()
            seen = preflights(e.port, [f"bucket-{i:07d}" for i in range(n)])
            took = time.monotonic() - t0
            time.sleep(1)
            after = e.rss_kib()
            out[kind] = {"buckets": n, "statuses": seen, "reads": store_reads(e),
                         "rss_before_kib": before, "rss_after_kib": after,
                         "bytes_per_bucket": round((after - before) * 1024 / n),
                         "cold_preflights_per_s": round(n / took)}
            print(f"  memory {kind:12} {out[kind]}", flush=True)
        finally:
            e.stop()
            store.stop()
    return out


def reads_phase(run, kinds, active, seconds, refresh):
    out = {}
    for kind in kinds:
        store = EnvoyStore(run, f"store-reads-store-{kind}")
        e = start(run, kind, store.plugin_config(refresh_seconds=refresh), store,
                  f"store-reads-{kind}")
        try:
            e.wait_ready(120)
            names = [f"bucket-{i:07d}" for i in range(active)]
            preflights(e.port, names)
            start_reads, t0, sent = store_reads(e), time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                preflights(e.port, names)
                sent += active
            took = time.monotonic() - t0
            reads = store_reads(e) - start_reads
            per_s = reads / took
            out[kind] = {"active": active, "refresh_s": refresh, "seconds": round(took, 1),
                         "requests": sent, "reads": reads, "reads_per_s": round(per_s, 1),
                         "expected_per_s": round(active / refresh, 1),
                         "at_10000_buckets_60_s": round(per_s * (10000 / 60) / (active / refresh), 1)}
            print(f"  reads {kind:12} {out[kind]}", flush=True)
        finally:
            e.stop()
            store.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envoy", default=str(bench.ROOT / ".venv/bin/envoy"))
    ap.add_argument("--wasm", default=str(bench.ROOT / "target/wasm32-wasip1/release/bucket_cors.wasm"))
    ap.add_argument("--module", default=None)
    ap.add_argument("--phases", default="ready,memory,reads")
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--buckets", type=int, default=20000)
    ap.add_argument("--active", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--refresh", type=int, default=3)
    ap.add_argument("--envoy-core", type=int, default=1)
    ap.add_argument("--load-core", type=int, default=0)
    ap.add_argument("--out", default=str(bench.RUN / "store.json"))
    a = ap.parse_args()
    run = bench.prepare_minimal(a)
    kinds = ["bucket-cors"] + (["module"] if a.module else [])
    results = {"command": " ".join(["python3 bench/store.py"] + sys.argv[1:]),
               "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        bench.start_backend(run)
        phases = a.phases.split(",")
        if "ready" in phases:
            results["ready"] = ready_phase(run, kinds, a.starts)
        if "memory" in phases:
            results["memory"] = memory_phase(run, kinds, a.buckets)
        if "reads" in phases:
            results["reads"] = reads_phase(run, kinds, a.active, a.seconds, a.refresh)
    finally:
        bench.kill_all()
    Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
