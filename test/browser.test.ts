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
      await page.evaluate('balise.set("section", "politique")');
      await page.click('#track');
      await page.click('#datalayer');
      await page.click('#buy');
      await page.goBack();
      await page.waitForURL(`${live.siteUrl}/?**`);
      await live.waitForAccepted(7);

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
        'event early',
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
    expect(rows.filter((r) => r.type === 'pageview').map((r) => r.props)).toEqual([null, null, null]);
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
