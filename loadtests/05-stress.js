// 05 — Stress: a staircase from 10 to 100 VUs, +10 VUs every minute (short ramp, then hold),
// 200 B messages, 1 s think time, to find where latency and errors start to climb.
// Thresholds: P95 < 200 ms, < 1% failed.
// Env: START_VUS (10), VUS (peak, 100), STEP (10), STAGE_S (60: seconds per step),
//      STEP_RAMP_S (5), BYTES (200), USERS (= VUS), THINK_S (1), RECIPIENTS (mixed).
import { EP_MESSAGES, baseOptions, envInt, envNum, forVU, sendMessage, setupUsers, think, thresholds } from "./lib/chat4all.js";

const START = envInt("START_VUS", 10);
const PEAK = envInt("VUS", 100);
const STEP = Math.max(1, envInt("STEP", 10));
const STAGE_S = envNum("STAGE_S", 60);
const RAMP_S = Math.min(envNum("STEP_RAMP_S", 5), STAGE_S / 2);
const BYTES = envInt("BYTES", 200);

function staircase() {
  const stages = [{ duration: `${STAGE_S}s`, target: START }];
  for (let vus = START + STEP; vus <= PEAK; vus += STEP) {
    stages.push({ duration: `${RAMP_S}s`, target: vus });
    stages.push({ duration: `${STAGE_S - RAMP_S}s`, target: vus });
  }
  stages.push({ duration: "10s", target: 0 });
  return stages;
}

export const options = baseOptions({
  scenarios: {
    stress: { executor: "ramping-vus", startVUs: START, stages: staircase(), gracefulRampDown: "10s" },
  },
  thresholds: thresholds([EP_MESSAGES]),
});

export function setup() {
  return setupUsers(envInt("USERS", PEAK));
}

export default function (data) {
  sendMessage(forVU(data), BYTES);
  think(1);
}
