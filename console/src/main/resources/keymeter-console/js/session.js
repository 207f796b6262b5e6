// The account token lives in sessionStorage only: it is gone when the tab closes and never reaches localStorage,
// a cookie or a URL.
const TOKEN = 'keymeter.accountToken';

export const session = {
  token() {
    return sessionStorage.getItem(TOKEN);
  },
  signedIn() {
    return Boolean(sessionStorage.getItem(TOKEN));
  },
  signIn(token) {
    sessionStorage.setItem(TOKEN, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN);
  },
};
