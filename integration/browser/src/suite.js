// The browser side of integration/tests/sdk.rs: what real web apps do against buckets, with
// the AWS SDK for JavaScript v3 (client-s3, s3-request-presigner, lib-storage), bundled by
// esbuild into dist/suite.js. The page comes from one loopback origin; the buckets are behind
// Envoy + bucket-cors + Garage on another. It reads its scenarios, endpoints and the test key
// from /config.json, asks the page server to record Envoy's counters before and after each
// scenario (/snapshot), and POSTs what it observed to /results. It judges nothing: the
// expectations live in the Rust test.

import {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Upload } from "@aws-sdk/lib-storage";

const logEl = document.getElementById("log");

async function post(path, value) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: typeof value === "string" ? value : JSON.stringify(value),
    cache: "no-store",
  });
  if (!res.ok) {
    throw new Error(`POST ${path}: ${res.status}`);
  }
}

function log(line) {
  logEl.textContent += line + "\n";
  post("/progress", line).catch(() => {});
}

// Bytes that differ from run to run (getRandomValues gives at most 64 KiB per call).
function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

// A client for one addressing style. Every HTTP attempt it makes (retries included: the
// middleware sits inside the retry loop) is appended to `sent`, so the test can match the
// SDK's requests with Envoy's counters.
function client(cfg, style, sent, options = {}) {
  const c = new S3Client({
    region: cfg.region,
    endpoint: style === "path" ? cfg.pathEndpoint : cfg.vhostEndpoint,
    forcePathStyle: style === "path",
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    ...options,
  });
  if (sent) {
    c.middlewareStack.add(
      (next) => async (args) => {
        const q = args.request.query || {};
        sent.push(`${args.request.method} ${args.request.hostname}${args.request.path}${
          q.partNumber ? `?partNumber=${q.partNumber}` : q.uploadId !== undefined ? "?uploadId" : q.uploads !== undefined ? "?uploads" : ""}`);
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "countAttempts" },
    );
  }
  return c;
}

function describe(e) {
  return {
    name: e && e.name,
    message: e && e.message,
    status: e && e.$metadata ? e.$metadata.httpStatusCode : undefined,
    cause: e && e.cause ? `${e.cause.name}: ${e.cause.message}` : undefined,
  };
}

// Presigned PUT with fetch(), then a signed GET with the SDK; the bytes are compared.
async function presignedPutThenGet(cfg, s, out, sent) {
  const key = `presigned-${s.style}.bin`;
  const body = randomBytes(s.size);
  // WHEN_REQUIRED, as apps that presign uploads must set it: by default the SDK signs the
  // CRC32 of an empty body into the URL (x-amz-checksum-crc32=AAAAAA==) and the store refuses
  // the upload (Garage: 400 InvalidDigest), whatever CORS says.
  const url = await getSignedUrl(
    client(cfg, s.style, null, { requestChecksumCalculation: "WHEN_REQUIRED" }),
    new PutObjectCommand({ Bucket: s.bucket, Key: key }),
    { expiresIn: 300 },
  );
  out.presignedUrlHost = new URL(url).host;
  sent.push(`PUT presigned ${new URL(url).host}${new URL(url).pathname}`);
  const put = await fetch(url, { method: "PUT", body, cache: "no-store" });
  out.putStatus = put.status;
  out.putEtag = put.headers.get("etag");
  if (!put.ok) {
    throw new Error(`presigned PUT answered ${put.status}: ${await put.text()}`);
  }
  const got = await client(cfg, s.style, sent).send(
    new GetObjectCommand({ Bucket: s.bucket, Key: key }),
  );
  const bytes = await got.Body.transformToByteArray();
  out.key = key;
  out.bytesPut = body.length;
  out.bytesGot = bytes.length;
  out.bytesEqual = sameBytes(body, bytes);
  out.getEtag = got.ETag;
}

// A multipart upload with lib-storage's Upload, in parts of s.partSize.
async function multipart(cfg, s, out, sent) {
  const key = `multipart-${s.style}.bin`;
  const body = randomBytes(s.size);
  const upload = new Upload({
    client: client(cfg, s.style, sent),
    params: { Bucket: s.bucket, Key: key, Body: body },
    partSize: s.partSize,
    queueSize: 4,
  });
  const parts = new Set();
  upload.on("httpUploadProgress", (p) => {
    if (p.part) parts.add(p.part);
  });
  out.key = key;
  out.bytes = body.length;
  const res = await upload.done();
  out.etag = res.ETag;
  out.location = res.Location;
  out.partsReported = parts.size;
}

// Any SDK call from an origin no rule allows.
async function list(cfg, s, out, sent) {
  const res = await client(cfg, s.style, sent).send(
    new ListObjectsV2Command({ Bucket: s.bucket }),
  );
  out.keys = (res.Contents || []).length;
}

const KINDS = { presignedPutThenGet, multipart, list };

async function main() {
  const cfg = await (await fetch("/config.json", { cache: "no-store" })).json();
  const results = [];
  for (const s of cfg.scenarios) {
    const out = { name: s.name };
    const sent = [];
    await post(`/snapshot?label=${s.name}:before`, "");
    const t0 = performance.now();
    try {
      await KINDS[s.kind](cfg, s, out, sent);
      out.outcome = "ok";
    } catch (e) {
      out.outcome = "error";
      out.error = describe(e);
    }
    out.ms = Math.round(performance.now() - t0);
    out.sent = sent;
    await post(`/snapshot?label=${s.name}:after`, "");
    log(`${s.name}: ${out.outcome} ${out.error ? out.error.name + ": " + out.error.message : ""}`);
    results.push(out);
  }
  await post("/results", {
    ok: true,
    origin: location.origin,
    userAgent: navigator.userAgent,
    results,
  });
}

main().catch((e) =>
  post("/results", { ok: false, error: `${e.name}: ${e.message}\n${e.stack}` }),
);
