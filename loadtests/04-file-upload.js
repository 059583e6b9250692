// 04 — File upload: 10 VUs for 3 min, each uploading a file of 100 KB – 1 MB of random bytes
// through POST /v1/files (multipart/form-data, conversation_id first, then file; 201 expected),
// 1 s think time. Thresholds: P95 < 200 ms (P95_MS), < 1% failed.
// Env: VUS (10), DURATION (3m), MIN_KB (100), MAX_KB (1024), USERS (= VUS), THINK_S (1).
import { EP_FILES, baseOptions, envInt, envStr, forVU, setupUsers, think, thresholds, uploadFile } from "./lib/chat4all.js";

const VUS = envInt("VUS", 10);
const MIN = envInt("MIN_KB", 100) * 1024;
const MAX = Math.max(MIN, envInt("MAX_KB", 1024) * 1024);

export const options = baseOptions({
  scenarios: {
    upload: { executor: "constant-vus", vus: VUS, duration: envStr("DURATION", "3m") },
  },
  thresholds: thresholds([EP_FILES]),
});

export function setup() {
  return setupUsers(envInt("USERS", VUS));
}

export default function (data) {
  uploadFile(forVU(data), MIN + Math.floor(Math.random() * (MAX - MIN + 1)));
  think(1);
}
