/**
 * The Balise dashboard (served at {prefix}/ui/): login, then five views — Overview, Realtime,
 * Detections, Settings and Audit — chosen in the navigation (the address's #/view). Every value shown
 * comes from the public (paths, titles, referrers, event names), so it is only ever written with
 * textContent; the page runs under a CSP without inline code.
 */
import { base, session, setSession, type SessionInfo } from './dashboard/api.js';
import { destroyCharts } from './dashboard/chart.js';
import { renderAudit } from './dashboard/audit.js';
import { renderDetections } from './dashboard/detections.js';
import { alertLine, el } from './dashboard/dom.js';
import { renderOverview } from './dashboard/overview.js';
import { REALTIME_REFRESH_S, renderRealtime } from './dashboard/realtime.js';
import { defaultSelection, pickers, type Selection } from './dashboard/selection.js';
import { renderSettings } from './dashboard/settings.js';

const app = document.getElementById('app')!;
const VIEWS = [
  ['overview', 'Overview'],
  ['realtime', 'Realtime'],
  ['detections', 'Detections'],
  ['settings', 'Settings'],
  ['audit', 'Audit'],
] as const;
type View = (typeof VIEWS)[number][0];

let selection: Selection | null = null;
let timer: ReturnType<typeof setInterval> | undefined;
let generation = 0;

function renderLogin(message = ''): void {
  clearInterval(timer);
  const password = el('input', {
    type: 'password',
    id: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: '',
  });
  const error = el('p', { class: 'error', role: 'alert' }, message);
  const form = el(
    'form',
    { class: 'login' },
    el('h1', {}, 'Balise'),
    el('label', { for: 'password' }, 'Admin password', password),
    el('button', { type: 'submit' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void fetch(`${base}/ui/login`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: password.value }),
    }).then(async (response) => {
      if (response.ok) return start();
      const data = (await response.json().catch(() => ({}))) as { error?: { message: string } };
      error.textContent = data.error?.message ?? `login failed (${response.status})`;
    });
  });
  app.replaceChildren(form);
  app.setAttribute('aria-busy', 'false');
  password.focus();
}

function currentView(): View {
  const name = location.hash.replace(/^#\/?/, '');
  return VIEWS.find(([v]) => v === name)?.[0] ?? 'overview';
}

function nav(active: View): HTMLElement {
  const logout = el('button', { type: 'button', class: 'secondary' }, 'Log out');
  logout.addEventListener('click', () => {
    void fetch(`${base}/ui/logout`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-balise-csrf': session()?.csrf ?? '' },
    }).then(() => {
      setSession(null);
      renderLogin('Logged out.');
    });
  });
  return el(
    'nav',
    { 'aria-label': 'Views' },
    el(
      'ul',
      {},
      ...VIEWS.map(([view, text]) =>
        el(
          'li',
          {},
          el('a', { href: `#/${view}`, ...(view === active ? { 'aria-current': 'page' } : {}) }, text),
        ),
      ),
    ),
    logout,
  );
}

/** Draws the current view; a newer render makes an older one's late answers ignored. */
async function render(): Promise<void> {
  const view = currentView();
  const mine = ++generation;
  app.setAttribute('aria-busy', 'true');
  clearInterval(timer);
  destroyCharts();
  // Sites and groups may have changed in Settings: read them again.
  if (!(await loadSession())) return;
  if (mine !== generation) return;
  const info = session()!;
  const scopes = [...info.groups.map((g) => `group:${g}`), ...info.sites.map((s) => `site:${s.host}`)];
  if (!selection || !scopes.includes(selection.scope)) selection = defaultSelection();
  const content = el('div', { id: 'content' }, el('p', { class: 'muted' }, 'Loading…'));
  const title = VIEWS.find(([v]) => v === view)![1];
  const header: Node[] = [nav(view), el('h1', {}, title)];
  if (view !== 'settings' && view !== 'audit')
    header.push(
      pickers(
        selection,
        (next) => {
          selection = next;
          void render();
        },
        view !== 'realtime',
      ),
    );
  app.replaceChildren(...header, content);
  const draw = async () => {
    const target = el('div', { id: 'content' });
    if (view === 'overview') await renderOverview(selection!, target);
    else if (view === 'realtime') await renderRealtime(selection!, target);
    else if (view === 'detections') await renderDetections(selection!, target);
    else if (view === 'audit') await renderAudit(target);
    else await renderSettings(target);
    if (mine === generation) {
      app.querySelector('#content')!.replaceWith(target);
      app.setAttribute('aria-busy', 'false');
    }
  };
  try {
    await draw();
    if (view === 'realtime')
      timer = setInterval(() => {
        if (mine === generation) void draw().catch(() => undefined);
      }, REALTIME_REFRESH_S * 1000);
  } catch (error) {
    if (session() && mine === generation) {
      app
        .querySelector('#content')!
        .replaceChildren(alertLine(error instanceof Error ? error.message : String(error)));
      app.setAttribute('aria-busy', 'false');
    }
  }
}

/** Reads the session (sites, groups, CSRF token); shows the login form when there is none. */
async function loadSession(): Promise<boolean> {
  const response = await fetch(`${base}/ui/session`, { credentials: 'same-origin' });
  const info = (await response.json().catch(() => ({ authenticated: false }))) as SessionInfo;
  if (!response.ok || !info.authenticated) {
    setSession(null);
    renderLogin();
    return false;
  }
  setSession(info, () => renderLogin('Your session ended; log in again.'));
  return true;
}

async function start(): Promise<void> {
  await render();
}

window.addEventListener('hashchange', () => {
  if (session()) void render();
});

void start();
