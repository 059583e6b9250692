// 06 — Soak: 30 VUs for 15 min, 70% POST /v1/messages and 30% GET /v1/conversations/{id}/messages,
// 6 s think time (the assignment's ~300 req/min): looks for slow leaks (memory, connections, lag that never drains).
// Thresholds: P95 < 200 ms and < 1% failed, per endpoint.
// Env: VUS (30), DURATION (15m), BYTES (200), WRITE_RATIO (0.7), LIST_LIMIT (20), USERS (= VUS),
//      THINK_S (6), RECIPIENTS (mixed).
import {
  EP_LIST, EP_MESSAGES, baseOptions, envInt, envNum, envStr, forVU, listMessages, sendMessage, setupUsers, think, thresholds,
} from "./lib/chat4all.js";

const VUS = envInt("VUS", 30);
const BYTES = envInt("BYTES", 200);
const WRITE_RATIO = envNum("WRITE_RATIO", 0.7);

export const options = baseOptions({
  scenarios: {
    soak: { executor: "constant-vus", vus: VUS, duration: envStr("DURATION", "15m") },
  },
  thresholds: thresholds([EP_MESSAGES, EP_LIST]),
});

export function setup() {
  return setupUsers(envInt("USERS", VUS));
}

export default function (data) {
  const ctx = forVU(data);
  if (Math.random() < WRITE_RATIO) sendMessage(ctx, BYTES);
  else listMessages(ctx);
  think(6);
}
