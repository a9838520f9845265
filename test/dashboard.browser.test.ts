import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashToken } from '../src/api/auth.js';
import type { Gateway } from '../src/gateway.js';
import { deterministicId } from '../src/store/ids.js';
import { blankRow, type EventRow } from '../src/store/row.js';
import { hashPassword } from '../src/auth/password.js';
import { launchChromium, watchProblems } from './chromium.js';
import { eventsIn, startWebhookReceiver, type FakeVendor } from './fake-vendors.js';
import { startGatewayFromFile, tempDir } from './helpers.js';

// The dashboard in real Chromium: login, overview numbers equal to the API's, attacker-controlled
// values shown as text with no script run and no CSP violation, refused without login, CSRF,
// accessibility (axe-core), screenshots kept under artifacts/test/.
const ARTIFACTS = resolve('artifacts', 'test');
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'bls_dashboard_test_token_0123456789';
const HOSTILE_PATH = '/<img src=x onerror=alert(1)>';
const HOSTILE_TITLE = '<script>alert(2)</script>';
const HOSTILE_REFERRER = '"><svg onload=alert(3)>.example';
const ALERT_TEXT = `www.quotidien.example${HOSTILE_PATH} 2026-12-05 12:00:10 local: 100 rps peak, 3 s, 300 requests`;
const temp = tempDir('balise-dashboard-');
let gateway: Gateway;
let url: string;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let hook: FakeVendor;

beforeAll(async () => {
  hook = await startWebhookReceiver('hook-secret-0123');
  ({ gateway } = await startGatewayFromFile(
    temp.dir,
    `admin:
  tokens: ['${hashToken(TOKEN)}']
  passwordHash: '${hashPassword(PASSWORD)}'
# The test's webhook receiver listens on 127.0.0.1 over http: an internal receiver, allowed in the file.
outbox:
  allowHosts: [127.0.0.1]
sites:
  - host: www.quotidien.example
    group: news
    goals:
      - { name: Any page, path: /* }
  - host: www.hebdo.example
    group: news
`,
  ));
  const now = Date.now();
  // An alert whose sentence carries a hostile value (a path): the timeline shows it as text.
  await gateway.alerts!.log.add({
    id: 'alert-1',
    episode: `attacks|www.quotidien.example|${HOSTILE_PATH}`,
    state: 'start',
    detector: 'attacks',
    site: 'www.quotidien.example',
    subject: HOSTILE_PATH,
    time: new Date(now - 3_600_000).toISOString(),
    at: new Date(now - 3_600_000).toISOString(),
    text: ALERT_TEXT,
    notified: 'rate_limited',
  });
  const rows: EventRow[] = [];
  for (let i = 0; i < 640; i++) {
    // 600 rows over 13 days, then 40 in the last 20 minutes (the realtime view).
    const ts =
      i < 600 ? now - Math.floor((i / 600) * 13 * 86_400_000) - 60_000 : now - (i - 600) * 30_000 - 60_000;
    const hostile = i % 50 === 0 || i % 10 === 3;
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
  // Imported requests (a server log): 30 answered 200, 6 answered 404, 4 of a crawler.
  for (let i = 0; i < 40; i++) {
    const ts = now - (i + 1) * 3_600_000;
    rows.push(
      blankRow({
        id: deterministicId(ts, `request${i}`),
        ts,
        site: 'www.quotidien.example',
        type: 'request',
        source: 'import',
        path: i < 30 ? `/article-${i % 5}` : i < 36 ? '/missing' : '/robots.txt',
        status: i < 30 || i >= 36 ? 200 : 404,
        bytes: 2_000,
        isBot: i >= 36,
        deviceType: i >= 36 ? 'bot' : 'desktop',
        browser: i >= 36 ? 'Googlebot' : 'Firefox',
      }),
    );
  }
  await gateway.store.append(rows);
  // One live event whose title carries an e-mail: the DLP masks it and counts one finding.
  const live = await collect('www.quotidien.example', { title: 'Écrire à jane.doe@example.fr' });
  expect(live.statusCode).toBe(204);
  // Two custom events with a property (the overview's custom-property tables).
  for (const plan of ['pro', 'pro', 'free'])
    expect(
      (await collect('www.quotidien.example', { eventType: 'track', name: 'signup', payload: { plan } }))
        .statusCode,
    ).toBe(204);
  url = (await gateway.app.listen({ host: '127.0.0.1', port: 0 })).replace('127.0.0.1', 'localhost');
  ({ browser, close: closeBrowser } = await launchChromium());
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await closeBrowser();
  await gateway.close();
  await hook.close();
  temp.cleanup();
});

/** A pageview sent to collect as the site's script would, with an external referrer. */
function collect(host: string, overrides: Record<string, unknown> = {}) {
  return gateway.app.inject({
    method: 'POST',
    url: '/balise/e',
    headers: { host, 'content-type': 'application/json' },
    payload: {
      eventType: 'pageview',
      location: `https://${host}/contact`,
      referer: 'https://news.example.org/a',
      title: 'Contact',
      ...overrides,
    },
  });
}

/** The total of a series query asked of the API with the Bearer token (what the views must show). */
async function apiTotal(query: Record<string, unknown>): Promise<number> {
  const response = await fetch(`${url}/balise/api/v1/series`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(query),
  });
  const { rows } = (await response.json()) as { rows: { value: number }[] };
  return rows.reduce((sum, r) => sum + r.value, 0);
}

/** The stored row of the event titled `title`, once the writer has flushed it. */
async function storedRow(title: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const rows = await gateway.store.query('SELECT * FROM events WHERE title = $1', [title]);
    if (rows[0]) return rows[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no stored row titled ${title}`);
}

/** A new page, logged in, on the view named `view` in the navigation; its problems are watched. */
async function openView(view: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await logIn(page);
  await page.click(`nav a:text("${view}")`);
  return { page, problems };
}

/** Each view (its address and screenshot name), the selector that says it has drawn, and its link's text. */
const VIEWS = [
  ['overview', '[data-metric="Pageviews"]', 'Overview'],
  ['realtime', '[data-metric="Pageviews (30 min)"]', 'Realtime'],
  ['detections', 'h2:text("Anomalies")', 'Detections'],
  ['settings', 'button:text("Add a site")', 'Settings'],
  ['audit', 'h2:text("No IP address is sent to a tool")', 'Audit'],
] as const;

async function logIn(page: Page, password = PASSWORD): Promise<void> {
  // A step that cannot happen fails with its own message, well before the test's time limit.
  page.setDefaultTimeout(10_000);
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
    const total = await apiTotal({
      group: 'news',
      metric: 'pageviews',
      interval: '1h',
      last: '7d',
      compare: 'previous_week',
    });
    expect(total).toBeGreaterThan(100);
    expect(await card.textContent()).toBe(total.toLocaleString('en-US'));

    // Visits are the API's too (the demo's visitors come back within the hour: fewer visits than pageviews).
    const visits = await apiTotal({ group: 'news', metric: 'visits', interval: '1d', last: '7d' });
    expect(visits).toBeGreaterThan(0);
    expect(visits).toBeLessThanOrEqual(total);
    expect(await page.locator('[data-metric="Visits"]').textContent()).toBe(visits.toLocaleString('en-US'));
    expect(await page.locator('[data-metric="Bounce rate"]').textContent()).toMatch(/^\d{1,3}%$/);

    // The top-pages table adds up to the total (other pages folded into "(other)").
    const counts = await page.locator('section:has(h2:text("Top pages")) td.n').allTextContents();
    expect(counts.reduce((sum, c) => sum + Number(c.replace(/,/g, '')), 0)).toBe(total);
    // Each row carries a bar of its count against the largest (the table reads as a bar chart).
    const meters = page.locator('section:has(h2:text("Top pages")) meter');
    const bars: [number, number][] = [];
    for (let i = 0; i < (await meters.count()); i++)
      bars.push([
        Number(await meters.nth(i).getAttribute('value')),
        Number(await meters.nth(i).getAttribute('max')),
      ]);
    expect(bars.map(([value]) => value)).toEqual(counts.map((c) => Number(c.replace(/,/g, ''))));
    expect(Math.max(...bars.map(([value]) => value))).toBe(bars[0]![1]);
    const text = await page.locator('main').innerText();
    expect(text).toContain(HOSTILE_PATH);
    expect(text).toContain(HOSTILE_REFERRER);
    expect(await page.locator('main img, main script, main svg[onload]').count()).toBe(0);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);

    // Custom properties: a table of the values of `plan`, as the series API breaks them down.
    const plans = page.locator('section:has(h2:text("Custom property: plan (events)")) tr');
    await plans.first().waitFor();
    expect((await plans.allInnerTexts()).map((row) => row.replace(/\s+/g, ' ').trim())).toEqual(
      expect.arrayContaining(['pro 2', 'free 1']),
    );

    // Requests: GoAccess's panels, with the API's numbers.
    const requests = page.locator('[data-metric="Requests"]');
    await requests.waitFor();
    const requestTotal = await apiTotal({ group: 'news', metric: 'requests', interval: '1h', last: '7d' });
    expect(requestTotal).toBe(40);
    expect(await requests.textContent()).toBe('40');
    expect(await page.locator('[data-metric="Bandwidth"]').textContent()).toBe('80.0 kB');
    expect(await page.locator('[data-metric="Bot requests"]').textContent()).toBe('4 (10%)');
    const rowsOf = async (title: string) =>
      (await page.locator(`section:has(h2:text("${title}")) tbody tr`).allInnerTexts()).map((r) =>
        r.replace(/\s+/g, ' ').trim(),
      );
    expect(await rowsOf('Status codes (requests)')).toEqual(['200 34', '404 6']);
    expect(await rowsOf('Not found: paths answered 404')).toEqual(['/missing 6']);
    expect(await rowsOf('Bots (requests)')).toEqual(['Googlebot 4']);

    // The comparison picker: the card's change is the API's against the previous period; with
    // no comparison, no change and no dashed baseline.
    await page.selectOption('#compare', 'previous_period');
    await page.locator('main[aria-busy="false"]').waitFor();
    await page.waitForSelector('h2:text("Pageviews against the previous period (dashed)")');
    const response = await fetch(`${url}/balise/api/v1/series`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        group: 'news',
        metric: 'pageviews',
        interval: '1h',
        last: '7d',
        compare: 'previous_period',
      }),
    });
    const { rows: periodRows } = (await response.json()) as {
      rows: { value: number; baseline: number | null }[];
    };
    const current = periodRows.reduce((sum, r) => sum + r.value, 0);
    const previous = periodRows.reduce((sum, r) => sum + (r.baseline ?? 0), 0);
    expect(previous).toBeGreaterThan(0);
    const periodChange = Math.abs(Math.round(((current - previous) / previous) * 1000) / 10);
    const delta = page.locator('div.card:has([data-metric="Pageviews"]) span');
    expect(await delta.textContent()).toBe(`${periodChange}% vs the previous period`);
    await page.selectOption('#compare', 'none');
    await page.locator('main[aria-busy="false"]').waitFor();
    await page.waitForSelector('h2:text-is("Pageviews")');
    expect(await delta.textContent()).toBe('');
    await page.selectOption('#compare', 'previous_week');
    await page.locator('main[aria-busy="false"]').waitFor();

    // A site with goals: its goals table gives the goals API's visitors.
    await page.selectOption('#scope', 'site:www.quotidien.example');
    const goals = page.locator('section:has(h2:text("Goals (visitors, conversion rate)")) td.n');
    await goals.first().waitFor();
    const report = (await (
      await fetch(`${url}/balise/api/v1/goals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'www.quotidien.example', last: '7d' }),
      })
    ).json()) as { goals: { visitors: number }[] };
    expect(report.goals[0]!.visitors).toBeGreaterThan(0);
    expect(await goals.allTextContents()).toEqual([report.goals[0]!.visitors.toLocaleString('en-US')]);
    await page.selectOption('#scope', 'group:news');
    await page
      .locator('section:has(h2:text("Goals (visitors, conversion rate)"))')
      .waitFor({ state: 'detached' });

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
    // The same for a settings change: refused without the CSRF header, the file untouched.
    const before = readFileSync(join(temp.dir, 'balise.yaml'), 'utf8');
    const change = await page.evaluate(async () => {
      const response = await fetch('/balise/api/v1/settings/sites/www.hebdo.example', {
        method: 'DELETE',
        headers: { 'if-match': 'x' },
      });
      return response.status;
    });
    expect(change).toBe(403);
    expect(readFileSync(join(temp.dir, 'balise.yaml'), 'utf8')).toBe(before);
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });
    expect(problems).toEqual([
      'Failed to load resource: the server responded with a status of 403 (Forbidden)',
      'Failed to load resource: the server responded with a status of 403 (Forbidden)',
    ]);
    await context.close();
  });

  it('has no serious or critical accessibility violation in any view (axe-core)', async () => {
    // axe is injected as a script, which the dashboard's CSP rightly forbids: this context bypasses it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await logIn(page);
    const require = createRequire(import.meta.url);
    const found: string[] = [];
    for (const [view, ready] of VIEWS) {
      await page.goto(`${url}/balise/ui/#/${view}`);
      await page.locator(ready).first().waitFor();
      if (view === 'settings') {
        // The site form too, with a tool's settings form from its manifest.
        await page.click('button:text("Edit www.hebdo.example")');
        await page.selectOption('select:near(button:text("Add tool"))', 'ga4');
        await page.click('button:text("Add tool")');
        await page.locator('fieldset.tool').waitFor();
      }
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
      found.push(...violations.map((v) => `${view}: ${v}`));
    }
    expect(found.filter((v) => / (serious|critical) /.test(v))).toEqual([]);
    await context.close();
  });

  it('shows every view with hostile values as text only: no script, no dialog, no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await logIn(page);
    for (const [view, ready, link] of VIEWS) {
      await page.click(`nav a:text("${link}")`);
      await page.locator(ready).first().waitFor();
      await page.locator('main[aria-busy="false"]').waitFor();
      expect(await page.locator('nav a[aria-current="page"]').textContent()).toBe(link);
      expect(await page.locator('main img, main script, main svg[onload]').count()).toBe(0);
      expect(await page.locator('main').innerText()).not.toContain('Not available');
      await page.screenshot({ path: resolve(ARTIFACTS, `dashboard-${view}.png`), fullPage: true });
    }
    // The alerts' timeline opens the Detections view: the sentence as text, and what became of it.
    await page.click('nav a:text("Detections")');
    await page.locator('h2:text("Alerts")').waitFor();
    // (The live detectors may have added their own alerts about this test's traffic above it.)
    expect(await page.locator('ol.timeline li', { hasText: 'attacks:' }).first().innerText()).toContain(
      `▲ attacks: ${ALERT_TEXT} (rate limited)`,
    );
    // A note on it, written in the timeline's form: kept by the API, shown as text.
    const item = page.locator('li[data-alert="alert-1"]');
    await item.locator('input').fill(HOSTILE_TITLE);
    await item.locator('button:text("Save note")').click();
    await item.locator('text=Saved.').waitFor();
    expect(await item.locator('.note').textContent()).toBe(` — note: ${HOSTILE_TITLE}`);
    const listed = await fetch(`${url}/balise/api/v1/alerts?detector=attacks`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await listed.json()) as { alerts: { note?: { text: string } }[] }).alerts[0]!.note?.text).toBe(
      HOSTILE_TITLE,
    );
    await page.click('nav a:text("Realtime")');
    await page.locator('[data-metric="Pageviews (30 min)"]').waitFor();
    // The realtime view: the last 30 minutes as the API counts them, hostile paths as text.
    const recent = await apiTotal({ group: 'news', metric: 'pageviews', interval: '1m', last: '30m' });
    expect(recent).toBeGreaterThanOrEqual(40);
    expect(await page.locator('[data-metric="Pageviews (30 min)"]').textContent()).toBe(String(recent));
    expect(await page.locator('main').innerText()).toContain(HOSTILE_PATH);
    // Time-zone and custom-range pickers: the overview answers in the chosen zone and dates.
    await page.click('nav a:text("Overview")');
    await page.locator('[data-metric="Pageviews"]').waitFor();
    await page.selectOption('#tz', 'America/New_York');
    await page.locator('main[aria-busy="false"]').waitFor();
    await page.waitForSelector('text=Times in America/New_York.');
    await page.selectOption('#range', 'custom');
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    await page.fill('#from', weekAgo);
    await page.fill('#to', today);
    await page.locator('#to').dispatchEvent('change');
    await page.locator('main[aria-busy="false"]').waitFor();
    const customTotal = await apiTotal({
      group: 'news',
      metric: 'pageviews',
      interval: '1d',
      from: weekAgo,
      to: new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10),
      tz: 'America/New_York',
    });
    expect(await page.locator('[data-metric="Pageviews"]').textContent()).toBe(
      customTotal.toLocaleString('en-US'),
    );
    // DLP findings by kind (never values) and the egress log, in Settings.
    await page.click('nav a:text("Settings")');
    await page.locator('button:text("Add a site")').waitFor();
    const text = await page.locator('main').innerText();
    expect(text).toContain('www.quotidien.example — email');
    expect(text).not.toContain('jane.doe');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('changes a privacy switch in Settings and the next event’s stored row changes', async () => {
    const { page, problems } = await openView('Settings');
    expect((await collect('www.quotidien.example', { title: 'before the switch' })).statusCode).toBe(204);
    expect((await storedRow('before the switch')).referrer_host).toBe('news.example.org');

    await page.click('button:text("Edit www.quotidien.example")');
    // An invalid value is refused with its path, and nothing changes.
    await page.fill('input:near(label:text("Time zone"))', 'Mars/Olympus');
    await page.click('button:text("Save and apply")');
    await page.waitForSelector('.problems >> text=sites[0].timezone');
    await page.fill('input:near(label:text("Time zone"))', '');
    const explanation = await page.locator('[data-switch="referrer"]').getAttribute('aria-describedby');
    expect(await page.locator(`#${explanation}`).textContent()).toContain('external');
    await page.selectOption('[data-switch="referrer"]', 'remove');
    await page.click('button:text("Save and apply")');
    await page.waitForSelector('text=Saved and applied: www.quotidien.example.');

    expect((await collect('www.quotidien.example', { title: 'after the switch' })).statusCode).toBe(204);
    const after = await storedRow('after the switch');
    expect(after.referrer_host).toBeNull();
    expect(after.referrer_class).toBeNull();
    const settings = await fetch(`${url}/balise/api/v1/settings`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const view = (await settings.json()) as { sites: { host: string; privacy?: unknown }[] };
    // The form keeps what it does not edit (the site's goals).
    expect(view.sites[0]).toEqual({
      host: 'www.quotidien.example',
      group: 'news',
      goals: [{ name: 'Any page', path: '/*' }],
      privacy: { referrer: 'remove' },
    });
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-settings-saved.png'), fullPage: true });
    expect(problems).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    await page.close();
  });

  it('adds a webhook tool from its manifest’s form and the receiver gets the next event', async () => {
    const { page, problems } = await openView('Settings');
    await page.click('button:text("Edit www.hebdo.example")');
    await page.selectOption('select:near(button:text("Add tool"))', 'webhook');
    await page.click('button:text("Add tool")');
    const tool = page.locator('fieldset.tool');
    await tool.locator('[data-setting="url"]').fill(`${hook.url}/from-dashboard`);
    await tool.locator('[data-setting="secret"]').fill('hook-secret-0123');
    // Per-tool privacy, stricter than the site's: this tool gets no referrer at all.
    await tool.locator('summary').click();
    await tool.locator('[data-tool-switch="referrer"]').selectOption('remove');
    await tool.locator('[data-tool-switch="clientId"]').selectOption('constant');
    await tool.locator('input:near(label:text("Constant client id"))').first().fill('everyone');
    await page.click('button:text("Save and apply")');
    await page.waitForSelector('text=Saved and applied: www.hebdo.example.');

    expect((await collect('www.hebdo.example', { title: 'for the hook' })).statusCode).toBe(204);
    for (let i = 0; i < 50 && hook.received.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hook.received.map((r) => [r.url, r.status])).toEqual([['/from-dashboard', 200]]);
    const [body] = eventsIn(hook.received[0]!) as {
      page: { title: string; referrer: unknown };
      visitor: { ip: unknown; id: unknown };
    }[];
    expect(body!.page.title).toBe('for the hook');
    expect(body!.page.referrer).toBeNull();
    expect(body!.visitor.id).toBe('everyone');
    expect(body!.visitor.ip).toBeNull();
    const written = parse(readFileSync(join(temp.dir, 'balise.yaml'), 'utf8')) as {
      sites: { host: string; tools?: { id: string; privacy?: unknown }[] }[];
    };
    expect(written.sites.find((s) => s.host === 'www.hebdo.example')!.tools).toMatchObject([
      {
        id: 'webhook',
        component: 'webhook',
        privacy: { referrer: 'remove', clientId: { constant: 'everyone' } },
      },
    ]);

    // The secret is never sent back to the browser; the egress log shows what left.
    for (let i = 0; i < 50; i++) {
      const egress = await fetch(`${url}/balise/api/v1/egress?since=1h`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (((await egress.json()) as { records: unknown[] }).records.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.reload();
    await page.locator('button:text("Add a site")').waitFor();
    await page.waitForSelector('td:text("/from-dashboard")');
    await page.click('button:text("Edit www.hebdo.example")');
    expect(await page.locator('[data-setting="secret"]').inputValue()).toBe('••••••••');
    expect(await page.content()).not.toContain('hook-secret-0123');
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard-settings-tool.png'), fullPage: true });

    // Triggers and actions: JSON that does not parse is named before anything is sent; then the
    // hook gets only signups.
    await page.fill('[data-site-triggers]', '[{"id": "signups", "match": {"type": "track", "name": "sign*"}');
    await page.click('button:text("Save and apply")');
    await page.waitForSelector('text=Triggers (JSON): not valid JSON');
    await page.fill(
      '[data-site-triggers]',
      '[{"id": "signups", "match": {"type": "track", "name": "sign*"}}]',
    );
    await page.fill('[data-tool-actions]', '[{"trigger": "signups", "fields": {"origin": "dashboard"}}]');
    await page.click('button:text("Save and apply")');
    await page.waitForSelector('text=Saved and applied: www.hebdo.example.');
    const delivered = hook.received.length;
    expect((await collect('www.hebdo.example', { title: 'not a signup' })).statusCode).toBe(204);
    expect(
      (await collect('www.hebdo.example', { eventType: 'track', name: 'signup', payload: { plan: 'pro' } }))
        .statusCode,
    ).toBe(204);
    for (let i = 0; i < 50 && hook.received.length === delivered; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fired = hook.received.slice(delivered).flatMap(eventsIn) as { name: string; properties: unknown }[];
    expect(fired.map((e) => [e.name, e.properties])).toEqual([
      ['signup', { plan: 'pro', origin: 'dashboard' }],
    ]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('adds a site from Settings (it joins the pickers and takes events at once) and removes it', async () => {
    const { page, problems } = await openView('Settings');
    await page.click('button:text("Add a site")');
    await page.fill('input:near(label:text("Host name"))', 'www.radio.example');
    await page.fill('input:near(label:text("Group"))', 'radio');
    await page.click('button:text("Add site")');
    await page.waitForSelector('text=Saved and applied: www.radio.example.');
    expect((await collect('www.radio.example', { title: 'on the radio' })).statusCode).toBe(204);
    await page.click('nav a:text("Overview")');
    // The overview re-reads the session: the new site and group join the picker.
    await page.locator('#scope option', { hasText: 'www.radio.example' }).waitFor({ state: 'attached' });
    expect(await page.locator('#scope option').allTextContents()).toEqual(
      expect.arrayContaining(['Group radio', 'www.radio.example']),
    );
    await page.click('nav a:text("Settings")');
    await page.click('button:text("Edit www.radio.example")');
    await page.click('button:text("Remove this site")');
    await page.click('button:text("Click again to remove www.radio.example")');
    await page.waitForSelector('text=Removed www.radio.example.');
    expect((await collect('www.radio.example')).statusCode).toBe(403);
    expect(await storedRow('on the radio')).toMatchObject({ site: 'www.radio.example' });
    expect(problems).toEqual([]);
    await page.close();
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
