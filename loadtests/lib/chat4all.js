// Shared helpers for the k6 cases in loadtests/ (k6 v1, plain ES modules, no remote imports).
//
// Every case creates its own users in setup() (setupUsers), then each VU uses ONE of them:
// VU i takes entry (i - 1) % n of the setup data, so n users carry any number of VUs.
// Requests carry an `endpoint` tag (route template) so thresholds and the analyzer
// (benchmarks/k6_analysis.py) can tell POST /v1/messages from the listing and the uploads.
//
// Environment (all optional):
//   API_URL     base URL of the API (scripts/run-loadtest.sh exports it from `python -m devstack
//               urls`; the default is the local stack's API, for a bare `k6 run`)
//   RUN_ID      part of the generated usernames (scripts/run-loadtest.sh sets it; random otherwise)
//   RECIPIENTS  internal | whatsapp | instagram | mixed (default mixed: 1/3 each of internal,
//               whatsapp:+55..., instagram:@...)
//   TO          one recipient_id for every message (e.g. instagram:@offline_user); overrides RECIPIENTS
//   ADDRESSES   random (default: a new external address per message) | per-conversation (one
//               address per conversation and channel, so a provider ledger shows its order)
//   THINK_S     mean think time between iterations in seconds (each case has its default;
//               0 disables it); the actual pause is uniform in [0.5, 1.5] x THINK_S
//   P95_MS, P99_MS, MAX_ERROR_RATE   threshold overrides (defaults 200, 500, 0.01)
//   RETRY_S     resend a message the API answered 5xx (or not at all) for up to this many seconds,
//               always with the same client-chosen message_id (default 0: send once). A 503 can
//               still mean "stored": Kafka may write a publish the API gave up waiting for. The
//               router deduplicates by message_id, so the retry makes the outcome known, not doubled.
import http from "k6/http";
import { check, fail, sleep } from "k6";
import { Counter } from "k6/metrics";

export const API_URL = (__ENV.API_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");

export const EP_MESSAGES = "POST /v1/messages";
export const EP_LIST = "GET /v1/conversations/{id}/messages";
export const EP_FILES = "POST /v1/files";

// Messages the API answered 202 for (= acknowledged by Kafka). benchmarks/accounting.py
// compares it with what reached Cassandra and the provider ledgers. (benchmarks/ reads the same
// name from --summary-export.)
export const accepted = new Counter("accepted");
// Re-sends of a message after a 5xx or no answer (RETRY_S), and messages still without a 202 when
// RETRY_S ran out: those may or may not be stored, so an exact accounting needs abandoned == 0.
export const retried = new Counter("retried");
export const abandoned = new Counter("abandoned");

const JSON_HEADERS = { "Content-Type": "application/json" };

// ---------------------------------------------------------------------------------- env helpers

export function envStr(name, fallback) {
  const v = __ENV[name];
  return v === undefined || v === "" ? fallback : v;
}

export function envNum(name, fallback) {
  const v = __ENV[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number`);
  return n;
}

export function envInt(name, fallback) {
  return Math.round(envNum(name, fallback));
}

// ---------------------------------------------------------------------------------- options

// Tags kept on every sample: no `url`/`name` (they contain conversation ids: high cardinality,
// and they make --out json several times bigger); `endpoint` is ours.
const SYSTEM_TAGS = ["status", "method", "group", "scenario", "expected_response", "error_code", "check"];

// Options shared by every case: percentiles in the summary (and in --summary-export), tags,
// room for setup() to create a few hundred users (argon2 makes registration deliberately slow).
export function baseOptions(extra) {
  return Object.assign(
    {
      summaryTrendStats: ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"],
      systemTags: SYSTEM_TAGS,
      setupTimeout: envStr("SETUP_TIMEOUT", "10m"),
      batchPerHost: 10,
    },
    extra,
  );
}

// The seed's thresholds: P95 (and optionally P99) under a bound and < 1% failed requests, per
// endpoint tag (so setup's registrations and logins do not count) and overall for failures.
export function thresholds(endpoints, { p99 = false, abortOnFail = false, p95Default = 200 } = {}) {
  const p95ms = envNum("P95_MS", p95Default);
  const p99ms = envNum("P99_MS", 500);
  const maxErr = envNum("MAX_ERROR_RATE", 0.01);
  const t = (threshold) => ({ threshold, abortOnFail });
  const out = { http_req_failed: [t(`rate<${maxErr}`)] };
  for (const ep of endpoints) {
    out[`http_req_duration{endpoint:${ep}}`] = [t(`p(95)<${p95ms}`)].concat(p99 ? [t(`p(99)<${p99ms}`)] : []);
    out[`http_req_failed{endpoint:${ep}}`] = [t(`rate<${maxErr}`)];
  }
  return out;
}

// ---------------------------------------------------------------------------------- setup

function runId() {
  const given = envStr("RUN_ID", "");
  const id = given || `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return id.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 32);
}

function postJson(path, body, token, endpoint) {
  const headers = token ? Object.assign({ Authorization: `Bearer ${token}` }, JSON_HEADERS) : JSON_HEADERS;
  return ["POST", `${API_URL}${path}`, JSON.stringify(body), { headers, tags: { endpoint } }];
}

// Up to `size` requests in parallel at a time (http.batch), all expected to answer `status`.
function batched(requests, status, what, size = 10) {
  const out = [];
  for (let i = 0; i < requests.length; i += size) {
    for (const res of http.batch(requests.slice(i, i + size))) {
      if (res.status !== status) fail(`setup: ${what} answered ${res.status}: ${String(res.body).slice(0, 300)}`);
      out.push(res.json());
    }
  }
  return out;
}

// For setup(): n sender users, each with its own peer user and one conversation between them.
// Returns [{token, conversation_id, peer_id}] (one entry per sender; see forVU); with
// { peerTokens: true } each entry also has `peer_token` (the peer logged in too).
export function setupUsers(n, { peerTokens = false } = {}) {
  n = Math.max(1, Math.floor(n));
  const run = runId();
  const name = (i, role) => `lt-${run}-${i}-${role}`;
  const password = (i) => `pw-${run}-${i}-load`;
  const regs = [];
  for (let i = 0; i < n; i++) {
    regs.push(postJson("/auth/register", { username: name(i, "s"), password: password(i) }, null, "POST /auth/register"));
    regs.push(postJson("/auth/register", { username: name(i, "p"), password: password(i) }, null, "POST /auth/register"));
  }
  const users = batched(regs, 201, "POST /auth/register");
  const logins = [];
  for (let i = 0; i < n; i++) {
    logins.push(postJson("/auth/token", { username: name(i, "s"), password: password(i) }, null, "POST /auth/token"));
  }
  if (peerTokens) {
    for (let i = 0; i < n; i++) {
      logins.push(postJson("/auth/token", { username: name(i, "p"), password: password(i) }, null, "POST /auth/token"));
    }
  }
  const allTokens = batched(logins, 200, "POST /auth/token").map((t) => t.access_token);
  const tokens = allTokens.slice(0, n);
  const convs = [];
  for (let i = 0; i < n; i++) {
    convs.push(postJson("/v1/conversations", { participant_ids: [users[2 * i + 1].user_id] }, tokens[i], "POST /v1/conversations"));
  }
  const conversations = batched(convs, 201, "POST /v1/conversations");
  return conversations.map((c, i) => Object.assign({
    token: tokens[i],
    conversation_id: c.conversation_id,
    peer_id: users[2 * i + 1].user_id,
  }, peerTokens ? { peer_token: allTokens[n + i] } : {}));
}

// This VU's entry of the setup data: VU i uses entry (i - 1) % n.
export function forVU(data) {
  return data[(__VU - 1) % data.length];
}

// ---------------------------------------------------------------------------------- payloads

const LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789 ";
let filler = "";

// A content string of `bytes` bytes (ASCII), starting with a per-VU/iteration marker.
export function content(bytes) {
  const marker = `lt ${__VU}.${__ITER} `;
  const need = Math.max(1, bytes - marker.length);
  if (filler.length < need) {
    const parts = [filler];
    for (let i = filler.length; i < need; i++) parts.push(LETTERS[Math.floor(Math.random() * LETTERS.length)]);
    filler = parts.join("");
  }
  return (marker + filler.slice(0, need)).slice(0, Math.max(1, bytes));
}

function digits(n) {
  let s = "";
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 10);
  return s;
}

const RECIPIENT_MODES = ["internal", "whatsapp", "instagram", "mixed"];
const RECIPIENTS = envStr("RECIPIENTS", "mixed");
if (!RECIPIENT_MODES.includes(RECIPIENTS)) throw new Error(`RECIPIENTS=${RECIPIENTS}: use one of ${RECIPIENT_MODES.join(", ")}`);
let sent = 0;

const ADDRESSES = envStr("ADDRESSES", "random");
if (!["random", "per-conversation"].includes(ADDRESSES)) throw new Error(`ADDRESSES=${ADDRESSES}: use random or per-conversation`);

function recipientOf(kind, ctx) {
  const fixed = ADDRESSES === "per-conversation" && ctx ? ctx.conversation_id.replace(/-/g, "") : null;
  if (kind === "whatsapp") return `whatsapp:+5511${fixed ? parseInt(fixed.slice(0, 7), 16) : digits(9)}`;
  if (kind === "instagram") return `instagram:@lt_${fixed ? fixed.slice(0, 12) : digits(8)}`;
  return null; // internal: no recipient_id, the conversation's members get it
}

// The next recipient_id according to RECIPIENTS (null = internal). Mixed rotates per VU,
// starting at a VU-dependent offset, so any number of messages is split 1/3 each.
export function nextRecipient(ctx) {
  if (__ENV.TO) return __ENV.TO;
  const kinds = ["internal", "whatsapp", "instagram"];
  const kind = RECIPIENTS === "mixed" ? kinds[(sent + __VU) % 3] : RECIPIENTS;
  sent += 1;
  return recipientOf(kind, ctx);
}

// ---------------------------------------------------------------------------------- requests

function authHeaders(ctx, extra) {
  return Object.assign({ Authorization: `Bearer ${ctx.token}` }, extra || {});
}

// POST /v1/messages with ~`bytes` bytes of content; recipient: undefined = RECIPIENTS mix,
// null = internal, or an explicit recipient_id. Counts 202s in the `accepted` counter.
const RETRY_S = envNum("RETRY_S", 0);

function serverFailed(res) {
  return res.status === 0 || res.status >= 500;
}

export function sendMessage(ctx, bytes = 200, recipient = undefined) {
  // The client picks the message_id: a resend of the same message is then recognisably the same.
  const body = { conversation_id: ctx.conversation_id, content: content(bytes),
                 message_id: crypto.randomUUID() };
  const to = recipient === undefined ? nextRecipient(ctx) : recipient;
  if (to) body.recipient_id = to;
  const post = () =>
    http.post(`${API_URL}/v1/messages`, JSON.stringify(body), {
      headers: authHeaders(ctx, JSON_HEADERS),
      tags: { endpoint: EP_MESSAGES },
      responseType: "none",
    });
  const deadline = Date.now() + RETRY_S * 1000;
  let res = post();
  while (RETRY_S > 0 && serverFailed(res) && Date.now() < deadline) {
    sleep(0.5);
    retried.add(1);
    res = post();
  }
  if (check(res, { "POST /v1/messages is 202": (r) => r.status === 202 })) accepted.add(1);
  else if (RETRY_S > 0 && serverFailed(res)) abandoned.add(1);
  return res;
}

// GET /v1/conversations/{id}/messages?limit=N (N: env LIST_LIMIT, default 20).
export function listMessages(ctx, limit = envInt("LIST_LIMIT", 20)) {
  const res = http.get(`${API_URL}/v1/conversations/${ctx.conversation_id}/messages?limit=${limit}`, {
    headers: authHeaders(ctx),
    tags: { endpoint: EP_LIST },
    responseType: "none",
  });
  check(res, { "GET messages is 200": (r) => r.status === 200 });
  return res;
}

const CHUNK = 65536; // crypto.getRandomValues fills at most 64 KiB per call

// POST /v1/files: multipart/form-data with `conversation_id` FIRST, then `file` (what the API
// requires to stream the file to S3), `size` random bytes generated here. Expects 201.
// The file-size band of an upload (a k6 tag): latency per size in the analysis ("1 MB in < 2 s").
export function sizeBand(size) {
  const KIB = 1024;
  if (size < 256 * KIB) return "0-256 KiB";
  if (size < 512 * KIB) return "256-512 KiB";
  if (size < 768 * KIB) return "512-768 KiB";
  return "768-1024 KiB";
}

export function uploadFile(ctx, size) {
  const boundary = `----k6chat4all${digits(16)}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="conversation_id"\r\n\r\n${ctx.conversation_id}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="lt-${__VU}-${__ITER}.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const body = new Uint8Array(head.length + size + tail.length);
  for (let i = 0; i < head.length; i++) body[i] = head.charCodeAt(i);
  for (let off = 0; off < size; off += CHUNK) {
    crypto.getRandomValues(body.subarray(head.length + off, head.length + Math.min(size, off + CHUNK)));
  }
  for (let i = 0; i < tail.length; i++) body[head.length + size + i] = tail.charCodeAt(i);
  const res = http.post(`${API_URL}/v1/files`, body.buffer, {
    headers: authHeaders(ctx, { "Content-Type": `multipart/form-data; boundary=${boundary}` }),
    tags: { endpoint: EP_FILES, size_band: sizeBand(size) },
    responseType: "none",
    timeout: "120s",
  });
  check(res, { "POST /v1/files is 201": (r) => r.status === 201 });
  return res;
}

// Think time: uniform in [0.5, 1.5] x mean seconds (env THINK_S overrides the case's default).
export function think(defaultMeanS) {
  const mean = envNum("THINK_S", defaultMeanS);
  if (mean > 0) sleep(mean * (0.5 + Math.random()));
}
