// Form pieces shared by the create page and the settings page.
import { api } from '../api.js';
import { h } from '../ui.js';

let catalog = null;

/** GET /v1/privileges, fetched once per page load (the catalog only changes with a release). */
export async function privileges() {
  if (!catalog) {
    catalog = api('GET', 'v1/privileges').then((answer) => answer.privileges || []).catch((error) => {
      catalog = null;
      throw error;
    });
  }
  return catalog;
}

/**
 * A fieldset of privilege checkboxes, one per catalog entry. Without a legend (the settings page, under its own
 * heading) it is named by `label`: a group with no name was read out as "group" only.
 */
export function privilegeFieldset(list, selected = [], { legend = 'Privileges', label = 'Privileges' } = {}) {
  const chosen = new Set(selected);
  return h('fieldset', { class: 'field privileges', 'data-field': 'privileges', 'aria-label': legend ? null : label },
    legend ? h('legend', {}, legend) : null,
    h('p', { class: 'help' }, 'The services these credentials may use.'),
    h('div', { class: 'privilege-grid' }, list.map((p) => h('label', { class: 'privilege' },
      h('input', { type: 'checkbox', name: 'privileges', value: p.privilege, checked: chosen.has(p.privilege) }),
      h('span', {}, h('strong', {}, p.service), h('span', { class: 'muted' }, ` ${p.description || ''}`),
        h('code', { class: 'small' }, p.privilege))))));
}

export function checkedPrivileges(form) {
  return [...form.querySelectorAll('input[name="privileges"]:checked')].map((i) => i.value);
}

/**
 * A textarea holding one value per line, e.g. item ids or referrers; with {@code commas}, commas separate values
 * too. Read it with ui.js linesOf.
 */
export function linesField({ name, label, help, values = [], placeholder, commas = false }) {
  const id = `field-${name}`;
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label),
    h('textarea', {
      id, name, rows: 3, spellcheck: 'false', placeholder, 'aria-describedby': `${id}-help`,
      dataset: { commas: String(commas) },
    },
      values.join('\n')),
    h('p', { class: 'help', id: `${id}-help` }, help));
}

export const ITEM_ACCESS_HELP = 'Optional. One item ID per line (letters, digits, _ and -). With item IDs, keys can use only those items.';
export const REFERRERS_HELP = 'Optional. One per line, like https://app.example.com or https://*.example.com. '
  + 'With referrers, requests from anywhere else (or with no referrer) are refused.';
