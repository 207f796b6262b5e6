import { api } from '../api.js';
import {
  clearProblem, confirmDialog, endOfUtcDay, formatInstant, h, keyState, keysBySlot, lines, openDialog, relative,
  replace, showIssuedKey, showProblem, statusBadge, toast, utcDatePlus,
} from '../ui.js';
import { checkedPrivileges, ITEM_ACCESS_HELP, linesField, privilegeFieldset, privileges, REFERRERS_HELP } from './forms.js';

const INVALIDATES_EVERY_KEY = [
  'Saving this change invalidates every API key of these credentials, in both slots. '
    + 'Applications using them stop working until you generate new keys and deploy them.',
  'Do you want to continue?',
];

/** A credential's settings: its two key slots, privileges, item access, referrers, and deletion. */
export async function renderCredential(view, { id, isCurrent, navigate }) {
  document.title = 'Credentials · Keymeter';
  replace(view, h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')),
    h('p', { class: 'loading' }, 'Loading…'));
  let credential;
  let list;
  try {
    [credential, list] = await Promise.all([
      api('GET', `v1/credentials/${encodeURIComponent(id)}`), privileges()]);
  } catch (error) {
    if (isCurrent()) {
      replace(view, h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')));
      showProblem(view, error, { prepend: false });
    }
    return;
  }
  if (isCurrent()) {
    draw(view, credential, list, { isCurrent, navigate });
  }
}

function draw(view, credential, list, context) {
  document.title = `${credential.name} · Keymeter`;
  // true when it drew: the page is still this credential's
  const redraw = (updated) => {
    if (context.isCurrent()) {
      draw(view, updated, list, context);
      return true;
    }
    return false;
  };
  const slots = keysBySlot(credential);
  replace(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')),
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { id: 'credential-name' }, credential.name),
        h('p', { class: 'muted small' }, 'ID ', h('code', { id: 'credential-id' }, credential.id),
          ` · created ${formatInstant(credential.createdAt)} · updated ${formatInstant(credential.updatedAt)}`))),
    h('section', { class: 'section', id: 'keys' },
      h('h2', {}, 'API keys'),
      h('p', { class: 'help' }, 'Two slots let you rotate keys without downtime: deploy the secondary key, then '
        + 'regenerate or invalidate the primary one.'),
      h('div', { class: 'slots' },
        slotCard(credential, 1, slots[1], redraw),
        slotCard(credential, 2, slots[2], redraw))),
    privilegesSection(credential, list, redraw),
    itemAccessSection(credential, redraw),
    referrersSection(credential, redraw),
    deleteSection(credential, context.navigate));
}

// ---- key slots --------------------------------------------------------------------------------------------------

function slotCard(credential, slot, key, redraw) {
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
  if (state.status === 'active') {
    actions.append(
      h('button', { type: 'button', class: 'button', 'data-action': 'regenerate',
        onclick: () => busy(card, () => regenerate(credential, slot, card, redraw)) }, 'Regenerate'),
      h('button', { type: 'button', class: 'button danger', 'data-action': 'invalidate',
        onclick: () => busy(card, () => invalidate(credential, slot, card, redraw)) }, 'Invalidate'));
  } else {
    actions.append(h('button', { type: 'button', class: 'button primary', 'data-action': 'generate',
      onclick: () => busy(card, () => generate(credential, slot, card, redraw)) },
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
  }
}

function setBusy(card, isBusy) {
  card.querySelectorAll('.actions button').forEach((b) => { b.disabled = isBusy; });
  card.toggleAttribute('aria-busy', isBusy);
}

/**
 * Asks for the expiration of a key to be issued. For a regeneration the date is optional (the API keeps the old
 * one when it is still ahead). Resolves {expiresAt} or null when cancelled.
 */
function askExpiration({ title, optional, confirmLabel }) {
  return new Promise((resolve) => {
    let result = null;
    const date = h('input', {
      id: 'key-expiration', type: 'date', value: utcDatePlus(90), min: utcDatePlus(1), max: utcDatePlus(365),
      disabled: optional,
    });
    const change = h('input', { id: 'key-set-expiration', type: 'checkbox', onchange: () => { date.disabled = !change.checked; } });
    const form = h('form', { method: 'dialog', novalidate: true },
      h('h2', {}, title),
      optional ? h('label', { class: 'check' }, change, ' Set a new expiration date') : null,
      h('div', { class: 'field' }, h('label', { for: 'key-expiration' }, 'Expires at the end of (UTC)'), date,
        h('p', { class: 'help' }, optional
          ? 'Without a new date the key keeps its current expiration, if it is still ahead.'
          : 'Between tomorrow and one year from now.')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button', 'data-action': 'cancel', onclick: () => dialog.close() }, 'Cancel'),
        h('button', { type: 'submit', class: 'button primary', 'data-action': 'confirm' }, confirmLabel)));
    const dialog = h('dialog', { id: 'expiration-dialog', class: 'dialog' }, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      result = optional && !change.checked ? {} : { expiresAt: date.value ? endOfUtcDay(date.value) : undefined };
      dialog.close();
    });
    dialog.addEventListener('close', () => resolve(result));
    openDialog(dialog);
  });
}

async function generate(credential, slot, card, redraw) {
  const choice = await askExpiration({
    title: slot === 1 ? 'Generate API key' : 'Generate secondary API key', optional: false, confirmLabel: 'Generate' });
  if (!choice) {
    return;
  }
  await issue(card, credential, slot, `v1/credentials/${encodeURIComponent(credential.id)}/keys`, { slot, ...choice },
    redraw);
}

async function regenerate(credential, slot, card, redraw) {
  const choice = await askExpiration({ title: `Regenerate the key in slot ${slot}`, optional: true, confirmLabel: 'Regenerate' });
  if (!choice) {
    return;
  }
  await issue(card, credential, slot,
    `v1/credentials/${encodeURIComponent(credential.id)}/keys/${slot}/regenerate`, choice, redraw);
}

async function issue(card, credential, slot, path, body, redraw) {
  clearProblem(card);
  let issued;
  try {
    issued = await api('POST', path, body);
  } catch (error) {
    await showFailure(error, credential, slot, card, redraw);
    return;
  }
  await showIssuedKey(issued);
  issued = null; // drop the only reference to the plaintext key
  await reload(credential, card, redraw);
}

async function invalidate(credential, slot, card, redraw) {
  const confirmed = await confirmDialog({
    title: `Invalidate the key in slot ${slot}?`,
    message: 'Requests with this key are refused from now on. This cannot be undone; you can generate a new key afterwards.',
    confirmLabel: 'Invalidate key', danger: true,
  });
  if (!confirmed) {
    return;
  }
  clearProblem(card);
  try {
    redraw(await api('POST', `v1/credentials/${encodeURIComponent(credential.id)}/keys/${slot}/invalidate`));
    toast(`The key in slot ${slot} is invalidated.`);
  } catch (error) {
    await showFailure(error, credential, slot, card, redraw);
  }
}

/**
 * A key call that failed may still have been applied (a 503 "applied in full or not at all", a connection lost after
 * the server acted) or met a slot the page no longer shows as it is (a 409): the credential is read again so the slot
 * shows what the store holds, and the problem is shown on the redrawn slot. Before, the slot still offered
 * "Generate key" for a key the failed call had made.
 */
async function showFailure(error, credential, slot, card, redraw) {
  let target = card;
  if (error.status === 0 || error.status === 409 || error.status >= 500) {
    try {
      if (redraw(await api('GET', `v1/credentials/${encodeURIComponent(credential.id)}`))) {
        target = document.getElementById(`slot-${slot}`) || card;
      }
    } catch {
      // the read failed too: the slot stays as it was, with the first problem
    }
  }
  showProblem(target, error, { prepend: false });
}

async function reload(credential, container, redraw) {
  try {
    redraw(await api('GET', `v1/credentials/${encodeURIComponent(credential.id)}`));
  } catch (error) {
    showProblem(container, error, { prepend: false });
  }
}

// ---- settings ---------------------------------------------------------------------------------------------------

/** A section with a form whose Save calls PUT; `warn` asks for confirmation first. */
function settingsSection({ id, title, fields, save, warn, redraw }) {
  const button = h('button', { type: 'submit', class: 'button primary', 'data-action': 'save' }, 'Save');
  const form = h('form', { class: 'card form', id: `${id}-form`, novalidate: true }, fields,
    warn ? h('p', { class: 'help warning-note' }, 'Saving invalidates every key of these credentials.') : null,
    h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearProblem(form);
    if (warn && !(await confirmDialog({
      title: `Change ${title.toLowerCase()}?`, message: INVALIDATES_EVERY_KEY, confirmLabel: 'Save and invalidate keys', danger: true,
    }))) {
      return;
    }
    button.disabled = true;
    try {
      redraw(await save(form));
      toast(`${title} saved.`);
    } catch (error) {
      showProblem(form, error);
      button.disabled = false;
    }
  });
  return h('section', { class: 'section', id }, h('h2', {}, title), form);
}

function privilegesSection(credential, list, redraw) {
  return settingsSection({
    id: 'privileges', title: 'Privileges', warn: true, redraw,
    fields: privilegeFieldset(list, credential.privileges, { legend: null }),
    save: (form) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/privileges`,
      { privileges: checkedPrivileges(form) }),
  });
}

function itemAccessSection(credential, redraw) {
  return settingsSection({
    id: 'item-access', title: 'Item access', warn: true, redraw,
    fields: linesField({ name: 'itemAccess', label: 'Item IDs', help: ITEM_ACCESS_HELP, values: credential.itemAccess || [] }),
    save: (form) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/item-access`,
      { itemAccess: lines(form.elements.itemAccess.value, { commas: true }) }),
  });
}

function referrersSection(credential, redraw) {
  return settingsSection({
    id: 'referrers', title: 'Referrers', warn: false, redraw,
    fields: linesField({ name: 'referrers', label: 'Allowed referrers', help: REFERRERS_HELP, values: credential.referrers || [] }),
    save: (form) => api('PUT', `v1/credentials/${encodeURIComponent(credential.id)}/referrers`,
      { referrers: lines(form.elements.referrers.value) }),
  });
}

function deleteSection(credential, navigate) {
  const section = h('section', { class: 'section danger-zone', id: 'delete' },
    h('h2', {}, 'Delete credentials'),
    h('p', {}, 'Deleting invalidates every key at once. Usage already recorded stays in your reports.'));
  section.append(h('button', {
    type: 'button', class: 'button danger', 'data-action': 'delete',
    onclick: async () => {
      if (!(await confirmDialog({
        title: `Delete ${credential.name}?`, message: 'Every key of these credentials stops working. This cannot be undone.',
        confirmLabel: 'Delete credentials', danger: true,
      }))) {
        return;
      }
      clearProblem(section);
      try {
        await api('DELETE', `v1/credentials/${encodeURIComponent(credential.id)}`);
        toast(`${credential.name} deleted.`);
        navigate('#/credentials');
      } catch (error) {
        showProblem(section, error, { prepend: false });
      }
    },
  }, 'Delete credentials'));
  return section;
}
