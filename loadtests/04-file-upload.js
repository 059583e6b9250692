// 04 — File upload: 10 VUs for 3 min, each uploading a file of 100 KB – 1 MB of random bytes
// through POST /v1/files (multipart/form-data, conversation_id first, then file; 201 expected),
// 8 s think time (the assignment's 50-100 uploads/min: ~75). Thresholds: P95 < 2000 ms (P95_MS; the
// assignment: a 1 MB upload in < 2 s), < 1% failed.
// Env: VUS (10), DURATION (3m), MIN_KB (100), MAX_KB (1024), USERS (= VUS), THINK_S (8), P95_MS (2000).
import { EP_FILES, baseOptions, envInt, envStr, forVU, setupUsers, think, thresholds, uploadFile } from "./lib/chat4all.js";

const VUS = envInt("VUS", 10);
const MIN = envInt("MIN_KB", 100) * 1024;
const MAX = Math.max(MIN, envInt("MAX_KB", 1024) * 1024);

export const options = baseOptions({
  scenarios: {
    upload: { executor: "constant-vus", vus: VUS, duration: envStr("DURATION", "3m") },
  },
  thresholds: thresholds([EP_FILES], { p95Default: 2000 }),
});

export function setup() {
  return setupUsers(envInt("USERS", VUS));
}

export default function (data) {
  uploadFile(forVU(data), MIN + Math.floor(Math.random() * (MAX - MIN + 1)));
  think(8);
}
