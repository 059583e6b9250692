// Chat4All's web client: state and wiring. REST (api.js) loads and sends; the WebSocket
// (live.js) brings new messages and status changes; ui.js draws.
import { Api, tokenSubject } from './api.js';
import { Live } from './live.js';
import { drawConnection, drawConversations, drawMessage, rank, shortId } from './ui.js';

const $ = (id) => document.getElementById(id);
const SESSION_KEY = 'chat4all.session';
const NAMES_KEY = 'chat4all.usernames';
const MAX_KNOWN_STATUSES = 5000;

const state = {
  session: null, // {token, userId, username}
  conversations: [], // the server's order; a conversation with news moves to the top
  unread: new Map(), // conversation id -> messages from others seen live while it was closed
  open: null, // {id, messages: Map id -> message, order: [id], elements: Map id -> <li>}
  // Latest status per message id, from frames: a frame may beat the REST page that loads it.
  statuses: new Map(),
  readRequested: new Set(),
  files: new Map(), // file id -> {url, expires}: presigned download links
  names: loadNames(), // user id -> username, as far as this browser learned them
  asked: new Set(), // user ids asked of GET /v1/users/{id} in this page load (once each)
};

const api = new Api(() => logout('Your session expired: log in again.'));
const live = new Live({
  state: (name) => drawConnection($('connection'), name),
  ready: (frame) => { if (!frame.resumed) refreshAll(); }, // frames may have been missed
  message: (frame) => onMessage(frame.message),
  status: (frame) => onStatus(frame.status),
  reset: () => refreshAll(),
  authFailed: () => logout('Your session expired: log in again.'),
});

// --- session ------------------------------------------------------------------------------
function loadNames() {
  try {
    return new Map(Object.entries(JSON.parse(localStorage.getItem(NAMES_KEY) || '{}')));
  } catch {
    return new Map();
  }
}

function learnName(userId, username) {
  state.names.set(userId, username);
  localStorage.setItem(NAMES_KEY, JSON.stringify(Object.fromEntries(state.names)));
}

function nameOf(userId) {
  if (userId === state.session?.userId) return 'me';
  const known = state.names.get(userId);
  if (known) return known;
  resolveName(userId);
  return `user ${shortId(userId)}`;
}

// An unknown user's name, asked once per page load (a failure is not asked again: the id stays
// shown); when it arrives, whatever shows that user is drawn again.
async function resolveName(userId) {
  if (!userId || state.asked.has(userId) || !state.session) return;
  state.asked.add(userId);
  let user;
  try {
    user = await api.user(userId);
  } catch {
    return;
  }
  if (!state.session) return; // logged out meanwhile
  learnName(user.user_id, user.username);
  drawList();
  const open = state.open;
  if (!open) return;
  if (!open.conv.name && open.conv.participant_ids.includes(userId)) $('chat-title').textContent = label(open.conv);
  for (const message of open.messages.values()) {
    if (message.sender_id === userId) draw(message.message_id);
  }
}

async function logIn(username, password) {
  const { access_token: token } = await api.login(username, password);
  startSession({ token, userId: tokenSubject(token), username });
}

function startSession(session) {
  state.session = session;
  api.token = session.token;
  // sessionStorage: a reload keeps the tab logged in; closing the browser forgets the token.
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  learnName(session.userId, session.username);
  $('me').textContent = session.username;
  $('login').hidden = true;
  $('main').hidden = false;
  live.start(session.token);
  loadConversations();
}

function logout(reason = '') {
  live.stop();
  sessionStorage.removeItem(SESSION_KEY);
  Object.assign(state, { session: null, conversations: [], open: null });
  state.asked.clear();
  state.unread.clear();
  state.statuses.clear();
  state.readRequested.clear();
  state.files.clear();
  api.token = null;
  $('messages').replaceChildren();
  $('conversations').replaceChildren();
  $('composer').hidden = true;
  $('chat-title').textContent = 'No conversation open';
  $('main').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = reason;
  drawConnection($('connection'), 'offline');
}

// --- conversations ------------------------------------------------------------------------
function label(conv) {
  if (conv.name) return conv.name;
  const others = conv.participant_ids.filter((id) => id !== state.session.userId);
  return others.length ? others.map(nameOf).join(', ') : 'just me';
}

function drawList() {
  drawConversations($('conversations'), state.conversations,
    { openId: state.open?.id, unread: state.unread, label, open: (conv) => openConversation(conv) });
}

async function loadConversations() {
  try {
    state.conversations = await api.conversations();
    drawList();
  } catch (err) {
    $('new-error').textContent = `Could not load conversations: ${err.message}`;
  }
}

let listReload = null;
function reloadListSoon() { // many frames of a new conversation: one reload
  clearTimeout(listReload);
  listReload = setTimeout(loadConversations, 300);
}

function toTop(conversationId) {
  const i = state.conversations.findIndex((c) => c.conversation_id === conversationId);
  if (i > 0) state.conversations.unshift(...state.conversations.splice(i, 1));
  return i >= 0;
}

async function startConversation(event) {
  event.preventDefault();
  const error = $('new-error');
  error.textContent = '';
  const names = $('new-usernames').value.split(',').map((s) => s.trim()).filter(Boolean);
  const ids = [];
  for (const name of names) {
    try {
      const user = await api.findUser(name);
      learnName(user.user_id, user.username);
      ids.push(user.user_id);
    } catch (err) {
      error.textContent = err.status === 404 ? `No user "${name}" found.` : `${name}: ${err.message}`;
      return;
    }
  }
  try {
    const conv = await api.createConversation(ids);
    state.conversations = [conv, ...state.conversations.filter((c) => c.conversation_id !== conv.conversation_id)];
    $('new-usernames').value = '';
    openConversation(conv);
  } catch (err) {
    error.textContent = err.message;
  }
}

// --- one open conversation -----------------------------------------------------------------
async function openConversation(conv) {
  state.open = { id: conv.conversation_id, conv, messages: new Map(), order: [], elements: new Map() };
  state.unread.delete(conv.conversation_id);
  document.body.classList.add('chat-open');
  $('chat-title').textContent = label(conv);
  $('chat-error').textContent = '';
  $('messages').replaceChildren();
  $('composer').hidden = false;
  drawList();
  await reloadOpen();
  $('text-input').focus();
}

// REST is the truth for order: its page order, then whatever arrived live or is being sent.
async function reloadOpen() {
  const open = state.open;
  if (!open) return;
  let page;
  try {
    page = await api.messages(open.id);
  } catch (err) {
    $('chat-error').textContent = `Could not load messages: ${err.message}`;
    return;
  }
  if (state.open !== open) return; // another one was opened meanwhile
  const ids = page.map((m) => m.message_id);
  const listed = new Set(ids);
  page.forEach((m) => store(m));
  open.order = [...ids, ...open.order.filter((id) => !listed.has(id))];
  $('messages').replaceChildren(...open.order.map((id) => draw(id)));
  scrollDown(true);
  markVisibleRead();
}

function refreshAll() {
  loadConversations();
  reloadOpen();
}

// Merge a message into the open conversation: newer fields, but never an older status.
function store(message) {
  const open = state.open;
  const old = open.messages.get(message.message_id);
  const merged = { ...old, ...message, timestamps: { ...old?.timestamps, ...message.timestamps } };
  for (const candidate of [old, state.statuses.get(message.message_id)]) {
    if (candidate && rank(candidate.status) > rank(merged.status)) {
      merged.status = candidate.status;
      merged.status_reason = candidate.status_reason ?? null;
    }
  }
  if (!merged.file && old?.file) merged.file = old.file;
  if (message.status && message.status !== 'SENDING') merged.localError = null; // the server has it
  open.messages.set(message.message_id, merged);
  return !old;
}

function draw(id) {
  const open = state.open;
  let li = open.elements.get(id);
  if (!li) {
    li = document.createElement('li');
    open.elements.set(id, li);
  }
  const message = open.messages.get(id);
  // A send that failed here (no answer, or refused) shows as FAILED with a retry.
  const shown = message.localError ? { ...message, status: 'FAILED', status_reason: message.localError } : message;
  drawMessage(li, shown, { me: state.session.userId, nameOf, openFile, retry: post });
  if (message.file_id) resolveFile(message.file_id, li);
  return li;
}

function add(message) {
  const open = state.open;
  const isNew = store(message);
  if (isNew) open.order.push(message.message_id);
  const li = draw(message.message_id);
  if (isNew) {
    $('messages').append(li);
    scrollDown(message.sender_id === state.session.userId);
  }
}

function scrollDown(force) {
  const list = $('messages');
  if (force || list.scrollHeight - list.scrollTop - list.clientHeight < 120) list.scrollTop = list.scrollHeight;
}

// --- live frames ----------------------------------------------------------------------------
function noteStatus(messageId, status, reason) {
  const known = state.statuses.get(messageId);
  if (known && rank(known.status) >= rank(status)) return;
  state.statuses.delete(messageId); // re-inserted last: the Map's order is the eviction order
  state.statuses.set(messageId, { status, status_reason: reason ?? null });
  if (state.statuses.size > MAX_KNOWN_STATUSES) state.statuses.delete(state.statuses.keys().next().value);
}

function onMessage(message) {
  noteStatus(message.message_id, message.status, message.status_reason);
  const id = message.conversation_id;
  if (!toTop(id)) reloadListSoon(); // someone started a conversation with me
  if (state.open?.id === id) {
    add(message);
    markVisibleRead();
  } else if (message.sender_id !== state.session.userId) {
    state.unread.set(id, (state.unread.get(id) || 0) + 1);
  }
  drawList();
}

function onStatus(change) {
  noteStatus(change.message_id, change.status, change.status_reason);
  const open = state.open;
  const message = open?.messages.get(change.message_id);
  if (!message || rank(change.status) <= rank(message.status)) return; // not loaded, or old news
  store({ message_id: change.message_id, status: change.status, status_reason: change.status_reason,
    timestamps: change.at ? { [change.status]: change.at } : {} });
  draw(change.message_id);
  markVisibleRead();
}

// --- sending ------------------------------------------------------------------------------
function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only (https, localhost)
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function compose(content, localFile = null) {
  const message = {
    message_id: uuid4(), conversation_id: state.open.id, sender_id: state.session.userId,
    recipient_id: null, channel: null, content, file_id: null, status: 'SENDING', status_reason: null,
    timestamps: { ACCEPTED: new Date().toISOString() },
    file: localFile ? { filename: localFile.name, size_bytes: localFile.size } : undefined,
  };
  add(message);
  if (localFile) state.open.messages.get(message.message_id).localFile = localFile;
  post(message);
}

// Also the retry: the same message_id, so a send whose answer was lost is stored only once.
async function post({ message_id: id }) {
  const open = state.open;
  const message = open.messages.get(id);
  message.localError = null;
  draw(id);
  try {
    if (message.localFile && !message.file_id) {
      const file = await api.uploadFile(open.id, message.localFile);
      message.file_id = file.file_id;
      message.file = { filename: file.filename, content_type: file.content_type, size_bytes: file.size_bytes };
    }
    await api.send({
      message_id: id, conversation_id: open.id, content: message.content,
      ...(message.file_id ? { file_id: message.file_id } : {}),
    });
    if (state.open !== open) return;
    store({ message_id: id, status: 'ACCEPTED' });
  } catch (err) {
    message.localError = `not sent: ${err.message}`;
  }
  if (state.open !== open) return;
  draw(id);
  if (open.order.at(-1) === id) scrollDown(true); // its reason and retry button grew it
}

function sendText(event) {
  event.preventDefault();
  const input = $('text-input');
  const content = input.value.trim();
  if (!content || !state.open) return;
  input.value = '';
  compose(content);
}

function sendFile() {
  const input = $('file-input');
  const file = input.files[0];
  input.value = ''; // the same file can be picked again
  if (!file || !state.open) return;
  const caption = $('text-input').value.trim();
  $('text-input').value = '';
  compose(caption || file.name, file);
}

// --- files --------------------------------------------------------------------------------
// The link gets its presigned URL from GET /v1/files/{id} (our origin); the URL expires.
async function fileLink(fileId) {
  const known = state.files.get(fileId);
  if (known && known.expires > Date.now() + 10_000) return known.url;
  const info = await api.fileInfo(fileId);
  state.files.set(fileId, { url: info.download_url, expires: Date.parse(info.expires_at) });
  return info.download_url;
}

async function resolveFile(fileId, li) {
  try {
    const url = await fileLink(fileId);
    const link = li.querySelector(`a[data-file-id="${fileId}"]`);
    if (link) {
      link.href = url;
      link.dataset.ready = 'true';
    }
  } catch {
    // the link still works: a click asks again
  }
}

async function openFile(message, link) {
  try {
    const url = await fileLink(message.file_id);
    link.href = url;
    window.open(url, '_blank', 'noopener');
  } catch (err) {
    $('chat-error').textContent = `Could not open the file: ${err.message}`;
  }
}

// --- read receipts ------------------------------------------------------------------------
// Only while this tab is visible: only messages to me, DELIVERED, not a channel's (whose
// receipts come from the channel).
function markVisibleRead() {
  const open = state.open;
  if (!open || document.visibilityState !== 'visible') return;
  for (const message of open.messages.values()) {
    const id = message.message_id;
    if (message.sender_id === state.session.userId || message.channel || message.status !== 'DELIVERED'
        || state.readRequested.has(id)) continue;
    state.readRequested.add(id);
    api.markRead(id).then(() => {
      if (state.open === open && rank(open.messages.get(id)?.status) < rank('READ')) {
        store({ message_id: id, status: 'READ' });
        draw(id);
      }
    }).catch(() => state.readRequested.delete(id)); // tried again on the next change
  }
}

// --- start ----------------------------------------------------------------------------------
function withCredentials(action) {
  return async (event) => {
    event.preventDefault();
    const form = $('login-form');
    if (!form.reportValidity()) return;
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    $('login-error').textContent = '';
    try {
      await action(username, password);
      $('login-password').value = '';
    } catch (err) {
      $('login-error').textContent = err.message;
    }
  };
}

$('login-form').addEventListener('submit', withCredentials(logIn));
$('register').addEventListener('click', withCredentials(async (username, password) => {
  await api.register(username, password);
  await logIn(username, password);
}));
$('logout').addEventListener('click', () => logout());
$('new-conversation').addEventListener('submit', startConversation);
$('composer').addEventListener('submit', sendText);
$('file-input').addEventListener('change', sendFile);
$('back').addEventListener('click', () => document.body.classList.remove('chat-open'));
document.addEventListener('visibilitychange', markVisibleRead);

try {
  const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
  if (saved?.token) startSession(saved);
} catch {
  sessionStorage.removeItem(SESSION_KEY);
}
