// 03 — Spike: 5 VUs, ramp to 50 VUs in 30 s, hold 1 min, drop back to 5 (and watch the recovery).
// Thresholds: P95 < 200 ms and P99 < 500 ms, < 1% failed.
// Env: LOW_VUS (5), VUS (peak, 50), RAMP (30s), HOLD (1m), DROP (10s), RECOVER (30s),
//      BYTES (200), USERS (= VUS), THINK_S (1), RECIPIENTS (mixed).
import { EP_MESSAGES, baseOptions, envInt, envStr, forVU, sendMessage, setupUsers, think, thresholds } from "./lib/chat4all.js";

const LOW = envInt("LOW_VUS", 5);
const PEAK = envInt("VUS", 50);
const BYTES = envInt("BYTES", 200);

export const options = baseOptions({
  scenarios: {
    spike: {
      executor: "ramping-vus",
      startVUs: LOW,
      stages: [
        { duration: envStr("RAMP", "30s"), target: PEAK },
        { duration: envStr("HOLD", "1m"), target: PEAK },
        { duration: envStr("DROP", "10s"), target: LOW },
        { duration: envStr("RECOVER", "30s"), target: LOW },
      ],
      gracefulRampDown: "10s",
    },
  },
  thresholds: thresholds([EP_MESSAGES], { p99: true }),
});

export function setup() {
  return setupUsers(envInt("USERS", PEAK));
}

export default function (data) {
  sendMessage(forVU(data), BYTES);
  think(1);
}
