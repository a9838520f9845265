import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/api/auth.js';
import type { Gateway } from '../src/gateway.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { hashPassword } from '../src/ui/password.js';
import { launchChromium, watchProblems } from './chromium.js';
import { startGateway, tempDir } from './helpers.js';

// The dashboard in real Chromium: login, overview numbers equal to the API's, attacker-controlled
// values shown as text with no script run and no CSP violation, refused without login, CSRF,
// accessibility (axe-core), screenshots kept under artifacts/test/.
const ARTIFACTS = resolve('artifacts', 'test');
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'bls_dashboard_test_token_0123456789';
const HOSTILE_PATH = '/<img src=x onerror=alert(1)>';
const HOSTILE_TITLE = '<script>alert(2)</script>';
const HOSTILE_REFERRER = '"><svg onload=alert(3)>.example';
const temp = tempDir('balise-dashboard-');
let gateway: Gateway;
let url: string;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  gateway = await startGateway(temp.dir, {
    admin: { tokens: [hashToken(TOKEN)], passwordHash: hashPassword(PASSWORD) },
    sites: [
      { host: 'www.quotidien.example', group: 'news' },
      { host: 'www.hebdo.example', group: 'news' },
    ],
  });
  const now = Date.now();
  const rows: EventRow[] = [];
  for (let i = 0; i < 600; i++) {
    const ts = now - Math.floor((i / 600) * 13 * 86_400_000) - 60_000;
    const hostile = i % 50 === 0;
    rows.push(
      blankRow({
        id: deterministicId(ts, `dash${i}`),
        ts,
        site: i % 3 ? 'www.quotidien.example' : 'www.hebdo.example',
        type: 'pageview',
        source: 'import',
        path: hostile ? HOSTILE_PATH : `/article-${i % 7}`,
        title: hostile ? HOSTILE_TITLE : 'Article',
        referrerHost: hostile ? HOSTILE_REFERRER : i % 2 ? 'www.google.com' : null,
        referrerClass: i % 2 ? 'search' : null,
        country: i % 4 ? 'FR' : 'BE',
        deviceType: i % 3 ? 'desktop' : 'mobile',
        visitorHash: String(1000 + (i % 40)),
      }),
    );
  }
  await gateway.store.append(rows);
  // One live event whose title carries an e-mail: the DLP masks it and counts one finding.
  const live = await gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host: 'www.quotidien.example', 'content-type': 'application/json' },
    payload: {
      eventType: 'pageview',
      location: 'https://www.quotidien.example/contact',
      title: 'Écrire à jane.doe@example.fr',
    },
  });
  expect(live.statusCode).toBe(204);
  url = (await gateway.app.listen({ host: '127.0.0.1', port: 0 })).replace('127.0.0.1', 'localhost');
  ({ browser, close: closeBrowser } = await launchChromium());
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await closeBrowser();
  await gateway.close();
  temp.cleanup();
});

async function logIn(page: Page, password = PASSWORD): Promise<void> {
  await page.goto(`${url}/balise/ui/`);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

describe('the dashboard', () => {
  it('refuses without a login: the API answers 401 and the page shows the login form', async () => {
    const api = await fetch(`${url}/balise/api/v1/series`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"group":"news","last":"24h"}',
    });
    expect(api.status).toBe(401);
    const session = await fetch(`${url}/balise/ui/session`);
    expect(await session.json()).toEqual({ authenticated: false });
    const page = await browser.newPage();
    const problems = watchProblems(page);
    await logIn(page, 'wrong password');
    await page.waitForSelector('text=wrong password');
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-login.png') });
    // The one expected error: the refused login itself.
    expect(problems).toEqual([
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    await page.close();
  });

  it('logs in, shows the overview with the API’s numbers, and every public value as text only', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page);
    const card = page.locator('[data-metric="Pageviews"]');
    await card.waitFor();
    await page.waitForSelector('table');
    const api = await fetch(`${url}/balise/api/v1/series`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        group: 'news',
        metric: 'pageviews',
        interval: '1h',
        last: '7d',
        compare: 'previous_week',
      }),
    });
    const { rows } = (await api.json()) as { rows: { value: number }[] };
    const total = rows.reduce((sum, r) => sum + r.value, 0);
    expect(total).toBeGreaterThan(100);
    expect(await card.textContent()).toBe(total.toLocaleString('en-US'));

    // The top-pages table adds up to the total (other pages folded into "(other)").
    const counts = await page.locator('section:has(h2:text("Top pages")) td.n').allTextContents();
    expect(counts.reduce((sum, c) => sum + Number(c.replace(/,/g, '')), 0)).toBe(total);
    const text = await page.locator('main').innerText();
    expect(text).toContain(HOSTILE_PATH);
    expect(text).toContain(HOSTILE_REFERRER);
    expect(await page.locator('main img, main script, main svg[onload]').count()).toBe(0);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    // DLP findings by kind (never values) and the egress log (no tool here: nothing left).
    expect(text).toContain('www.quotidien.example — email');
    expect(text).not.toContain('jane.doe');
    expect(text).toContain('Nothing left for a tool in the last 7 days.');

    const cookie = (await context.cookies()).find((c) => c.name === 'balise_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/balise/' });
    expect(problems).toEqual([]);
    // With the cookie but without the CSRF header, a change is refused.
    const csrf = await page.evaluate(async () => {
      const response = await fetch('/balise/api/v1/series', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"group":"news","last":"24h"}',
      });
      return response.status;
    });
    expect(csrf).toBe(403);
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    expect(problems).toEqual([
      'Failed to load resource: the server responded with a status of 403 (Forbidden)',
    ]);
    await context.close();
  });

  it('has no serious or critical accessibility violation (axe-core)', async () => {
    // axe is injected as a script, which the dashboard's CSP rightly forbids: this context bypasses it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await logIn(page);
    await page.locator('[data-metric="Pageviews"]').waitFor();
    await page.waitForSelector('table');
    const require = createRequire(import.meta.url);
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: { run: () => Promise<{ violations: { id: string; impact: string }[] }> };
        }
      ).axe;
      const result = await axe.run();
      return result.violations.map((v) => `${v.impact} ${v.id}`);
    });
    expect(violations.filter((v) => v.startsWith('serious') || v.startsWith('critical'))).toEqual([]);
    await context.close();
  });

  it('rate-limits login attempts', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${url}/balise/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"password":"guess"}',
      });
      last = response.status;
    }
    expect(last).toBe(429);
  });
});
