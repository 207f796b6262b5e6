import { api } from '../api.js';
import { privileges } from './forms.js';
import {
  byName, formatDay, formatInstant, h, keyState, keysBySlot, relative, replace, showLoadProblem, statusBadge,
} from '../ui.js';

/** The account's credentials, each with its two key slots; keys expiring within 7 days are highlighted. */
export async function renderCredentials(view, { isCurrent, params, reload }) {
  document.title = 'Credentials · Keymeter';
  const body = h('div', { class: 'section-body' }, h('p', { class: 'loading' }, 'Loading credentials…'));
  replace(view,
    h('div', { class: 'page-head' },
      h('h1', {}, 'API key credentials'),
      h('a', { class: 'button primary', href: '#/credentials/new', id: 'new-credential' }, 'New credentials')),
    h('p', { class: 'lead' },
      'Each credential grants service privileges to up to two API keys. Keys are shown once, when they are generated.'),
    body);

  let answer;
  let catalog;
  try {
    // the catalog names each privilege's service; without it a chip shows the privilege itself
    [answer, catalog] = await Promise.all([api('GET', 'v1/credentials'), privileges().catch(() => [])]);
  } catch (error) {
    if (isCurrent()) {
      replace(body);
      showLoadProblem(body, error, reload);
    }
    return;
  }
  if (!isCurrent()) {
    return;
  }
  const credentials = [...(answer.credentials || [])]
    .sort(byName);
  if (!credentials.length) {
    replace(body, h('div', { class: 'empty card' },
      h('p', {}, 'No credentials yet.'),
      h('a', { class: 'button primary', href: '#/credentials/new' }, 'Create your first credentials')));
    return;
  }
  const now = Date.now();
  const services = serviceOf(catalog);
  const rows = credentials.map((c) => credentialRow(c, now, services));
  const filter = h('input', { type: 'search', id: 'credential-filter', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'credential-count', value: params.get('q') || '' });
  const count = h('p', { class: 'small muted', id: 'credential-count', 'aria-live': 'polite' });
  const none = h('p', { class: 'muted', id: 'no-match', hidden: true });
  replace(body,
    h('div', { class: 'field inline filter' }, h('label', { for: 'credential-filter' }, 'Find'), filter),
    count, none,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table responsive', id: 'credentials-table' },
        h('thead', {}, h('tr', {},
          h('th', {}, 'Name'), h('th', {}, 'Services'), h('th', {}, 'Primary key'), h('th', {}, 'Secondary key'),
          h('th', {}, 'Updated'))),
        h('tbody', {}, rows))));
  const apply = () => showMatching(filter.value, credentials, rows, count, none);
  filter.addEventListener('input', () => {
    apply();
    // kept in the address (without a history entry per keystroke): a reload, or Back from a credential, finds it again
    history.replaceState(null, '', `#/credentials${filter.value ? `?q=${encodeURIComponent(filter.value)}` : ''}`);
  });
  apply();
}

/**
 * Shows the credentials whose name or id holds {@code text}, ignoring case and accents: with hundreds of
 * credentials the list was one page tens of thousands of pixels tall, searchable only with the browser's own find.
 */
function showMatching(text, credentials, rows, count, none) {
  const wanted = fold(text.trim());
  let shown = 0;
  credentials.forEach((c, i) => {
    const match = !wanted || fold(c.name).includes(wanted) || c.id.toLowerCase().includes(wanted);
    rows[i].hidden = !match;
    shown += match ? 1 : 0;
  });
  count.textContent = wanted ? `${shown} of ${credentials.length} credentials` : `${credentials.length} credentials`;
  none.hidden = shown > 0;
  none.textContent = shown ? '' : `No credentials match “${text.trim()}”.`;
}

/** Lower case without accents, so "cafe" finds "Café". */
function fold(text) {
  return String(text).normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

/** The service a privilege grants, from the catalog: {@code premium:user:geocode:stored} is geocoding-stored. */
function serviceOf(catalog) {
  const services = new Map(catalog.map((p) => [p.privilege, p.service]));
  return (privilege) => services.get(privilege) || privilege;
}

function credentialRow(credential, now, serviceOf) {
  const slots = keysBySlot(credential);
  return h('tr', { dataset: { credentialId: credential.id } },
    h('td', { 'data-label': 'Name' },
      h('a', { href: `#/credentials/${encodeURIComponent(credential.id)}`, class: 'credential-link' }, credential.name),
      h('div', { class: 'muted mono small' }, credential.id)),
    h('td', { 'data-label': 'Services' }, h('div', { class: 'chips' },
      (credential.privileges || []).map((p) => h('span', { class: 'chip', title: p }, serviceOf(p))))),
    keyCell(slots[1], now, 'Primary key', 1),
    keyCell(slots[2], now, 'Secondary key', 2),
    h('td', { 'data-label': 'Updated' }, formatDay(credential.updatedAt || credential.createdAt)));
}

function keyCell(key, now, label, slot) {
  const state = keyState(key, now);
  const cell = h('td', { 'data-label': label, class: 'key-cell', dataset: { slot: String(slot), status: state.status } },
    statusBadge(state));
  if (!key) {
    return cell;
  }
  cell.append(h('div', { class: 'mono small' }, key.keyId));
  if (state.status === 'active') {
    cell.append(h('div', { class: state.expiring ? 'expiring' : 'small muted', title: formatInstant(key.expiresAt) },
      state.expiring ? `Expires ${relative(key.expiresAt, now)}` : `Expires ${formatDay(key.expiresAt)}`));
    if (state.expiring) {
      cell.classList.add('is-expiring');
    }
  } else if (state.status === 'expired') {
    cell.append(h('div', { class: 'small muted' }, `Expired ${formatDay(key.expiresAt)}`));
  } else if (state.status === 'invalidated') {
    cell.append(h('div', { class: 'small muted' }, key.invalidationReason || 'invalidated'));
  }
  return cell;
}
