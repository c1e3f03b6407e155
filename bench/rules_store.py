"""The store bench/callgrind.py and bench/store.py read bucket rules from."""

import http.server
import json
import subprocess
import threading
import time
from pathlib import Path

import bench


TWO_RULES_TAIL = (b"<CORSRule><AllowedOrigin>https://other.example</AllowedOrigin>"
                  b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")


class RulesStore:
    """A store's `GET /<bucket>?cors` (docs/spec.md §8), a thread of the benchmark's process:
    `photos` holds the benchmarked rule as an S3 document; every other bucket holds none
    (404), or, with `every_bucket`, the same document with a second rule (what the memory
    figure caches). Counts the reads it answers."""

    DOCUMENT = ("<CORSConfiguration><CORSRule>"
                + "".join(f"<AllowedOrigin>{o}</AllowedOrigin>" for o in bench.PHOTOS_RULE["AllowedOrigin"])
                + "".join(f"<AllowedMethod>{m}</AllowedMethod>" for m in bench.PHOTOS_RULE["AllowedMethod"])
                + "".join(f"<AllowedHeader>{h}</AllowedHeader>" for h in bench.PHOTOS_RULE["AllowedHeader"])
                + "".join(f"<ExposeHeader>{h}</ExposeHeader>" for h in bench.PHOTOS_RULE["ExposeHeader"])
                + f"<MaxAgeSeconds>{bench.PHOTOS_RULE['MaxAgeSeconds']}</MaxAgeSeconds>"
                + "</CORSRule></CORSConfiguration>").encode()

    def __init__(self, every_bucket=False):
        doc, reads = self.DOCUMENT, []
        two = doc.replace(b"</CORSConfiguration>", TWO_RULES_TAIL)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                reads.append(self.path)
                if self.path == "/photos?cors":
                    status, body = 200, doc
                elif every_bucket:
                    status, body = 200, two
                else:
                    status, body = 404, b"<Error/>"
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.reads = reads
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def plugin_config(self, **source):
        """No bucket listed; every one read from this store (refresh a day unless given)."""
        settings = {"cluster": "rules-store", "authority": "127.0.0.1", "refresh_seconds": 86400}
        settings.update(source)
        return json.dumps({"endpoints": ["s3.example.internal"], "path_style": True, "buckets": {},
                           "rules_source": settings})

    def add_cluster(self, bootstrap_path):
        """The bootstrap of bench.py plus the cluster the reads go to."""
        j = json.loads(Path(bootstrap_path).read_text())
        addr = {"socket_address": {"address": "127.0.0.1", "port_value": self.port}}
        j["static_resources"]["clusters"].append({
            "name": "rules-store", "type": "STATIC", "connect_timeout": "1s",
            "load_assignment": {"cluster_name": "rules-store",
                                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": addr}}]}]}})
        Path(bootstrap_path).write_text(json.dumps(j))


class EnvoyStore(RulesStore):
    """The same 2-rule document for every bucket, answered by an Envoy `direct_response` on the
    load core: a store fast enough that the filter's own bounds, not the store, set the read
    rate. Count its reads with the measured Envoy's `cluster.rules-store.upstream_rq_total`."""

    def __init__(self, run, label):
        body = (RulesStore.DOCUMENT.replace(b"</CORSConfiguration>", TWO_RULES_TAIL)).decode()
        self.port, admin = bench.free_port(), bench.free_port()
        cfg = bench.RUN / label / "envoy.json"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(bench.BOOTSTRAP_BIN), "--listen", str(self.port), "--admin", str(admin),
                        "--out", str(cfg), "--direct", "200", body], check=True, timeout=120)
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(run.a.load_core), str(run.envoy_bin), "-c", str(cfg),
             "--concurrency", "1", "--disable-hot-restart", "--base-id", str(self.port),
             "--log-level", "warn"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        bench.STARTED.append(self.proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if bench.http_get(admin, "GET", "/ready", {}, timeout=0.5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{label}: the store Envoy is not ready")

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
