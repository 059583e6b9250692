// The REST API, same origin: every call is JSON with the bearer token, and an error answer
// ({"error": ...}) becomes an ApiError carrying its status and message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class Api {
  // onUnauthorized: called on any 401 of an authenticated call (the token expired).
  constructor(onUnauthorized) {
    this.token = null;
    this.onUnauthorized = onUnauthorized;
  }

  async call(method, path, { json, form, auth = true } = {}) {
    const headers = {};
    if (auth) headers.Authorization = `Bearer ${this.token}`;
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // the browser writes the multipart boundary itself
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'network error: the server is unreachable');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      if (response.status === 401 && auth) this.onUnauthorized();
      throw new ApiError(response.status, data.error || `HTTP ${response.status}`);
    }
    return data;
  }

  register(username, password) {
    return this.call('POST', '/auth/register', { json: { username, password }, auth: false });
  }

  login(username, password) {
    return this.call('POST', '/auth/token', { json: { username, password }, auth: false });
  }

  async conversations() {
    return this.pages('/v1/conversations', 'conversations');
  }

  createConversation(participantIds, name) {
    return this.call('POST', '/v1/conversations',
      { json: { participant_ids: participantIds, ...(name ? { name } : {}) } });
  }

  findUser(username) {
    return this.call('GET', `/v1/users?username=${encodeURIComponent(username)}`);
  }

  // {user_id, username} of a user id: how the client names people it only knows by id.
  user(userId) {
    return this.call('GET', `/v1/users/${encodeURIComponent(userId)}`);
  }

  // The API pages forward from the oldest message: read every page, in the server's order.
  messages(conversationId) {
    return this.pages(`/v1/conversations/${encodeURIComponent(conversationId)}/messages`, 'messages');
  }

  async pages(path, key) {
    const out = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
      const page = await this.call('GET', `${path}?${query}`);
      out.push(...page[key]);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  }

  // message_id is the client's: sending it again after a lost answer stores the message once.
  send(message) {
    return this.call('POST', '/v1/messages', { json: message });
  }

  markRead(messageId) {
    return this.call('POST', `/v1/messages/${encodeURIComponent(messageId)}/read`);
  }

  // The streamed upload: the conversation id must come before the file in the form.
  uploadFile(conversationId, file) {
    const form = new FormData();
    form.append('conversation_id', conversationId);
    form.append('file', file, file.name);
    return this.call('POST', '/v1/files', { form });
  }

  fileInfo(fileId) {
    return this.call('GET', `/v1/files/${encodeURIComponent(fileId)}`);
  }
}

// The user id of a token (its `sub`): read, not verified; the server verifies every call.
export function tokenSubject(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).sub || null;
  } catch {
    return null;
  }
}
