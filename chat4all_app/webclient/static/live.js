// The live feed: one WebSocket to /v1/ws on this host. The token goes in the first frame, never
// in the URL (URLs end up in logs). The last cursor seen is sent again on every reconnection, so
// the server replays exactly what was missed while disconnected.

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
export const CLOSE_AUTH = 4001; // token refused or expired: log in again
export const CLOSE_SLOW = 4008; // we read too slowly: reconnect
export const CLOSE_TOO_MANY = 4029; // too many connections for this user

export class Live {
  // handlers: {state(name, detail), ready(frame), message(frame), status(frame), reset(frame), authFailed()}
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.token = null;
    this.cursor = null;
    this.attempt = 0;
    this.timer = null;
  }

  start(token) {
    this.stop();
    this.token = token;
    this.cursor = null;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.token = null;
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, 'logout');
    }
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/ws`);
    this.socket = socket;
    this.handlers.state(this.attempt ? 'reconnecting' : 'connecting');
    socket.addEventListener('open', () => {
      const auth = { type: 'auth', token: this.token };
      if (this.cursor) auth.cursor = this.cursor;
      socket.send(JSON.stringify(auth));
    });
    socket.addEventListener('message', (event) => this.receive(socket, event.data));
    socket.addEventListener('close', (event) => this.closed(socket, event.code));
  }

  receive(socket, data) {
    if (socket !== this.socket) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return; // not ours to interpret
    }
    if (frame.cursor) this.cursor = frame.cursor;
    if (frame.type === 'ready') {
      this.attempt = 0;
      this.handlers.state('live');
      this.handlers.ready(frame);
    } else if (frame.type === 'message' || frame.type === 'status') {
      this.handlers[frame.type](frame);
    } else if (frame.type === 'reset') {
      // The reset frame's cursor (kept above) is where live updates go on from.
      this.handlers.reset(frame);
    }
  }

  closed(socket, code) {
    if (socket !== this.socket) return; // an old socket, or stop() closed it
    this.socket = null;
    if (code === CLOSE_AUTH) {
      this.handlers.state('offline');
      this.handlers.authFailed();
      return;
    }
    // A refused slot is no reason to hammer the server: wait the longest delay.
    const tooMany = code === CLOSE_TOO_MANY;
    const delay = tooMany ? BACKOFF_MS.at(-1) : BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.handlers.state(tooMany ? 'too-many' : 'reconnecting', delay);
    this.timer = setTimeout(() => { if (this.token) this.connect(); }, delay);
  }
}
