// 08 — Live push under load: USERS people hold a WebSocket (/v1/ws) open while RATE messages/s
// flow between them. Each conversation has two members (USERS / 2 conversations); a message's
// sender and peer both get it pushed. Measured, not asserted (the target: 500 users,
// 200 msg/s, accepted -> pushed P95 < 250 ms, 0 missed, 0 duplicated):
//   ws_push_latency   accepted by the API (the message's ACCEPTED timestamp) -> frame received, ms
//   ws_expected       2 per 202 (both members of its conversation must get it)
//   ws_received       first arrivals of a message at a member; ws_duplicates: any further one
//   ws_connected / ws_closed_early   sockets that became ready / closed before the end
// missed = ws_expected - ws_received (benchmarks.push_summary computes it from k6-summary.json).
// Env: USERS (500), RATE (200), DURATION (2m), CONNECT_S (30: all sockets open before the first
// message), GRACE_S (15: sockets stay open after the last message), BYTES (200), WS_URL (API_URL
// with ws:// or wss://). Messages are internal (no recipient_id).
import http from "k6/http";
import { check } from "k6";
import exec from "k6/execution";
import { Counter, Trend } from "k6/metrics";
import { setTimeout } from "k6/timers";
import { WebSocket } from "k6/experimental/websockets";
import { API_URL, EP_MESSAGES, accepted, baseOptions, content, envInt, envStr, setupUsers, thresholds } from "./lib/chat4all.js";

const USERS = Math.max(2, envInt("USERS", 500));
const CONVERSATIONS = Math.floor(USERS / 2);
const RATE = envInt("RATE", 200);
const DURATION_S = parseDuration(envStr("DURATION", "2m"));
const CONNECT_S = envInt("CONNECT_S", 30);
const GRACE_S = envInt("GRACE_S", 15);
const BYTES = envInt("BYTES", 200);
const WS_URL = envStr("WS_URL", `${API_URL.replace(/^http/, "ws")}/v1/ws`);

const pushLatency = new Trend("ws_push_latency", true);
const expected = new Counter("ws_expected");
const received = new Counter("ws_received");
const duplicates = new Counter("ws_duplicates");
const connected = new Counter("ws_connected");
const closedEarly = new Counter("ws_closed_early");

function parseDuration(text) {
  const m = /^(\d+)(s|m)$/.exec(text);
  if (!m) throw new Error(`DURATION=${text}: use e.g. 90s or 2m`);
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

export const options = baseOptions({
  scenarios: {
    listeners: {
      executor: "per-vu-iterations", exec: "listen", vus: USERS, iterations: 1,
      maxDuration: `${CONNECT_S + DURATION_S + GRACE_S + 60}s`,
    },
    senders: {
      executor: "constant-arrival-rate", exec: "send", rate: RATE, timeUnit: "1s",
      duration: `${DURATION_S}s`, startTime: `${CONNECT_S}s`,
      preAllocatedVUs: Math.min(200, RATE), maxVUs: Math.max(400, RATE * 2),
    },
  },
  thresholds: thresholds([EP_MESSAGES]),
});

export function setup() {
  return setupUsers(CONVERSATIONS, { peerTokens: true });
}

// Listener number i (0 .. USERS - 1 over this scenario: __VU counts the senders' VUs too) is
// person i of the setup: even = a conversation's sender, odd = its peer.
export function listen(data) {
  const i = exec.scenario.iterationInTest;
  const entry = data[Math.floor(i / 2) % data.length];
  const token = i % 2 === 0 ? entry.token : entry.peer_token;
  const seen = new Set();
  let ended = false;
  const ws = new WebSocket(WS_URL);
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
  ws.onmessage = (event) => {
    const now = Date.now();
    const frame = JSON.parse(event.data);
    if (frame.type === "ready") {
      connected.add(1);
    } else if (frame.type === "message") {
      const m = frame.message;
      if (seen.has(m.message_id)) {
        duplicates.add(1);
        return;
      }
      seen.add(m.message_id);
      received.add(1);
      pushLatency.add(now - Date.parse(m.timestamps.ACCEPTED));
    }
  };
  ws.onclose = () => {
    if (!ended) closedEarly.add(1);
  };
  ws.onerror = () => {};
  // Stay until every message has had its grace period, counted from this VU's start.
  setTimeout(() => {
    ended = true;
    ws.close();
  }, (CONNECT_S + DURATION_S + GRACE_S) * 1000);
}

export function send(data) {
  const entry = data[Math.floor(Math.random() * data.length)];
  const res = http.post(`${API_URL}/v1/messages`,
    JSON.stringify({ conversation_id: entry.conversation_id, content: content(BYTES),
                     message_id: crypto.randomUUID() }),
    { headers: { Authorization: `Bearer ${entry.token}`, "Content-Type": "application/json" },
      tags: { endpoint: EP_MESSAGES }, responseType: "none" });
  if (check(res, { "POST /v1/messages is 202": (r) => r.status === 202 })) {
    accepted.add(1);
    expected.add(2);
  }
}
