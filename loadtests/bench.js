// The benchmark's load: an open model (constant-arrival-rate, no think time) of POST /v1/messages,
// driven by benchmarks/ (make bench). Requests come from lib/chat4all.js like every case's.
// Env: API_URL, RATE (req/s), DURATION (the measured part), WARMUP (default 0s: none), BYTES,
// RECIPIENTS (mixed | internal | ...), USERS_FILE (senders prepared once by benchmarks/users.py),
// SETUP=0 (no users: the hello baseline).
//
// WARMUP > 0: the same arrival rate runs first as its own scenario `warmup`, then the measured one
// (`bench`) starts where it ends, so the rate never pauses. k6 tags every sample with its
// scenario, and the thresholds below (always true) make k6 put the `{scenario:bench}` submetrics in
// --summary-export: benchmarks/k6.py reads those, so the warm-up is discarded.
import { envInt, forVU, sendMessage, setupUsers } from "./lib/chat4all.js";

const RATE = envInt("RATE", 500);
const WARMUP = __ENV.WARMUP || "0s";
// Registration hashes passwords (argon2): done once per bench run, not in every short step.
const PREPARED = __ENV.USERS_FILE ? JSON.parse(open(__ENV.USERS_FILE)) : null;

function arrivals(extra) {
  return Object.assign({
    executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s",
    preAllocatedVUs: envInt("PRE_VUS", Math.max(20, Math.ceil(RATE / 20))),
    maxVUs: envInt("MAX_VUS", Math.max(100, Math.ceil(RATE / 4))),
  }, extra);
}

const scenarios = { bench: arrivals({ duration: __ENV.DURATION || "10s", startTime: WARMUP }) };
if (!/^0+(\.0*)?[a-z]*$/.test(WARMUP)) scenarios.warmup = arrivals({ duration: WARMUP });

// Submetrics of the measured scenario only; "always true" thresholds just force them into the summary.
const MEASURED = "{scenario:bench}";
const thresholds = {};
for (const [metric, always] of [["http_req_duration", "max>=0"], ["http_req_failed", "rate>=0"],
  ["http_reqs", "count>=0"], ["iterations", "count>=0"], ["dropped_iterations", "count>=0"],
  ["accepted", "count>=0"], ["retried", "count>=0"], ["abandoned", "count>=0"]]) {
  thresholds[`${metric}${MEASURED}`] = [always];
}

export const options = {
  scenarios,
  thresholds,
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
  setupTimeout: "120s",
};

export function setup() {
  if (__ENV.SETUP === "0") return [{ token: null, conversation_id: "none" }];
  return PREPARED || setupUsers(envInt("USERS", 50));
}

export default function (users) {
  sendMessage(forVU(users), envInt("BYTES", 200));
}
