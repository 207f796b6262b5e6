import { checkToken } from '../api.js';
import { session } from '../session.js';
import { h, replace, showProblem } from '../ui.js';

/** Sign-in with an account token. The token is checked against the API before the console keeps it. */
export function renderSignIn(view, { notice, navigate }) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true,
    'aria-describedby': 'token-help',
  });
  const button = h('button', { type: 'submit', class: 'button primary', id: 'sign-in' }, 'Sign in');
  const form = h('form', { class: 'card signin', id: 'signin-form', novalidate: true },
    h('h1', {}, 'Sign in to Keymeter'),
    notice ? h('p', { class: 'alert alert-info', id: 'signin-notice' }, notice) : null,
    h('div', { class: 'field', 'data-field': 'token' },
      h('label', { for: 'token' }, 'Account token'),
      input,
      h('p', { class: 'help', id: 'token-help' },
        'Your account token is kept in this browser tab only and sent only to this server. ',
        'On a local install it is in the file ', h('code', {}, 'data/demo-token'), '.')),
    h('div', { class: 'actions' }, button));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      showProblem(form, { title: 'Enter your account token.', errors: [{ field: 'token', message: 'is required' }] });
      return;
    }
    if (/[^\x20-\x7e]/.test(token)) {
      // no token has one, and a browser sends most such characters in no header: it said the server was unreachable
      showProblem(form, { title: 'That token was not accepted.',
        detail: 'It holds a character outside printable ASCII, which no token has (often from copying): paste it again.',
        errors: [{ field: 'token', message: 'holds a character no token has' }] });
      input.focus();
      return;
    }
    button.disabled = true;
    try {
      await checkToken(token);
      session.signIn(token);
      // back to the page asked for (a bookmark, a link opened in a new tab, a page whose token was refused)
      const asked = window.location.hash;
      navigate(asked && asked !== '#/' && asked !== '#' ? asked : '#/credentials');
    } catch (error) {
      const box = showProblem(form, error.status === 401
        ? { title: 'That token was not accepted.', detail: refusal(error) }
        : error);
      // under the heading, in place of a notice that no longer applies ("You are signed out.")
      form.querySelector('#signin-notice')?.remove();
      form.querySelector('h1').after(box);
      button.disabled = false;
      input.focus();
    }
  });
  replace(view, h('div', { class: 'center' }, form));
  input.focus();
}

/**
 * Why a token was refused, as the user can act on it: a gateway token (its file sits beside the account token's) is
 * named as one, where every refusal read "Check the account token".
 */
function refusal(error) {
  return /gateway token is good for/.test(error.detail)
    ? 'That is a gateway token, for gateways\' calls only (data/gateway-token on a local install). Sign in with an'
      + ' account token (data/demo-token).'
    : 'Check the account token and try again.';
}
