// The login page: one token, checked against the API before it is kept.

import { h } from '../dom.js';
import { token, whoami } from '../api.js';
import { go } from '../nav.js';

export async function render(main, ctx) {
  const msg = ctx.route.q.get('msg');
  const note = h('p', { id: 'login-msg', class: msg ? 'error' : 'muted', role: 'status' },
    msg || 'Paste an API token (swk_…) made with "skywatch token create". It is kept in this tab only.');
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'swk_…', required: true });
  const button = h('button', { id: 'login-btn', type: 'submit' }, 'Log in');
  const form = h('form', { class: 'login' }, h('h1', {}, 'skywatch'), h('label', { for: 'token' }, 'API token'), input, button, note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    button.disabled = true;
    token.clear();
    token.set(t);
    try {
      await whoami({ noRedirect: true });
      const next = ctx.route.q.get('next');
      if (next && next.startsWith('/') && !next.startsWith('/login')) location.hash = '#' + next;
      else go('overview');
    } catch (e) {
      token.clear();
      note.className = 'error';
      note.textContent = e.status === 401 ? 'Token refused: ' + e.message : 'Cannot log in: ' + e.message;
      button.disabled = false;
      input.select();
    }
  });
  main.append(form);
  input.focus();
}
