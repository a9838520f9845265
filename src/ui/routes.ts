import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LiveConfig } from '../config/live.js';
import { BaliseError } from '../errors.js';
import { LoginGuard } from './login-guard.js';
import { verifyPassword } from '../auth/password.js';
import { sessionCookie, type Sessions } from './sessions.js';

/** The dashboard's Content-Security-Policy: its own files only, no inline code, no framing. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Balise</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="uplot.css">
<link rel="stylesheet" href="app.css">
</head>
<body>
<main id="app" aria-live="polite"><p>Loading…</p></main>
<script src="uplot.js"></script>
<script src="app.js"></script>
</body>
</html>
`;

interface Asset {
  type: string;
  body: Buffer;
}

function loadAssets(): Record<string, Asset> {
  const require = createRequire(import.meta.url);
  const dist = (name: string) => fileURLToPath(new URL(`../../dist/ui/${name}`, import.meta.url));
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch {
      throw new Error(`dashboard asset ${what} not found at ${path}; run "npm run build" first`);
    }
  };
  return {
    'app.js': { type: 'application/javascript; charset=utf-8', body: read(dist('app.js'), 'app.js') },
    'app.css': { type: 'text/css; charset=utf-8', body: read(dist('app.css'), 'app.css') },
    'uplot.js': {
      type: 'application/javascript; charset=utf-8',
      body: read(require.resolve('uplot/dist/uPlot.iife.min.js'), 'uPlot'),
    },
    'uplot.css': {
      type: 'text/css; charset=utf-8',
      body: read(require.resolve('uplot/dist/uPlot.min.css'), 'uPlot css'),
    },
  };
}

/** True when the request reached the gateway over https (directly or through a trusted proxy). */
function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * The dashboard at `{prefix}/ui/`: a static shell and its scripts (CSP without inline code),
 * password login (scrypt hash from the config, rate-limited per IP) that opens a session cookie
 * (HttpOnly, SameSite=Strict, Secure over https), the session's CSRF token, and logout.
 */
export function registerDashboardRoutes(app: FastifyInstance, live: LiveConfig, sessions: Sessions): void {
  const prefix = live.current.server.prefix;
  const base = `${prefix}/ui`;
  const assets = loadAssets();
  const guard = new LoginGuard();
  const secure = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('cache-control', 'no-store');

  app.get(base, (_request, reply) => reply.redirect(`${base}/`));
  app.get(`${base}/`, (_request, reply) => secure(reply).type('text/html; charset=utf-8').send(SHELL));
  app.get(`${base}/:asset`, (request, reply) => {
    const name = (request.params as { asset: string }).asset;
    // Own names only: `constructor`, `__proto__` or `toString` are not files.
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) throw new BaliseError('not_found', 'no such dashboard file');
    return secure(reply).type(asset.type).send(asset.body);
  });

  app.post(`${base}/login`, async (request, reply) => {
    const hash = live.current.admin.passwordHash;
    if (!hash)
      throw new BaliseError(
        'dashboard_disabled',
        'no admin.passwordHash in the config (balise password hash)',
      );
    const password = (request.body as { password?: unknown } | null)?.password;
    if (typeof password !== 'string' || password.length === 0 || password.length > 1024)
      throw new BaliseError('invalid_login', 'send {"password": "…"}', 'password');
    if (!(await guard.attempt(request.ip, () => verifyPassword(password, hash))))
      throw new BaliseError('unauthorized', 'wrong password');
    const { id, csrf } = sessions.create();
    return secure(reply)
      .header('set-cookie', sessionCookie(id, `${prefix}/`, isHttps(request)))
      .send({ csrf });
  });

  app.get(`${base}/session`, (request, reply) => {
    const session = sessions.find(request);
    if (!session) return secure(reply).send({ authenticated: false });
    const { sites } = live.current;
    const groups = [...new Set(sites.map((s) => s.group).filter(Boolean))];
    return secure(reply).send({
      authenticated: true,
      csrf: session.csrf,
      prefix,
      sites: sites.map((s) => ({ host: s.host, group: s.group ?? null, timezone: s.timezone })),
      groups,
    });
  });

  app.post(`${base}/logout`, async (request, reply) => {
    const session = sessions.find(request);
    if (session) {
      sessions.checkCsrf(request, session);
      await sessions.end(session.id);
    }
    return secure(reply)
      .header('set-cookie', sessionCookie('', `${prefix}/`, isHttps(request), 0))
      .code(204)
      .send();
  });
}
