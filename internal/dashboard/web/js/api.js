// The REST API client: the token lives in sessionStorage (gone when the tab
// closes), every call carries it as a bearer token, and a 401 sends the user
// back to the login page with the reason.

const KEY = 'skywatch.token';

export const token = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => { sessionStorage.removeItem(KEY); cache.clear(); },
};

// ApiError is a failed call; status 0 means the server could not be reached.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// query turns {k: v | [v...]} into a query string, leaving out empty values
// (the API refuses empty parameters).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x !== undefined && x !== null && x !== '') q.append(k, String(x));
    }
  }
  return q.toString();
}

// api calls GET /api/v1<path>?params, or POSTs opts.body as JSON.
export async function api(path, params, opts = {}) {
  const qs = query(params);
  const init = { headers: { Authorization: 'Bearer ' + token.get(), Accept: 'application/json' }, cache: 'no-store' };
  if (opts.body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let resp;
  try {
    resp = await fetch('/api/v1' + path + (qs ? '?' + qs : ''), init);
  } catch (e) {
    throw new ApiError(0, 'cannot reach the server: ' + e.message);
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (resp.status === 401 && !opts.noRedirect) {
    token.clear();
    const msg = 'Your token was refused (' + ((data && data.error) || 'unauthorized') + '). Log in again.';
    location.hash = '#/login?' + query({ msg });
  }
  if (!resp.ok) {
    throw new ApiError(resp.status, (data && data.error) || `HTTP ${resp.status}`);
  }
  return data;
}

// cache keeps answers that do not change while the page is open.
const cache = new Map();

function once(key, f) {
  if (!cache.has(key)) {
    const p = f();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return cache.get(key);
}

// whoami is {name, role}. A server without /whoami (older than the
// dashboard) is asked in two harmless ways instead: a read route tells if the
// token is good, and an empty logtest body tells the role (403 for read
// tokens, 400 for admin ones, before any event runs).
export function whoami(opts = {}) {
  return once('whoami', async () => {
    try {
      return await api('/whoami', null, opts);
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    await api('/rules', { limit: 1 }, opts);
    try {
      await api('/logtest', null, { ...opts, body: {} });
      return { name: '', role: 'admin' };
    } catch (e) {
      if (e.status === 403) return { name: '', role: 'read' };
      if (e.status === 400) return { name: '', role: 'admin' };
      throw e;
    }
  });
}

// mitre is the ATT&CK matrix layout.
export const mitre = () => once('mitre', () => api('/mitre'));
