import { api } from '../api.js';
import { clearProblem, focusIfLost, h, linesOf, replace, showLoadProblem, showProblem } from '../ui.js';
import { checkedPrivileges, ITEM_ACCESS_HELP, linesField, privilegeFieldset, privileges, REFERRERS_HELP } from './forms.js';

/** Create credentials: name, privileges from GET /v1/privileges, item access and referrers. */
export async function renderNewCredential(view, { isCurrent, navigate, reload }) {
  document.title = 'New credentials · Keymeter';
  const body = h('div', {}, h('p', { class: 'loading' }, 'Loading privileges…'));
  replace(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/credentials' }, '← Credentials')),
    h('h1', {}, 'New API key credentials'),
    body);
  let list;
  try {
    list = await privileges();
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
  const submit = h('button', { type: 'submit', class: 'button primary', id: 'create-credential' }, 'Create credentials');
  const form = h('form', { id: 'credential-form', class: 'card form', novalidate: true },
    h('div', { class: 'field', 'data-field': 'name' },
      h('label', { for: 'field-name' }, 'Name'),
      h('input', { id: 'field-name', name: 'name', type: 'text', autocomplete: 'off' })),
    privilegeFieldset(list),
    linesField({ name: 'itemAccess', label: 'Item access', help: ITEM_ACCESS_HELP, placeholder: 'item-id', commas: true }),
    linesField({ name: 'referrers', label: 'Allowed referrers', help: REFERRERS_HELP, placeholder: 'https://*.example.com' }),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: '#/credentials' }, 'Cancel'), submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearProblem(form);
    const request = {
      name: form.elements.name.value.trim(),
      privileges: checkedPrivileges(form),
      itemAccess: linesOf(form.elements.itemAccess),
      referrers: linesOf(form.elements.referrers),
    };
    submit.disabled = true;
    try {
      const created = await api('POST', 'v1/credentials', request);
      if (isCurrent()) {
        navigate(`#/credentials/${encodeURIComponent(created.id)}`); // not from a page the user went to meanwhile
      }
    } catch (error) {
      const box = showProblem(form, error);
      if (error.status === 0 || error.status >= 500) {
        // "applied in full or not at all", or no answer: a second click could make a second credential
        box.append(h('p', {}, 'They may have been created anyway: look in ',
          h('a', { href: '#/credentials' }, 'your credentials'), ' before creating them again.'));
      }
      box.scrollIntoView({ block: 'nearest' });
      // to what needs fixing: the submit button was disabled while the call ran, and the focus fell to the body
      focusIfLost(form.querySelector('[aria-invalid="true"]') || box);
    } finally {
      submit.disabled = false;
    }
  });
  replace(body, form);
  form.elements.name.focus();
}
