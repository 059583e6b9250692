// 02 — Baseline: 20 VUs for 5 min, 200 B messages, 2.2 s think time (the assignment's ~500 req/min: 500-600 msg/min expected): the steady, normal load the
// other cases are compared against. Thresholds: P95 < 200 ms, < 1% failed.
// Env: VUS (20), DURATION (5m), BYTES (200), USERS (= VUS), THINK_S (2.2), RECIPIENTS (mixed).
import { EP_MESSAGES, baseOptions, envInt, envStr, forVU, sendMessage, setupUsers, think, thresholds } from "./lib/chat4all.js";

const VUS = envInt("VUS", 20);
const BYTES = envInt("BYTES", 200);

export const options = baseOptions({
  scenarios: {
    baseline: { executor: "constant-vus", vus: VUS, duration: envStr("DURATION", "5m") },
  },
  thresholds: thresholds([EP_MESSAGES]),
});

export function setup() {
  return setupUsers(envInt("USERS", VUS));
}

export default function (data) {
  sendMessage(forVU(data), BYTES);
  think(2.2);
}
