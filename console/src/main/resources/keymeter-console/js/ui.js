// Small DOM helpers. Every value from the API reaches the page as text (textContent), never as HTML.
import { retryDelay } from './api.js';

/** Creates an element: h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, …). */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value' || name === 'checked' || name === 'disabled') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : value);
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of an element. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// ---- formatting -------------------------------------------------------------------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000;
export const EXPIRING_SOON_MS = 7 * DAY_MS;

/** "2026-11-26 10:15 UTC": the API's times are UTC and so is the billing cycle, so the console shows UTC too. */
export function formatInstant(instant) {
  if (!instant) {
    return '—';
  }
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) {
    return String(instant);
  }
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDay(instant) {
  return instant ? new Date(instant).toISOString().slice(0, 10) : '—';
}

/** "in 3 days", "5 hours ago". */
export function relative(instant, now = Date.now()) {
  const ms = new Date(instant).getTime() - now;
  const abs = Math.abs(ms);
  const [value, unit] = abs >= DAY_MS ? [Math.round(abs / DAY_MS), 'day']
    : abs >= 3600000 ? [Math.round(abs / 3600000), 'hour'] : [Math.max(1, Math.round(abs / 60000)), 'minute'];
  const text = `${value} ${unit}${value === 1 ? '' : 's'}`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatNumber(value) {
  return new Intl.NumberFormat('en-US').format(Number(value || 0));
}

/**
 * The decimals of an amount in the currency as the browser knows it (CLDR: USD 2, JPY 0, KWD 3; 2 when unknown).
 * The server rounds to ISO 4217's, which differ for a few (IQD); the usage page takes them from the server's amounts.
 */
export function currencyDecimals(currency = 'USD') {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** The decimals a money string is written with ("12.50": 2, "3": 0), or null when it is not a decimal. */
export function decimalPlaces(amount) {
  const text = String(amount ?? '');
  return /^-?\d+(\.\d+)?$/.test(text) ? (text.split('.')[1] || '').length : null;
}

/**
 * Money arrives as a decimal string; show every decimal it has (at least the currency's) with the currency. The
 * string itself is formatted (Intl formats a decimal string exactly): through a JS number, 1234567890123456.78
 * showed as …456.80.
 */
export function formatMoney(amount, currency = 'USD') {
  const text = String(amount ?? '0');
  const places = decimalPlaces(text);
  if (places === null) {
    return `${text} ${currency}`;
  }
  const decimals = Math.max(currencyDecimals(currency), places);
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency', currency, minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    }).format(text);
  } catch {
    return `${text} ${currency}`;
  }
}

/**
 * List price of {@code units} at {@code pricePer1000} (a decimal string): units / 1000 × price, half-even to
 * {@code decimals} (the currency's: cents for USD) as the server prices every line (PriceCatalog.cost), in integers.
 * Summing the credentials' costs, each rounded to cents, showed $0.00 for 100 credentials of 9 units at $0.50 per
 * 1,000 (list price $0.45).
 */
export function listCost(units, pricePer1000, decimals = 2) {
  const price = String(pricePer1000 ?? '0');
  if (!/^\d+(\.\d+)?$/.test(price) || !Number.isSafeInteger(units ?? 0) || units < 0) {
    return null;
  }
  const [whole, fraction = ''] = price.split('.');
  const scale = fraction.length + 3; // the exact product's
  // a currency with more decimals than the product has (CLF: 4) pads it: nothing to round then
  const unit = 10n ** BigInt(Math.max(0, scale - decimals));
  const exact = BigInt(units ?? 0) * BigInt(whole + fraction) * 10n ** BigInt(Math.max(0, decimals - scale));
  let rounded = exact / unit;
  const rest = exact % unit;
  if (rest * 2n > unit || (rest * 2n === unit && rounded % 2n === 1n)) {
    rounded += 1n;
  }
  if (decimals === 0) {
    return rounded.toString();
  }
  const digits = rounded.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** Orders credentials by name as people count: "Key 2" before "Key 10", case aside. */
export function byName(a, b) {
  return String(a.name).localeCompare(String(b.name), undefined, { numeric: true, sensitivity: 'base' });
}

/**
 * Splits a textarea into its non-empty lines; with {@code commas}, commas separate too (item IDs, which hold none).
 * Referrers are split on lines only: a referrer's path may hold a comma.
 */
export function lines(text, { commas = false } = {}) {
  return String(text || '').split(commas ? /[\n,]/ : /\n/).map((s) => s.trim()).filter(Boolean);
}

/** The values of a textarea made by linesField, split as that field says (item IDs on commas too). */
export function linesOf(textarea) {
  return lines(textarea.value, { commas: textarea.dataset.commas === 'true' });
}

// ---- keys -------------------------------------------------------------------------------------------------------

/** The key's state as the user should see it: the server's status, with an active key past its date shown expired. */
export function keyState(key, now = Date.now()) {
  if (!key) {
    return { status: 'none', expiring: false };
  }
  const expiresAt = key.expiresAt ? new Date(key.expiresAt).getTime() : Infinity;
  if (key.status === 'active' && expiresAt <= now) {
    return { status: 'expired', expiring: false };
  }
  return { status: key.status, expiring: key.status === 'active' && expiresAt - now <= EXPIRING_SOON_MS };
}

/** The key currently in each slot: the newest key the credential lists for it. */
export function keysBySlot(credential) {
  const slots = { 1: null, 2: null };
  for (const key of credential.keys || []) {
    const current = slots[key.slot];
    if (!current || String(key.createdAt) > String(current.createdAt)) {
      slots[key.slot] = key;
    }
  }
  return slots;
}

export function statusBadge(state) {
  const labels = { active: 'Active', expired: 'Expired', invalidated: 'Invalidated', none: 'No key' };
  return h('span', { class: `badge badge-${state.status}` }, labels[state.status] || state.status);
}

// ---- problems ---------------------------------------------------------------------------------------------------

/** The part of a problem's field name that names a form field: "referrers[0]" → "referrers". */
export function fieldOf(name) {
  const match = /^[A-Za-z]+/.exec(String(name || ''));
  return match ? match[0] : '';
}

/** Removes the problems shown in a container (and the field markers of its form fields). */
export function clearProblem(container) {
  if (!container) {
    return;
  }
  container.querySelectorAll('.problem').forEach((e) => e.remove());
  container.querySelectorAll('.field-error').forEach((e) => e.remove());
  container.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/**
 * Shows an API error next to what caused it: the problem's detail at the top of the container, and each of its
 * `errors[]` under the form field it names (fields are found by their data-field attribute).
 */
export function showProblem(container, error, { prepend = true } = {}) {
  clearProblem(container);
  const unplaced = [];
  const errors = error.errors || [];
  for (const fieldError of errors) {
    const field = container.querySelector(`[data-field="${CSS.escape(fieldOf(fieldError.field))}"]`);
    const message = `${fieldError.field}: ${fieldError.message}`;
    if (field) {
      const input = field.querySelector('input, textarea, select');
      if (input) {
        input.setAttribute('aria-invalid', 'true');
      }
      field.append(h('p', { class: 'field-error', role: 'alert' }, entryOf(fieldError, input) || message));
    } else {
      unplaced.push(message);
    }
  }
  // one invalid field: the API's detail says what its error says ("expiresAt: must be …"), shown twice
  const single = errors.length === 1 && error.detail === `${errors[0].field}: ${errors[0].message}`;
  const box = h('div', { class: 'problem alert alert-error', role: 'alert' },
    h('strong', {}, error.title || 'Error'),
    // "Not found credential … does not exist" read as one sentence: a title without its own stop gets a colon
    error.detail && error.detail !== error.title && !single
      ? h('span', {}, `${/[.!?:]$/.test(error.title || 'Error') ? '' : ':'} ${error.detail}`) : null,
    unplaced.length ? h('ul', {}, unplaced.map((m) => h('li', {}, m))) : null);
  if (prepend) {
    container.prepend(box);
  } else {
    container.append(box);
  }
  return box;
}

/**
 * Shows why a page could not load and, when it is a reason that passes (no server reached, a 503: Keymeter
 * restarting, a rebalance), loads it again by itself after api.js's retryDelay, saying when, with a button to try
 * at once: a console left open across a restart stayed on "Network error" until the user reloaded. Only for page
 * loads: a write is never repeated unasked. Stops when the user has moved on (the box is gone).
 */
export function showLoadProblem(container, error, reload, { prepend = true } = {}) {
  const box = showProblem(container, error, { prepend });
  const seconds = retryDelay(error);
  if (seconds === null || !reload) {
    return box;
  }
  const timer = setTimeout(() => {
    clearInterval(countdown);
    if (box.isConnected) {
      reload();
    }
  }, seconds * 1000);
  // counts down, so a wait of 21 s does not read as stuck
  const left = h('span', {}, String(seconds));
  let remaining = seconds;
  const countdown = setInterval(() => {
    remaining -= 1;
    if (!box.isConnected || remaining < 1) {
      clearInterval(countdown);
      return;
    }
    left.textContent = String(remaining);
  }, 1000);
  const now = h('button', { type: 'button', class: 'button small', 'data-action': 'retry' }, 'Try again now');
  now.addEventListener('click', () => {
    clearTimeout(timer);
    clearInterval(countdown);
    reload();
  });
  box.append(h('p', { class: 'retry' }, 'Trying again in ', left, ' s. ', now));
  return box;
}

/**
 * The error of one entry of a list field, named by the entry as typed: "itemAccess[1]" counts from 0 over the values
 * after blank lines and commas were dropped, which a user reads as another line.
 */
function entryOf(fieldError, input) {
  const index = /\[(\d+)\]$/.exec(String(fieldError.field || ''));
  if (!index || !input || input.tagName !== 'TEXTAREA') {
    return null;
  }
  const value = linesOf(input)[Number(index[1])];
  return value === undefined ? null : `“${value}”: ${fieldError.message}`;
}

/**
 * Focuses {@code target} when the page has lost the focus: it is on the body, or on an element a redraw removed or
 * a closed dialog still holds (a dialog is removed only after its close handlers ran). A button disabled while its
 * call ran cannot keep the focus, and the next Tab started at the top of the page. Never takes it from where the
 * user has gone meanwhile, nor from an open dialog.
 */
export function focusIfLost(target) {
  const focused = document.activeElement;
  const lost = !focused || focused === document.body || focused.disabled || !focused.isConnected
    || focused.closest('dialog:not([open])');
  if (!target || !lost || document.querySelector('dialog[open]')) {
    return;
  }
  if (!target.matches('a[href], button, input, select, textarea, [tabindex]')) {
    target.setAttribute('tabindex', '-1'); // a problem's box: focusable by script, not a Tab stop
  }
  target.focus();
}

/**
 * Briefly shows a confirmation at the bottom of the screen. The live region is never hidden, only empty (CSS draws
 * nothing then): text written into a region just unhidden is not announced by many screen readers.
 */
export function toast(message) {
  const element = document.getElementById('toast');
  element.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    element.textContent = '';
  }, 4000);
}

// ---- dialogs ----------------------------------------------------------------------------------------------------

/** Opens a modal <dialog> and removes it from the page once closed. */
export function openDialog(dialog) {
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
  return dialog;
}

/** Asks before something that cannot be undone. Resolves true only on the confirm button. */
export function confirmDialog({ title, message, confirmLabel = 'Continue', danger = false, id = 'confirm-dialog' }) {
  return new Promise((resolve) => {
    let confirmed = false;
    const dialog = h('dialog', { id, class: 'dialog', 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, title),
      [].concat(message).map((m) => h('p', {}, m)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-action': 'cancel', onclick: () => dialog.close() }, 'Cancel'),
        h('button', {
          type: 'button', class: `button ${danger ? 'danger' : 'primary'}`, 'data-action': 'confirm',
          onclick: () => {
            confirmed = true;
            dialog.close();
          },
        }, confirmLabel)));
    dialog.addEventListener('close', () => resolve(confirmed));
    openDialog(dialog);
    dialog.querySelector('[data-action="cancel"]').focus();
  });
}

/** Key dialogs opened over another one, for their ids. */
let keyDialogs = 0;

/**
 * Shows a newly issued API key exactly once. The key lives only in this dialog's DOM: it is never stored in the
 * browser, and closing the dialog removes it from the page.
 */
export function showIssuedKey(issued, credentialName) {
  // a second key's dialog can open over the first (one slot's answer arrives while the other's dialog is up): with
  // the same ids, the second was named by the first one's title, announced as the other slot's key
  const n = document.getElementById('key-dialog') ? `-${++keyDialogs}` : '';
  return new Promise((resolve) => {
    const output = h('input', {
      id: `issued-api-key${n}`, class: 'mono key-output', type: 'text', readonly: true, value: issued.apiKey,
      'aria-label': 'New API key', autocomplete: 'off', spellcheck: 'false',
    });
    const copied = h('span', { class: 'copied', role: 'status', 'aria-live': 'polite' });
    const copy = async () => {
      output.select();
      try {
        await navigator.clipboard.writeText(output.value);
      } catch {
        // clipboard API unavailable (not a secure context): fall back to the selection
        document.execCommand('copy');
      }
      copied.textContent = 'Copied';
    };
    const dialog = h('dialog', { id: `key-dialog${n}`, class: 'dialog key-dialog', 'aria-labelledby': `key-dialog-title${n}` },
      // named: the dialog outlives the page it was asked from, and may stand over another credential's
      h('h2', { id: `key-dialog-title${n}` }, `New API key for ${credentialName} (slot ${issued.slot})`),
      h('p', { class: 'alert alert-warning' },
        h('strong', {}, 'Copy this key now. '),
        'It cannot be shown again: Keymeter keeps only a hash of it. If you lose it, regenerate the key.'),
      h('div', { class: 'copy-row' }, output,
        h('button', { type: 'button', id: `copy-api-key${n}`, class: 'button primary', onclick: copy }, 'Copy'), copied),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Key ID'), h('dd', { class: 'mono' }, issued.keyId),
        h('dt', {}, 'Expires'), h('dd', {}, formatInstant(issued.expiresAt))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-action': 'done', onclick: () => { done = true; dialog.close(); } },
          'I have copied the key')));
    // the only sight of the key: only its button closes it. Escape is refused, and a second Escape (which browsers
    // let close a dialog whatever its cancel handler says) reopens it; leaving the page does not close it (app.js),
    // and reloading or closing the tab asks first
    let done = false;
    const leaving = (event) => {
      event.preventDefault();
      event.returnValue = 'The new API key is not shown again.'; // the browser asks in its own words
    };
    window.addEventListener('beforeunload', leaving);
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    dialog.addEventListener('close', () => {
      if (!done) {
        // once openDialog's own close handler has taken it off the page
        setTimeout(() => {
          document.body.append(dialog);
          dialog.showModal();
        });
        return;
      }
      output.value = '';
      window.removeEventListener('beforeunload', leaving);
      resolve();
    });
    openDialog(dialog);
    output.select();
  });
}

// ---- dates ------------------------------------------------------------------------------------------------------

/** yyyy-mm-dd of today + days, in UTC. */
export function utcDatePlus(days) {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/** A key expires at the end of the chosen UTC day. */
export function endOfUtcDay(date) {
  return `${date}T23:59:59Z`;
}
