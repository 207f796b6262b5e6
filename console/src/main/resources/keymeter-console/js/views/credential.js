import { api } from '../api.js';
import { session } from '../session.js';
import {
  clearProblem, confirmDialog, endOfUtcDay, focusIfLost, formatInstant, h, keyState, keysBySlot, linesOf, openDialog,
  relative, replace, showIssuedKey, showLoadProblem, showProblem, statusBadge, toast, utcDatePlus,
} from '../ui.js';
import { checkedPrivileges, ITEM_ACCESS_HELP, linesField, privilegeFieldset, privileges, REFERRERS_HELP } from './forms.js';

const INVALIDATES_EVERY_KEY = [
  'Saving this change invalidates every API key of these credentials, in both slots. '
    + 'Applications using them stop working until you generate new keys and deploy them.',
  'Do you want to continue?',
];

/** A credential's settings: its two key slots, privileges, item access, referrers, and deletion. */
export async function renderCredential(view, { id, isCurrent, navigate, reload }) {
  document.title = 'Credentials · Keymeter';
  replace(view, h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')),
    h('p', { class: 'loading' }, 'Loading…'));
  let credential;
  let list;
  try {
    [credential, list] = await Promise.all([
      readCredential(id), privileges()]);
  } catch (error) {
    if (isCurrent()) {
      if (error.status === 404) {
        document.title = 'Not found · Keymeter'; // it named the list
      }
      replace(view, h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')));
      showLoadProblem(view, error, reload, { prepend: false });
    }
    return;
  }
  if (isCurrent()) {
    draw(view, newer(credential, newest.get(credential.id)), list, { isCurrent, navigate });
  }
}

/** The credential page drawn last: {view, credential, list, context}. */
let shown = null;
/**
 * The newest state of each credential an answer gave, drawn or not: an action's answer arriving while a new visit of
 * its page was loading was dropped, and that visit drew its own read, which could predate the action.
 */
const newest = new Map();

function newer(a, b) {
  return b && Date.parse(b.updatedAt) > Date.parse(a.updatedAt) ? b : a;
}

/**
 * Draws a credential as an answer gave it on the page that shows that credential now, whichever visit's action read
 * it; true when the page is that credential's. A key issued while the user went to the list and back was drawn on the
 * earlier visit's page only: the new page kept the old key as active, and its Invalidate hit the new key. An answer
 * older than the one shown is not drawn: answers arriving out of order put an earlier state back, and saving that
 * form again undid the later change.
 */
function redraw(updated) {
  newest.set(updated.id, newer(updated, newest.get(updated.id)));
  if (!shown || !shown.context.isCurrent() || shown.credential.id !== updated.id) {
    return false;
  }
  if (Date.parse(updated.updatedAt) >= Date.parse(shown.credential.updatedAt)) {
    draw(shown.view, updated, shown.list, shown.context);
  }
  return true;
}

/** The settings forms: what each holds, as text, and how to put a value back. */
const SETTINGS = [
  { form: 'privileges-form',
    read: (form) => JSON.stringify(checkedPrivileges(form)),
    write: (form, value) => {
      const chosen = new Set(JSON.parse(value));
      form.querySelectorAll('input[name="privileges"]').forEach((box) => { box.checked = chosen.has(box.value); });
    } },
  { form: 'item-access-form', read: (form) => form.elements.itemAccess.value,
    write: (form, value) => { form.elements.itemAccess.value = value; } },
  { form: 'referrers-form', read: (form) => form.elements.referrers.value,
    write: (form, value) => { form.elements.referrers.value = value; } },
];

/** What the user changed in each settings form and has not saved: {setting, drawn, typed}. */
function unsavedEdits() {
  return SETTINGS.map((setting) => ({ setting, form: document.getElementById(setting.form) }))
    .filter(({ form }) => form && form.dataset.drawn !== undefined)
    .map(({ setting, form }) => ({ setting, drawn: form.dataset.drawn, typed: setting.read(form) }))
    .filter((edit) => edit.typed !== edit.drawn);
}

function draw(view, credential, list, context) {
  document.title = `${credential.name} · Keymeter`;
  // unsaved edits in the settings forms survive a redraw (a key action, another form saved) wherever the stored
  // value they were made over is unchanged: every redraw threw them away
  const sameCredential = shown && shown.view === view && shown.credential.id === credential.id;
  // not the form whose save this redraw shows: the server's value stands (it may be the typed one, normalised)
  const edits = sameCredential ? unsavedEdits().filter((edit) => edit.setting.form !== justSaved) : [];
  justSaved = null;
  const focused = sameCredential && view.contains(document.activeElement) ? document.activeElement : null;
  const caret = focused && typeof focused.selectionStart === 'number'
    ? [focused.selectionStart, focused.selectionEnd] : null;
  shown = { view, credential, list, context };
  const slots = keysBySlot(credential);
  replace(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')),
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { id: 'credential-name' }, credential.name),
        h('p', { class: 'muted small' }, 'ID ', h('code', { id: 'credential-id' }, credential.id),
          ` · created ${formatInstant(credential.createdAt)} · updated ${formatInstant(credential.updatedAt)}`)),
      // its usage, bill share, refused requests and security alerts are on the usage page, narrowed to it
      h('a', { class: 'button', id: 'credential-usage-link', href: `#/usage?credential=${encodeURIComponent(credential.id)}` },
        'Usage and rejected requests')),
    h('section', { class: 'section', id: 'keys' },
      h('h2', {}, 'API keys'),
      h('p', { class: 'help' }, 'Two slots let you rotate keys without downtime: deploy the secondary key, then '
        + 'regenerate or invalidate the primary one.'),
      h('div', { class: 'slots' },
        slotCard(credential, 1, slots[1]),
        slotCard(credential, 2, slots[2]))),
    privilegesSection(credential, list),
    itemAccessSection(credential),
    referrersSection(credential),
    deleteSection(credential, context));
  for (const setting of SETTINGS) {
    const form = document.getElementById(setting.form);
    form.dataset.drawn = setting.read(form);
  }
  for (const edit of edits) {
    const form = document.getElementById(edit.setting.form);
    if (form.dataset.drawn === edit.drawn) {
      edit.setting.write(form, edit.typed);
    }
  }
  for (const form of SETTINGS.map((setting) => document.getElementById(setting.form))) {
    if (saving.has(`${credential.id}/${form.id}`)) {
      form.querySelector('[data-action="save"]').disabled = true; // its save still runs: a second click sent it twice
    }
  }
  // the field the user was in keeps the focus and the caret (they fell to the page's body)
  const again = drawnAgain(focused);
  if (again && again !== focused) {
    again.focus();
    if (caret && typeof again.setSelectionRange === 'function') {
      again.setSelectionRange(caret[0], caret[1]);
    }
  }
}

/** The element drawn in place of `element`: by its id, or by its form, name and value (a privilege's box has no id). */
function drawnAgain(element) {
  if (!element) {
    return null;
  }
  if (element.id) {
    return document.getElementById(element.id);
  }
  const form = element.form && element.form.id ? document.getElementById(element.form.id) : null;
  return form && element.name
    ? [...form.elements].find((e) => e.name === element.name && e.value === element.value) || null : null;
}

/** The settings form whose successful save the next draw shows. */
let justSaved = null;
/** Settings forms whose save runs, as credentialId/formId: a form drawn meanwhile is drawn with Save disabled. */
const saving = new Set();
/** Credentials whose deletion runs: their Delete is drawn disabled. */
const deleting = new Set();

// ---- key slots --------------------------------------------------------------------------------------------------

function slotCard(credential, slot, key) {
  const state = keyState(key);
  const title = slot === 1 ? 'Primary key (slot 1)' : 'Secondary key (slot 2)';
  const card = h('article', {
    class: `card slot${state.expiring ? ' is-expiring' : ''}`, id: `slot-${slot}`,
    dataset: { status: state.status, keyId: key ? key.keyId : '', credentialId: credential.id },
  }, h('div', { class: 'slot-head' }, h('h3', {}, title), statusBadge(state)));

  if (key) {
    card.append(h('dl', { class: 'facts' },
      h('dt', {}, 'Key ID'), h('dd', { class: 'mono key-id' }, key.keyId),
      h('dt', {}, 'Created'), h('dd', {}, formatInstant(key.createdAt)),
      h('dt', {}, 'Expires'), h('dd', { class: state.expiring ? 'expiring' : '' },
        formatInstant(key.expiresAt), key.expiresAt ? ` (${relative(key.expiresAt)})` : ''),
      key.invalidatedAt ? [h('dt', {}, 'Invalidated'), h('dd', {}, formatInstant(key.invalidatedAt),
        key.invalidationReason ? ` (${key.invalidationReason})` : '')] : null));
  } else {
    card.append(h('p', { class: 'muted' }, 'No key in this slot.'));
  }

  const actions = h('div', { class: 'actions' });
  // by the server's status: the badge may say expired by this browser's clock while the store still holds the key
  // active (a clock ahead), and offering only "Generate key" then left a live key that could not be invalidated
  if (key && key.status === 'active') {
    actions.append(
      h('button', { type: 'button', class: 'button', 'data-action': 'regenerate',
        onclick: () => busy(card, () => regenerate(credential, slot, card, key)) }, 'Regenerate'),
      h('button', { type: 'button', class: 'button danger', 'data-action': 'invalidate',
        onclick: () => busy(card, () => invalidate(credential, slot, card)) }, 'Invalidate'));
  } else {
    actions.append(h('button', { type: 'button', class: 'button primary', 'data-action': 'generate',
      onclick: () => busy(card, () => generate(credential, slot, card)) },
    slot === 1 ? 'Generate key' : 'Generate secondary key'));
  }
  card.append(actions);
  if (inFlight.has(slotKey(credential.id, slot))) {
    setBusy(card, true); // redrawn while its action runs (the other slot's action ended, a setting was saved)
  }
  return card;
}

/** Slots whose action runs, as credentialId/slot: a card drawn meanwhile is drawn busy. */
const inFlight = new Set();

function slotKey(credentialId, slot) {
  return `${credentialId}/${slot}`;
}

/**
 * Runs a slot's action with the slot's buttons disabled until it ends, on whichever card shows the slot by then: a
 * key change takes seconds to confirm, and a second Regenerate clicked meanwhile issued two keys, the first dead
 * before the user had copied it.
 */
async function busy(card, action) {
  const { credentialId } = card.dataset;
  const slot = card.id.replace('slot-', '');
  const key = slotKey(credentialId, slot);
  if (inFlight.has(key)) {
    return;
  }
  inFlight.add(key);
  setBusy(card, true);
  try {
    await action();
  } finally {
    inFlight.delete(key);
    const shown = document.getElementById(card.id);
    [card, shown].filter((c) => c && c.dataset.credentialId === credentialId).forEach((c) => setBusy(c, false));
    returnFocus(shown && shown.dataset.credentialId === credentialId ? shown : null);
  }
}

/** Back to the slot after its dialog or action: its problem, else its first button. */
function returnFocus(card) {
  if (card) {
    focusIfLost(card.querySelector('.problem') || card.querySelector('.actions button:not([disabled])'));
  }
}

function setBusy(card, isBusy) {
  card.querySelectorAll('.actions button').forEach((b) => { b.disabled = isBusy; });
  card.toggleAttribute('aria-busy', isBusy);
}

/**
 * Asks for the expiration of a key to be issued. For a regeneration the date is optional (the API keeps the old
 * one, {@code current}, when it is still ahead): the field shows that date until a new one is asked for, and a key
 * expiring soon ({@code expiring}: within a week, as its slot highlights it) is given a new one by default. The
 * field showed 90 days ahead, unused, and a key rotated the day before it expired came back expiring the next day.
 * Resolves {expiresAt} or null when cancelled.
 */
function askExpiration({ title, optional, confirmLabel, warning, current, expiring = false }) {
  return new Promise((resolve) => {
    let result = null;
    const kept = optional && current ? current.slice(0, 10) : null;
    const soon = kept !== null && expiring;
    const date = h('input', {
      id: 'key-expiration', type: 'date', value: kept && !soon ? kept : utcDatePlus(90), min: utcDatePlus(1),
      max: utcDatePlus(365), disabled: optional && !soon,
    });
    const change = h('input', {
      id: 'key-set-expiration', type: 'checkbox', checked: soon,
      onchange: () => {
        date.disabled = !change.checked;
        date.value = change.checked || !kept ? utcDatePlus(90) : kept;
      },
    });
    const form = h('form', { method: 'dialog', novalidate: true, 'aria-labelledby': 'expiration-title' },
      h('h2', { id: 'expiration-title' }, title),
      warning ? h('p', { class: 'alert alert-warning' }, warning) : null,
      optional ? h('label', { class: 'check' }, change, ' Set a new expiration date') : null,
      h('div', { class: 'field', 'data-field': 'expiresAt' },
        h('label', { for: 'key-expiration' }, 'Expires at the end of (UTC)'), date,
        h('p', { class: 'help', id: 'key-expiration-help' }, optional
          ? `Without a new date the new key keeps the current expiration${kept ? `, ${kept}` : ''}, if it is still ahead.`
            + (soon ? ' That is within a week, so a new date is set.' : '')
          : 'Between tomorrow and one year from now.')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-action': 'cancel', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'button primary', 'data-action': 'confirm' }, confirmLabel)));
    const dialog = h('dialog', { id: 'expiration-dialog', class: 'dialog', 'aria-labelledby': 'expiration-title' }, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (optional && !change.checked) {
        result = {};
      } else if (date.value && (date.validity.rangeUnderflow || date.validity.rangeOverflow)) {
        // typed past the picker's bounds (Chromium takes it): the dialog closed and the server's 400 lost the date
        showProblem(form, { title: 'Choose another date', errors: [{ field: 'expiresAt',
          message: `pick a day from ${date.min} to ${date.max}` }] });
        return;
      } else if (date.value) {
        result = { expiresAt: endOfUtcDay(date.value) };
      } else {
        // sent without a date, a regeneration kept the old one and a generation was refused by the server
        showProblem(form, { title: 'Choose a date', errors: [{ field: 'expiresAt', message: 'pick the last day' }] });
        return;
      }
      dialog.close();
    });
    dialog.addEventListener('close', () => resolve(result));
    openDialog(dialog);
  });
}

async function generate(credential, slot, card) {
  const choice = await askExpiration({
    title: slot === 1 ? 'Generate API key' : 'Generate secondary API key', optional: false, confirmLabel: 'Generate' });
  if (!choice) {
    return;
  }
  await issue(card, credential, slot, `v1/credentials/${encodeURIComponent(credential.id)}/keys`, { slot, ...choice });
}

async function regenerate(credential, slot, card, key) {
  const choice = await askExpiration({
    title: `Regenerate the key in slot ${slot}`, optional: true, confirmLabel: 'Regenerate', current: key.expiresAt,
    expiring: keyState(key).expiring,
    warning: `The key now in slot ${slot} (${card.dataset.keyId}) stops working at once: applications using it are `
      + 'refused until you deploy the new key.',
  });
  // the slot's pending read, if any, is taken over only once the slot is found as shown (in issue): when an earlier
  // regeneration landed meanwhile, that read still says its secret is lost
  const read = choice && await stillShown(credential, slot, card);
  if (!read) {
    return;
  }
  await issue(card, credential, slot,
    `v1/credentials/${encodeURIComponent(credential.id)}/keys/${slot}/regenerate`, choice, read.etag);
}

async function issue(card, credential, slot, path, body, ifMatch = null) {
  clearProblem(card);
  settling.delete(`${credential.id}/${slot}`); // this action's outcome is the slot's news now
  let issued;
  const signedInAs = session.token();
  try {
    issued = await api('POST', path, body, { ifMatch });
  } catch (error) {
    await showFailure(error, credential, slot, card, { issuing: true });
    return;
  }
  if (session.token() !== signedInAs) {
    // signed out while the key was made (the answer can take 25 s): its secret is not shown to whoever uses the
    // tab now, another account's user or the sign-in page's (the dialog opened over either)
    issued = null;
    return;
  }
  await showIssuedKey(issued, credential.name);
  issued = null; // drop the only reference to the plaintext key
  await reload(credential, card);
}

/**
 * The credential as read now when the slot still holds the active key its card shows, else null. Regenerate and
 * Invalidate name a slot, not a key: on a page drawn before another tab, a colleague or the API put a new key there,
 * they killed a key the user had never seen. Otherwise the page is drawn as the store holds it, nothing is sent, and
 * the slot says why. The change is then sent with this read's ETag as If-Match: a key put in the slot between the
 * read and the change makes it a 412, nothing applied (`showFailure`).
 */
async function stillShown(credential, slot, card) {
  let now;
  try {
    now = await readCredential(credential.id);
  } catch (error) {
    showProblem(card, error, { prepend: false });
    return null;
  }
  const key = keysBySlot(now)[slot];
  if (key && key.status === 'active' && key.keyId === card.dataset.keyId) {
    return now;
  }
  const target = redraw(now) ? document.getElementById(`slot-${slot}`) || card : card;
  const sameKey = key && key.keyId === card.dataset.keyId;
  showProblem(target, sameKey ? {
    title: `This key is ${key.status} now.`,
    detail: `The key ${key.keyId} is no longer active; nothing was done.`,
  } : {
    title: 'This slot changed.',
    detail: `It no longer holds the active key ${card.dataset.keyId} that this page showed; nothing was done. `
      + 'Check the slot as it is now.',
  }, { prepend: false });
  return null;
}

async function invalidate(credential, slot, card) {
  const confirmed = await confirmDialog({
    title: `Invalidate the key in slot ${slot}?`,
    message: 'Requests with this key are refused from now on. This cannot be undone; you can generate a new key afterwards.',
    confirmLabel: 'Invalidate key', danger: true,
  });
  if (!confirmed) {
    return;
  }
  clearProblem(card);
  settling.delete(`${credential.id}/${slot}`); // this action's outcome is the slot's news now
  const read = await stillShown(credential, slot, card);
  if (!read) {
    return;
  }
  try {
    redraw(await api('POST', `v1/credentials/${encodeURIComponent(credential.id)}/keys/${slot}/invalidate`, undefined,
      { ifMatch: read.etag }));
    toast(`The key in slot ${slot} is invalidated.`);
  } catch (error) {
    await showFailure(error, credential, slot, card);
  }
}

/**
 * A key call that failed may still have been applied (a 503 "applied in full or not at all", a connection lost after
 * the server acted) or met a slot the page no longer shows as it is (a 409): the credential is read again so the slot
 * shows what the store holds, and the problem is shown on the redrawn slot. Before, the slot still offered
 * "Generate key" for a key the failed call had made.
 */
async function showFailure(error, credential, slot, card, { issuing = false } = {}) {
  let target = card;
  const before = card.dataset.keyId;
  let read = null;
  const changed = error.status === 412; // the credential changed between the slot's read and the change
  if (error.status === 0 || error.status === 409 || changed || error.status >= 500) {
    try {
      read = await readCredential(credential.id);
      if (redraw(read)) {
        target = document.getElementById(`slot-${slot}`) || card;
      }
      const key = keysBySlot(read)[slot];
      if (changed) {
        showProblem(target, {
          title: 'This credential changed meanwhile.',
          detail: `It changed while this page sent the change to the key ${before}; nothing was done. `
            + 'Check the slot as it is now.',
        }, { prepend: false });
        return;
      }
      if (issuing && error.status !== 409 && landed(read, slot, before, true)) {
        showProblem(target, lostSecret(key), { prepend: false });
        return;
      }
    } catch {
      // the read failed too: the slot stays as it was, with the first problem
    }
  }
  showProblem(target, error, { prepend: false });
  if (read && !landed(read, slot, before, issuing)) {
    settleLater(error, credential, slot, before, issuing);
  }
}

/** Longest Retry-After a slot waits out to read its credential again after a change it could not confirm. */
const SETTLE_MAX_S = 60;
const NOT_APPLIED = {
  title: 'The change was not applied.',
  detail: 'The credential store did not confirm it in time and can no longer apply it. Send it again.',
};

/** Whether the slot shows the key action done: a new active key (generate, regenerate), or `before` no longer active. */
function landed(credential, slot, before, issuing) {
  const key = keysBySlot(credential)[slot];
  if (issuing) {
    return Boolean(key && key.status === 'active' && key.keyId !== before);
  }
  return !key || key.keyId !== before || key.status !== 'active';
}

/** The slots waiting to read their credential again after an unconfirmed action: `credentialId/slot` → token. */
const settling = new Map();

/**
 * A key action answered 503 "applied in full or not at all" can still land until its Retry-After, when the store can
 * no longer apply it; the page read the credential at once, before that, and kept showing the slot as it was before
 * an invalidation that landed a second later. Once the Retry-After has passed the credential is read again, unless a
 * later action on that slot took over (`settling`): the page is drawn as it is when that differs from what it shows
 * (off the page, kept for the next visit), and the slot says its secret is lost (a generation) or, when it still
 * holds the key the action found, that the change was not applied. Drawing replaces the page, as any answer's
 * redraw does: a problem shown elsewhere on it since goes with it.
 */
function settleLater(error, credential, slot, before, issuing) {
  const unconfirmed = error.status === 503 && (error.detail || '').includes('applied in full or not at all');
  if (!unconfirmed || !(error.retryAfter > 0) || error.retryAfter > SETTLE_MAX_S) {
    return;
  }
  const key = `${credential.id}/${slot}`;
  const token = {};
  settling.set(key, token);
  const release = () => {
    if (settling.get(key) === token) {
      settling.delete(key);
    }
  };
  const ours = () => settling.get(key) === token;
  setTimeout(async () => {
    if (!ours()) {
      return;
    }
    let now;
    try {
      now = await readCredential(credential.id);
    } catch {
      release();
      return; // the slot keeps what it shows
    }
    if (!ours()) {
      return; // a later action on the slot took over while it read
    }
    release();
    // drawn only when it shows something the page does not: an equal state redrawn wiped messages shown since (a
    // lost secret in the other slot); off the page it is kept for the next visit, whose own read may be older
    const drawn = onPageOf(credential) ? keysBySlot(shown.credential)[slot] : null;
    const fresh = keysBySlot(now)[slot];
    if (!onPageOf(credential) || Date.parse(now.updatedAt) > Date.parse(shown.credential.updatedAt)
        || (drawn && drawn.keyId) !== (fresh && fresh.keyId) || (drawn && drawn.status) !== (fresh && fresh.status)) {
      redraw(now);
    }
    const card = onPageOf(credential) ? document.getElementById(`slot-${slot}`) : null;
    if (!card) {
      return;
    }
    if (!landed(now, slot, before, issuing)) {
      // the slot as the action found it (not a key made meanwhile elsewhere, nor one a newer answer drew dead)
      if (card.dataset.keyId === before && (issuing || card.dataset.status === 'active')) {
        showProblem(card, NOT_APPLIED, { prepend: false });
      }
    } else if (issuing && card.dataset.keyId === fresh.keyId) {
      showProblem(card, lostSecret(fresh), { prepend: false });
    }
  }, error.retryAfter * 1000 + 250);
}

/** The credential as the store holds it now (with its version as `etag`). */
function readCredential(id) {
  return api('GET', `v1/credentials/${encodeURIComponent(id)}`);
}

/** True while the page shown is this credential's, whichever visit drew it. */
function onPageOf(credential) {
  return Boolean(shown && shown.credential.id === credential.id && shown.context.isCurrent());
}

/**
 * A generation whose answer was lost after the server made the key: its secret is gone for good. "Network error …
 * try again" beside the new key left the user to try a Generate the slot no longer offered, or to wait for a secret
 * no page will show.
 */
function lostSecret(key) {
  return {
    title: 'The answer was lost, but a new key is in this slot.',
    detail: `Its secret cannot be shown again. If ${key.keyId} is the key you asked for, regenerate it to get a key`
      + ' you can copy.',
  };
}

async function reload(credential, container) {
  try {
    redraw(await readCredential(credential.id));
  } catch (error) {
    showProblem(container, error, { prepend: false });
  }
}

// ---- settings ---------------------------------------------------------------------------------------------------

/**
 * Saves a setting unless someone changed it since the page drew it: the credential is read again, and the change is
 * sent with that read's ETag as If-Match. Sent unconditionally, a save put back the list the page showed over a
 * colleague's change (a referrer taken out of a leaked key's credential came back). A 412 from any other change
 * between the read and the save (a key action, an expiry) reads again: only the setting itself stops the save.
 * Resolves to `{ changed: credential as read }` when the setting changed, else to `{ saved: credential }`.
 */
async function saveOver(credential, field, send) {
  for (let attempt = 1; ; attempt++) {
    const read = await readCredential(credential.id);
    if (JSON.stringify(read[field] || []) !== JSON.stringify(credential[field] || [])) {
      return { changed: read };
    }
    try {
      return { saved: await send(read.etag) };
    } catch (error) {
      if (error.status !== 412 || attempt === 3) {
        throw error;
      }
    }
  }
}

function changedSetting(title) {
  return {
    title: `${title}: changed meanwhile, nothing was saved.`,
    detail: 'This setting was changed elsewhere after the page showed it. The form now shows what is stored: make'
      + ' your change again.',
  };
}

/** A section with a form whose Save calls PUT; `warn` asks for confirmation first; `field` is the setting saved. */
function settingsSection({ credential, id, title, field, fields, save, warn }) {
  const button = h('button', { type: 'submit', class: 'button primary', 'data-action': 'save' }, 'Save');
  const form = h('form', { class: 'card form', id: `${id}-form`, novalidate: true }, fields,
    warn ? h('p', { class: 'help warning-note' }, 'Saving invalidates every key of these credentials.') : null,
    h('div', { class: 'actions' }, button));
  const key = `${credential.id}/${form.id}`;
  // this credential's form as the page shows it now (a redraw meanwhile replaced it), or null when the page shows
  // another credential, or none: every credential's form has the same id, and a save's outcome was drawn on the
  // credential the user had gone to, re-enabling its Save while its own save ran
  const current = () => {
    const drawn = document.getElementById(form.id);
    return drawn && shown && shown.credential.id === credential.id && shown.context.isCurrent() ? drawn : null;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving.has(key)) {
      return; // its save runs (Enter in a field, or a Save drawn while a confirmation was open)
    }
    clearProblem(form);
    if (warn && !(await confirmDialog({
      title: `Change ${title.toLowerCase()}?`, message: INVALIDATES_EVERY_KEY, confirmLabel: 'Save and invalidate keys', danger: true,
    }))) {
      return;
    }
    if (saving.has(key)) {
      return; // saved from a form drawn while this one's confirmation was open
    }
    saving.add(key);
    button.disabled = true;
    const drawn = current();
    if (drawn) {
      drawn.querySelector('[data-action="save"]').disabled = true; // drawn while the confirmation was open
    }
    try {
      const outcome = await saveOver(credential, field, (etag) => save(form, etag));
      if (outcome.changed) {
        saving.delete(key);
        redraw(outcome.changed); // the form shows the stored value; what was typed over the former one is dropped
        const target = current();
        if (!target) {
          toast(`${title} of ${credential.name} changed meanwhile; nothing was saved.`);
          return;
        }
        const box = showProblem(target, changedSetting(title));
        target.querySelector('[data-action="save"]').disabled = false;
        focusIfLost(box);
        return;
      }
      const { saved } = outcome;
      saving.delete(key);
      justSaved = form.id;
      redraw(saved);
      justSaved = null;
      const now = current();
      if (now) {
        now.querySelector('[data-action="save"]').disabled = false; // an answer older than the page is not drawn
      }
      toast(now ? `${title} saved.` : `${title} of ${credential.name} saved.`);
      focusIfLost(now?.querySelector('[data-action="save"]'));
    } catch (error) {
      saving.delete(key);
      const target = await changedMeanwhile(error, credential, id) || current();
      if (!target) {
        toast(`${title} of ${credential.name}: ${error.message}`); // said where the user is, not on another page
        return;
      }
      const box = showProblem(target, error);
      target.querySelector('[data-action="save"]').disabled = false;
      focusIfLost(target.querySelector('[aria-invalid="true"]') || box);
    }
  });
  return h('section', { class: 'section', id }, h('h2', {}, title), form);
}

/**
 * A failed save that may still have been applied (no answer, a 5xx: "applied in full or not at all"): the credential
 * is read again and, when it changed meanwhile, drawn as it is (a privileges change applied had invalidated every key
 * while both slots still showed them active), giving the redrawn form to show the problem in. Otherwise null: the form
 * keeps what the user typed.
 */
async function changedMeanwhile(error, credential, id) {
  if (error.status !== 0 && error.status < 500) {
    return null;
  }
  try {
    const now = await readCredential(credential.id);
    if (Date.parse(now.updatedAt) > Date.parse(credential.updatedAt) && redraw(now)) {
      return document.getElementById(`${id}-form`);
    }
  } catch {
    // the read failed too: the form stays as it was, with the first problem
  }
  return null;
}

function privilegesSection(credential, list) {
  return settingsSection({
    credential, id: 'privileges', field: 'privileges', title: 'Privileges', warn: true,
    fields: privilegeFieldset(list, credential.privileges, { legend: null }),
    save: (form, etag) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/privileges`,
      { privileges: checkedPrivileges(form) }, { ifMatch: etag }),
  });
}

function itemAccessSection(credential) {
  return settingsSection({
    credential, id: 'item-access', field: 'itemAccess', title: 'Item access', warn: true,
    fields: linesField({ name: 'itemAccess', label: 'Item IDs', help: ITEM_ACCESS_HELP, values: credential.itemAccess || [],
      commas: true }),
    save: (form, etag) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/item-access`,
      { itemAccess: linesOf(form.elements.itemAccess) }, { ifMatch: etag }),
  });
}

function referrersSection(credential) {
  return settingsSection({
    credential, id: 'referrers', field: 'referrers', title: 'Referrers', warn: false,
    fields: linesField({ name: 'referrers', label: 'Allowed referrers', help: REFERRERS_HELP, values: credential.referrers || [] }),
    save: (form, etag) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/referrers`,
      { referrers: linesOf(form.elements.referrers) }, { ifMatch: etag }),
  });
}

function deleteSection(credential, { navigate }) {
  const section = h('section', { class: 'section danger-zone', id: 'delete' },
    h('h2', {}, 'Delete credentials'),
    h('p', {}, 'Deleting invalidates every key at once. Usage already recorded stays in your reports.'));
  const button = h('button', {
    type: 'button', class: 'button danger', 'data-action': 'delete',
    onclick: async () => {
      if (deleting.has(credential.id) || !(await confirmDialog({
        title: `Delete ${credential.name}?`, message: 'Every key of these credentials stops working. This cannot be undone.',
        confirmLabel: 'Delete credentials', danger: true,
      })) || deleting.has(credential.id)) {
        return;
      }
      // disabled while it runs, on a redrawn page too: a second Delete was sent and answered 404
      deleting.add(credential.id);
      setDeleteDisabled(true);
      clearProblem(section);
      let deleted = false;
      // the page shown now is this credential's, whichever visit drew it (not the page the user went to meanwhile)
      const onItsPage = () => shown && shown.credential.id === credential.id && shown.context.isCurrent();
      try {
        await api('DELETE', `v1/credentials/${encodeURIComponent(credential.id)}`);
        deleted = true;
        toast(`${credential.name} deleted.`);
        if (onItsPage()) {
          navigate('#/credentials');
        }
      } catch (error) {
        const shownSection = document.getElementById('delete');
        if (shownSection && onItsPage()) {
          showProblem(shownSection, error, { prepend: false });
        } else {
          toast(`Deleting ${credential.name}: ${error.message}`);
        }
      } finally {
        deleting.delete(credential.id);
        if (!deleted) {
          setDeleteDisabled(false);
        }
      }
    },
  }, 'Delete credentials');
  /** This credential's Delete, on the page drawn at the start and on any drawn since. */
  function setDeleteDisabled(disabled) {
    const drawn = document.querySelector('#delete [data-action="delete"]');
    [button, shown && shown.credential.id === credential.id ? drawn : null]
      .forEach((b) => { if (b) { b.disabled = disabled; } });
  }
  button.disabled = deleting.has(credential.id);
  section.append(button);
  return section;
}
