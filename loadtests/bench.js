// The benchmark's load: an open model (constant-arrival-rate, no think time) of POST /v1/messages.
// Driven by benchmarks/ (make bench); env: API_URL, RATE (req/s), DURATION, USERS, RECIPIENTS
// (mixed | internal), USERS_FILE (prepared users), SETUP=0 to skip users (the hello baseline).
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const API = __ENV.API_URL || 'http://127.0.0.1:8080';
const RATE = Number(__ENV.RATE || 500);
const accepted = new Counter('accepted');
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export const options = {
  scenarios: {
    bench: {
      executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s',
      duration: __ENV.DURATION || '10s',
      preAllocatedVUs: Number(__ENV.PRE_VUS || Math.max(20, Math.ceil(RATE / 20))),
      maxVUs: Number(__ENV.MAX_VUS || Math.max(100, Math.ceil(RATE / 4))),
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  setupTimeout: '120s',
};

function post(path, body, token) {
  const headers = token ? Object.assign({ Authorization: `Bearer ${token}` }, JSON_HEADERS) : JSON_HEADERS;
  return http.post(`${API}${path}`, JSON.stringify(body), { headers });
}

// Users made once by the harness (benchmarks/users.py): registration hashes passwords (argon2),
// which would otherwise dominate every short step.
const PREPARED = __ENV.USERS_FILE ? JSON.parse(open(__ENV.USERS_FILE)) : null;

export function setup() {
  if (__ENV.SETUP === '0') return [{ token: null, conversation_id: 'none' }];
  if (PREPARED) return PREPARED;
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const users = [];
  for (let i = 0; i < Number(__ENV.USERS || 50); i++) {
    const name = `bench-${run}-${i}`;
    const peer = post('/auth/register', { username: `${name}-peer`, password: `pw-${name}` }).json();
    post('/auth/register', { username: name, password: `pw-${name}` });
    const token = post('/auth/token', { username: name, password: `pw-${name}` }).json().access_token;
    const conv = post('/v1/conversations', { participant_ids: [peer.user_id] }, token).json();
    users.push({ token, conversation_id: conv.conversation_id });
  }
  return users;
}

const CONTENT = 'x'.repeat(Number(__ENV.BYTES || 200));
const TARGETS = [null, 'whatsapp:+5511999990000', 'instagram:@bench'];

export default function (users) {
  const user = users[(__VU - 1) % users.length];
  const body = { conversation_id: user.conversation_id, content: CONTENT };
  const to = __ENV.RECIPIENTS === 'internal' ? null : TARGETS[__ITER % 3];
  if (to) body.recipient_id = to;
  const headers = Object.assign({ Authorization: `Bearer ${user.token}` }, JSON_HEADERS);
  const res = http.post(`${API}/v1/messages`, JSON.stringify(body), { headers, responseType: 'none' });
  if (res.status === 202) accepted.add(1);
}
