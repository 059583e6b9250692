// 01 — Warm-up: 5 VUs for 2 min, ~100 B messages, 6 s think time (the assignment's ~50 req/min). Warms up connection pools, the
// Kafka producer and Cassandra's prepared statements before the cases that measure.
// Env: VUS (5), DURATION (2m), BYTES (100), USERS (= VUS), THINK_S (6), RECIPIENTS (mixed).
import { EP_MESSAGES, baseOptions, envInt, envStr, forVU, sendMessage, setupUsers, think, thresholds } from "./lib/chat4all.js";

const VUS = envInt("VUS", 5);
const BYTES = envInt("BYTES", 100);

export const options = baseOptions({
  scenarios: {
    warmup: { executor: "constant-vus", vus: VUS, duration: envStr("DURATION", "2m") },
  },
  thresholds: thresholds([EP_MESSAGES]),
});

export function setup() {
  return setupUsers(envInt("USERS", VUS));
}

export default function (data) {
  sendMessage(forVU(data), BYTES);
  think(6);
}
