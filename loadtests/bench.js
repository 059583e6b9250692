// The benchmark's load: an open model (constant-arrival-rate, no think time) of POST /v1/messages,
// driven by benchmarks/ (make bench). Requests come from lib/chat4all.js like every case's.
// Env: API_URL, RATE (req/s), DURATION, BYTES, RECIPIENTS (mixed | internal | ...),
// USERS_FILE (senders prepared once by benchmarks/users.py), SETUP=0 (no users: the hello baseline).
import { envInt, forVU, sendMessage, setupUsers } from "./lib/chat4all.js";

const RATE = envInt("RATE", 500);
// Registration hashes passwords (argon2): done once per bench run, not in every short step.
const PREPARED = __ENV.USERS_FILE ? JSON.parse(open(__ENV.USERS_FILE)) : null;

export const options = {
  scenarios: {
    bench: {
      executor: "constant-arrival-rate", rate: RATE, timeUnit: "1s",
      duration: __ENV.DURATION || "10s",
      preAllocatedVUs: envInt("PRE_VUS", Math.max(20, Math.ceil(RATE / 20))),
      maxVUs: envInt("MAX_VUS", Math.max(100, Math.ceil(RATE / 4))),
    },
  },
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
