// The console's entry point: a hash router over the views. Every view renders into <main id="view">.
import { session } from './session.js';
import { renderSignIn } from './views/signin.js';
import { renderCredentials } from './views/credentials.js';
import { renderNewCredential } from './views/new-credential.js';
import { renderCredential } from './views/credential.js';
import { renderUsage } from './views/usage.js';
import { h, replace } from './ui.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let notice = null;

const routes = [
  { pattern: /^#\/credentials\/new$/, name: 'credentials', render: renderNewCredential },
  { pattern: /^#\/credentials\/([^/?]+)$/, name: 'credentials', render: renderCredential },
  { pattern: /^#\/(?:credentials)?$/, name: 'credentials', render: renderCredentials },
  { pattern: /^#\/usage$/, name: 'usage', render: renderUsage },
];

/** The current route's hash path and its query parameters (#/usage?cycle=2026-11). */
function location() {
  const hash = window.location.hash || '#/';
  const [path, search = ''] = hash.split('?');
  return { path, params: new URLSearchParams(search) };
}

async function route() {
  // each render gets a token; a view checks it after every await so a slow answer never paints over a newer page
  const token = Symbol('render');
  route.current = token;
  const context = { isCurrent: () => route.current === token, params: location().params, navigate };
  // loads the page again (a load that failed for a reason that passes), unless the user has gone elsewhere
  context.reload = () => {
    if (context.isCurrent()) {
      route();
    }
  };
  // every dialog but a new key's: closing that one would lose the only sight of the key (ui.js showIssuedKey)
  document.querySelectorAll('dialog[open]:not(.key-dialog)').forEach((d) => d.close());

  if (!session.signedIn()) {
    nav.hidden = true;
    document.title = 'Sign in · Keymeter';
    renderSignIn(view, { ...context, notice: takeNotice() });
    return;
  }
  nav.hidden = false;
  const { path } = location();
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  let id;
  try {
    id = match && match.m[1] ? decodeURIComponent(match.m[1]) : undefined;
  } catch (error) {
    id = null; // a broken percent-escape (a link cut short): no such page
  }
  nav.querySelectorAll('[data-nav]').forEach((a) => {
    // "page", not an empty value, which assistive technology reads as false
    if (match && a.dataset.nav === match.r.name) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  });
  if (!match || id === null) {
    document.title = 'Page not found · Keymeter'; // it kept the previous page's
    replace(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/credentials' }, 'Go to your credentials')));
    return;
  }
  view.setAttribute('aria-busy', 'true');
  const focusedAtStart = document.activeElement;
  try {
    await match.r.render(view, { ...context, id });
  } finally {
    if (context.isCurrent()) {
      view.removeAttribute('aria-busy');
      // a keyboard or screen-reader user starts on the new page, not on the link that led there (or nowhere: the
      // focused element was replaced); a page that focused a field of its own keeps it
      const focused = document.activeElement;
      // not when the user moved on meanwhile (tabbed along the menu while a slow page loaded)
      if (!focused || focused === document.body || (focused === focusedAtStart && nav.contains(focused))) {
        view.focus({ preventScroll: true });
      }
    }
  }
}

function navigate(hash) {
  if (window.location.hash === hash) {
    route();
  } else {
    window.location.hash = hash;
  }
}

function takeNotice() {
  const text = notice;
  notice = null;
  return text;
}

/** Signs the tab out; {keepPage}: the page stays in the address, and signing in again returns to it. */
function signOut(message, { keepPage = false } = {}) {
  session.signOut();
  notice = message;
  if (!keepPage && window.location.hash && window.location.hash !== '#/') {
    window.location.hash = '#/';
  } else {
    route();
  }
}

document.getElementById('sign-out').addEventListener('click', () => signOut('You are signed out.'));
window.addEventListener('keymeter:unauthorized', () => {
  if (session.signedIn()) {
    signOut('Your account token was not accepted any more. Sign in again.', { keepPage: true });
  }
});
window.addEventListener('hashchange', route);
route();
