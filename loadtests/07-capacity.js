// 07 — Capacity: an OPEN model (arrival-rate executors, no think time) of POST /v1/messages.
// k6 starts iterations at the requested rate whatever the latency; when it has no free VU left
// it counts `dropped_iterations` — together with P95 and errors, that is where capacity ends.
//
// MODE=ramp (default): ramping-arrival-rate from START_RATE through STAGES.
//   STAGES  "rate:duration,..." (default "3000:4m": a linear ramp from START_RATE to 3000 req/s
//           over 4 minutes), START_RATE (100)
// MODE=constant: constant-arrival-rate, RATE (500) req/s for DURATION (1m) — how the benchmark
//   harness holds one fixed rate.
// Both: PRE_VUS / MAX_VUS (preAllocatedVUs / maxVUs; defaults scale with the rate), USERS (50),
//   BYTES (200), RECIPIENTS (mixed).
// Thresholds (P95 < 200 ms, P99 < 500 ms, < 1% failed) are informational: abortOnFail is false,
// the run always completes; a crossed one still makes k6 exit 99.
import { EP_MESSAGES, baseOptions, envInt, envNum, envStr, forVU, sendMessage, setupUsers, thresholds } from "./lib/chat4all.js";

const MODE = envStr("MODE", "ramp");
const BYTES = envInt("BYTES", 200);

function parseStages(spec) {
  return spec.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [target, duration] = s.split(":");
    if (!duration || !Number.isFinite(Number(target))) throw new Error(`STAGES: "${s}" is not rate:duration`);
    return { target: Number(target), duration: duration.trim() };
  });
}

function scenario() {
  if (MODE === "constant") {
    const rate = envNum("RATE", 500);
    return {
      executor: "constant-arrival-rate",
      rate,
      timeUnit: "1s",
      duration: envStr("DURATION", "1m"),
      preAllocatedVUs: envInt("PRE_VUS", Math.max(20, Math.ceil(rate / 20))),
      maxVUs: envInt("MAX_VUS", Math.max(100, Math.ceil(rate / 4))),
    };
  }
  if (MODE !== "ramp") throw new Error(`MODE=${MODE}: use ramp or constant`);
  const stages = parseStages(envStr("STAGES", "3000:4m"));
  const peak = Math.max(...stages.map((s) => s.target));
  return {
    executor: "ramping-arrival-rate",
    startRate: envNum("START_RATE", 100),
    timeUnit: "1s",
    stages,
    preAllocatedVUs: envInt("PRE_VUS", Math.max(20, Math.ceil(peak / 50))),
    maxVUs: envInt("MAX_VUS", Math.max(100, Math.ceil(peak / 6))),
  };
}

export const options = baseOptions({
  scenarios: { capacity: scenario() },
  thresholds: thresholds([EP_MESSAGES], { p99: true, abortOnFail: false }),
});

export function setup() {
  return setupUsers(envInt("USERS", 50));
}

export default function (data) {
  sendMessage(forVU(data), BYTES);
}
