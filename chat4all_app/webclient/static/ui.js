// Drawing: DOM built with textContent only (message text is never parsed as HTML). Symbols are
// from common text fonts, not emoji: a machine without an emoji font draws them too.

// Statuses only move forward; FAILED is terminal, so it outranks every other.
export const RANK = { SENDING: -1, ACCEPTED: 0, PENDING: 1, SENT: 2, DELIVERED: 3, READ: 4, FAILED: 5 };

export function rank(status) {
  return RANK[status] ?? -1;
}

// What each status looks like beside my own messages (WhatsApp's ticks).
const TICKS = {
  SENDING: { mark: '◷', label: 'sending' },
  ACCEPTED: { mark: '✓', label: 'sent' },
  PENDING: { mark: '✓', label: 'sent' },
  SENT: { mark: '✓', label: 'sent' },
  DELIVERED: { mark: '✓✓', label: 'delivered' },
  READ: { mark: '✓✓', label: 'read' },
  FAILED: { mark: '✗', label: 'failed' },
};

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function shortId(id) {
  return id ? id.slice(0, 8) : '?';
}

function clock(message) {
  const stamps = message.timestamps || {};
  const at = stamps.ACCEPTED || Object.values(stamps)[0];
  if (!at) return '';
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function fileSize(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// One message's <li>, redrawn in place on every change (its element is kept by message id).
// ctx: {me, nameOf(id), openFile(message, link), retry(message)}
export function drawMessage(li, message, ctx) {
  const mine = message.sender_id === ctx.me;
  li.className = `message ${mine ? 'mine' : 'theirs'}`;
  li.dataset.testid = 'message';
  li.dataset.messageId = message.message_id;
  li.dataset.status = message.status;
  li.dataset.mine = String(mine);
  const parts = [];
  if (!mine) parts.push(el('span', { class: 'sender', 'data-testid': 'sender', text: ctx.nameOf(message.sender_id) }));
  if (message.file_id || message.file) {
    const name = message.file?.filename || 'file';
    const link = !message.file_id ? el('span', { class: 'file', text: `↓ ${name} (uploading…)` }) : el('a', {
      class: 'file', href: `#file-${message.file_id}`, 'data-testid': 'file-link',
      'data-file-id': message.file_id, text: `↓ ${name}`,
      'aria-label': `Download ${name}`,
      onclick: (event) => { event.preventDefault(); ctx.openFile(message, event.currentTarget); },
    });
    parts.push(el('div', {}, link, el('span', { class: 'size', text: ` ${fileSize(message.file?.size_bytes)}` })));
  }
  if (message.content && !(message.file_id && message.content === message.file?.filename)) {
    parts.push(el('p', { class: 'text', 'data-testid': 'message-text', text: message.content }));
  }
  const meta = el('div', { class: 'meta' }, el('time', { text: clock(message) }));
  if (mine || message.status === 'FAILED') {
    const tick = TICKS[message.status] || { mark: '', label: message.status.toLowerCase() };
    meta.append(el('span', {
      class: `ticks ${message.status.toLowerCase()}`, 'data-testid': 'ticks', title: message.status,
      'aria-label': tick.label, text: tick.mark,
    }));
  }
  parts.push(meta);
  if (message.status === 'FAILED') {
    parts.push(el('p', {
      class: 'reason', 'data-testid': 'status-reason',
      text: message.status_reason || 'not delivered',
    }));
    if (mine && message.localError) {
      parts.push(el('button', {
        type: 'button', class: 'secondary small', text: 'Retry', 'data-testid': 'retry',
        onclick: () => ctx.retry(message),
      }));
    }
  }
  li.replaceChildren(...parts);
}

// The conversation list; ctx: {openId, unread: Map, label(conv), open(conv)}
export function drawConversations(ul, conversations, ctx) {
  ul.replaceChildren(...conversations.map((conv) => {
    const unread = ctx.unread.get(conv.conversation_id) || 0;
    const button = el('button', {
      type: 'button', class: 'conversation', 'data-testid': 'conversation',
      'data-conversation-id': conv.conversation_id,
      'aria-current': conv.conversation_id === ctx.openId ? 'true' : null,
      onclick: () => ctx.open(conv),
    }, el('span', { class: 'title', text: ctx.label(conv) }));
    if (unread) {
      button.append(el('span', {
        class: 'unread', 'data-testid': 'unread', text: String(unread),
        'aria-label': `${unread} unread`,
      }));
    }
    return el('li', {}, button);
  }));
}

const CONNECTION_TEXT = {
  connecting: 'connecting…', live: '● live', reconnecting: 'reconnecting…',
  'too-many': 'too many open tabs', offline: 'offline',
};

export function drawConnection(node, state) {
  node.dataset.state = state;
  node.textContent = CONNECTION_TEXT[state] || state;
  node.title = state === 'too-many'
    ? 'Too many connections for this user: close another tab or window'
    : `Live updates: ${state}`;
}
