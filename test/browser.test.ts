import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';
import { readEvents, startLiveSite, tempDir, type LiveSite } from './helpers.js';

const temp = tempDir();
let live: LiveSite;

beforeAll(async () => {
  live = await startLiveSite(temp.dir);
});

afterAll(async () => {
  await live.close();
  temp.cleanup();
});

describe('the client script in real headless Chromium', () => {
  it('stores pageviews (load, SPA, back), queued calls, zaraz.track, dataLayer.push and ecommerce', async () => {
    const { browser, close } = await launchChromium();
    try {
      // A window 1200 CSS pixels wide: a laptop's screen class, its width never stored.
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Hold the script back so that a call made before it loads must be queued and replayed.
      await page.route('**/balise/s.js', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        await route.continue();
      });
      await page.goto(`${live.siteUrl}/?utm_source=newsletter&email=jane.doe@example.fr`, {
        waitUntil: 'domcontentloaded',
      });
      await page.evaluate('window.balise.track("early")');
      await page.waitForFunction('"zaraz" in window');
      await page.click('a[href="/politique"]');
      await page.waitForURL('**/politique');
      // The new page's pageview sent (a tick after the address changed) before its variable is
      // set: the pageviews below carry none.
      await live.waitForAccepted(3);
      await page.evaluate('balise.set("section", "politique")');
      await page.click('#track');
      await page.click('#datalayer');
      await page.click('#buy');
      await page.goBack();
      await page.waitForURL(`${live.siteUrl}/?**`);
      // An app that navigates and sets its new page's variable in the same task: the variable is
      // the new page's (its pageview, sent a tick later, and its events), not wiped by it.
      await page.evaluate('history.pushState({}, "", "/spa-next"); balise.set("step", "two")');
      await page.evaluate('balise.track("spa_step")');
      await live.waitForAccepted(9);

      expect(errors).toEqual([]);
      expect(await context.cookies()).toEqual([]);
      expect(await page.evaluate<number>('localStorage.length + sessionStorage.length')).toBe(0);
      await context.close();
    } finally {
      await close();
    }
    await live.gateway.close();
    const rows = await readEvents(temp.dir);
    const summary = rows.map((r) => `${String(r.type)} ${String(r.name ?? r.path)}`).sort();
    expect(summary).toEqual(
      [
        'pageview /',
        'pageview /politique',
        'pageview /',
        'pageview /spa-next',
        'event early',
        'event spa_step',
        'event newsletter_signup',
        'event video_play',
        'ecommerce Order Completed',
      ].sort(),
    );
    expect(new Set(rows.map((r) => r.screen_class))).toEqual(new Set(['laptop']));
    expect(Object.keys(rows[0]!).filter((column) => /width|viewport|screen_w/.test(column))).toEqual([]);
    const spa = rows.find((r) => r.path === '/politique')!;
    expect(spa.title).toBe('Politique — Le Quotidien Démo');
    // balise.set with the default page scope adds the variable to later events of the same page
    // only: the pageview after going back carries nothing.
    const pageviews = rows.filter((r) => r.type === 'pageview');
    expect(pageviews.filter((r) => r.path !== '/spa-next').map((r) => r.props)).toEqual([null, null, null]);
    expect(JSON.parse(String(pageviews.find((r) => r.path === '/spa-next')!.props))).toEqual({ step: 'two' });
    expect(JSON.parse(String(rows.find((r) => r.name === 'spa_step')!.props))).toEqual({ step: 'two' });
    expect(JSON.parse(String(rows.find((r) => r.name === 'newsletter_signup')!.props))).toEqual({
      section: 'politique',
      plan: 'free',
    });
    expect(JSON.parse(String(rows.find((r) => r.name === 'video_play')!.props))).toEqual({
      section: 'politique',
      video: 'journal-20h',
    });
    expect(JSON.parse(String(rows.find((r) => r.name === 'Order Completed')!.props))).toMatchObject({
      total: 9.99,
    });
    for (const r of rows) {
      expect(r.site).toBe('localhost');
      // The values, not the column names (`utm_source` is one: the campaign is kept on purpose).
      expect(JSON.stringify(Object.values(r))).not.toMatch(
        /utm_source|jane\.doe|127\.0\.0\.1|HeadlessChrome/,
      );
    }
  });
});
