import { isbot } from 'isbot';
import { Memo } from '../memo.js';
import { UAParser } from 'ua-parser-js';

/** The `userAgent` switch (docs/privacy.md). */
export type UserAgentRule = 'keep' | 'reduce' | 'remove';

type Platform = 'windows' | 'mac' | 'linux' | 'cros' | 'android' | 'android-mobile' | 'iphone' | 'ipad';

// Frozen platform tokens of Chrome's User-Agent Reduction (and Firefox's and Safari's equivalents).
const CHROME_PLATFORM: Record<Platform, string> = {
  windows: 'Windows NT 10.0; Win64; x64',
  mac: 'Macintosh; Intel Mac OS X 10_15_7',
  linux: 'X11; Linux x86_64',
  cros: 'X11; CrOS x86_64',
  android: 'Linux; Android 10; K',
  'android-mobile': 'Linux; Android 10; K',
  iphone: 'iPhone; CPU iPhone OS 18_6 like Mac OS X',
  ipad: 'iPad; CPU OS 18_6 like Mac OS X',
};
const FIREFOX_PLATFORM: Record<Platform, string> = {
  windows: 'Windows NT 10.0; Win64; x64',
  mac: 'Macintosh; Intel Mac OS X 10.15',
  linux: 'X11; Linux x86_64',
  cros: 'X11; CrOS x86_64',
  android: 'Android 10; Tablet',
  'android-mobile': 'Android 10; Mobile',
  iphone: 'iPhone; CPU iPhone OS 18_6 like Mac OS X',
  ipad: 'iPad; CPU OS 18_6 like Mac OS X',
};

// Chromium browsers other than Chrome keep their own token, with the major version only.
const CHROMIUM_TOKENS: Record<string, string> = {
  Edge: 'Edg',
  Opera: 'OPR',
  'Samsung Internet': 'SamsungBrowser',
  Yandex: 'YaBrowser',
  Vivaldi: 'Vivaldi',
};
// Browsers on iOS (all WebKit) keep their own token.
const IOS_TOKENS: Record<string, string> = { Chrome: 'CriOS', Firefox: 'FxiOS', Edge: 'EdgiOS' };

function platformOf(os: string | undefined, deviceType: string | undefined, ua: string): Platform | null {
  switch (os) {
    case 'Windows':
      return 'windows';
    case 'Mac OS':
    case 'macOS':
      return 'mac';
    case 'iOS':
      return /iPad/.test(ua) || deviceType === 'tablet' ? 'ipad' : 'iphone';
    case 'Android':
      return deviceType === 'mobile' || / Mobile/.test(ua) ? 'android-mobile' : 'android';
    case 'Chromium OS':
      return 'cros';
    case undefined:
      return null;
    default:
      return /Linux|BSD|Ubuntu|Debian|Fedora|Mint|SUSE|Arch|Gentoo|CentOS|Red ?Hat|Slackware|Mandriva/i.test(
        os,
      )
        ? 'linux'
        : null;
  }
}

/** A product name cut at its first digit: `Safari5530.17` → `Safari`, `grub-client-1.5.3` → `grub-client`. */
function productName(name: string): string {
  return name.replace(/[-_. ]?\d.*$/, '').replace(/[^\w .+-]/g, '');
}

/** The product name of a bot (e.g. `Googlebot`), without version, URL or contact. */
function botName(ua: string): string {
  const named = /([A-Za-z][\w-]*(?:bot|crawler|spider|slurp|fetcher)[\w-]*)/i.exec(ua)?.[1];
  return productName(named ?? /^([A-Za-z][\w.-]*)/.exec(ua)?.[1] ?? '') || 'bot';
}

const major = (value: string | undefined): string | null =>
  value && /^\d+$/.test(value) ? String(Number(value)) : null;

/**
 * Maps any User-Agent to the frozen form Chrome's User-Agent Reduction uses, keeping only the
 * browser family, major version, platform family and mobile bit; Firefox keeps its own shape
 * (`rv:<major>.0`, `Gecko/20100101`), Safari `Version/<major>.0` and the frozen OS token. Bots
 * keep their product name only; anything else keeps `<product>/<major>`. Returns null for an
 * empty User-Agent.
 */
export function reduceUserAgent(ua: string): string | null {
  return reduced.get(ua, reduceUncached);
}

/** Reduced forms by User-Agent, like the device families (src/enrich/user-agent.ts). */
const reduced = new Memo<string | null>(10_000);

function reduceUncached(ua: string): string | null {
  const text = ua.trim();
  if (text.length === 0) return null;
  if (isbot(text)) return botName(text);
  const { browser, os, device, engine } = new UAParser(text).getResult();
  const name = browser.name;
  const version = major(browser.major);
  const platform = platformOf(os.name, device.type, text);
  if (name && version && platform) {
    const mobile = platform === 'android-mobile' || platform === 'iphone' || platform === 'ipad';
    if (platform === 'iphone' || platform === 'ipad') {
      const head = `Mozilla/5.0 (${CHROME_PLATFORM[platform]}) AppleWebKit/605.1.15 (KHTML, like Gecko)`;
      if (name === 'Mobile Safari' || name === 'Safari')
        return `${head} Version/${version}.0 Mobile/15E148 Safari/604.1`;
      const token = IOS_TOKENS[name];
      if (token) return `${head} ${token}/${version}.0 Mobile/15E148 Safari/604.1`;
    } else if (name === 'Firefox' || name === 'Mobile Firefox') {
      const gecko = platform.startsWith('android') ? `${version}.0` : '20100101';
      return `Mozilla/5.0 (${FIREFOX_PLATFORM[platform]}; rv:${version}.0) Gecko/${gecko} Firefox/${version}.0`;
    } else if (platform === 'mac' && name === 'Safari' && engine.name === 'WebKit') {
      return `Mozilla/5.0 (${CHROME_PLATFORM.mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${version}.0 Safari/605.1.15`;
    } else if (name === 'Chrome WebView' && platform.startsWith('android')) {
      const chromeMajor = major(/Chrome\/(\d+)/.exec(text)?.[1]) ?? version;
      return `Mozilla/5.0 (Linux; Android 10; K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeMajor}.0.0.0 ${platform === 'android-mobile' ? 'Mobile ' : ''}Safari/537.36`;
    } else if (engine.name === 'Blink' && (name.startsWith('Chrom') || CHROMIUM_TOKENS[name])) {
      const chromeMajor = major(/Chrome\/(\d+)/.exec(text)?.[1]) ?? version;
      const own = CHROMIUM_TOKENS[name];
      const suffix = own ? ` ${own}/${version}.0${own === 'SamsungBrowser' ? '' : '.0.0'}` : '';
      const safari = mobile ? 'Mobile Safari/537.36' : 'Safari/537.36';
      return `Mozilla/5.0 (${CHROME_PLATFORM[platform]}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chromeMajor}.0.0.0 ${safari}${suffix}`;
    }
  }
  const product = /^([A-Za-z][\w.+-]*)(?:\/(\d+))?/.exec(text);
  // Names are cut at their first digit (`Safari5530.17` → `Safari`, `grub-client-1.5.3` →
  // `grub-client`), and a name that still holds the device model (e.g. `NokiaN70`) becomes `Other`.
  const cleaned = productName(name ?? product?.[1] ?? 'Other') || 'Other';
  const model = device.model;
  const isDevice = !!model && model.length > 1 && model !== name && (product?.[1] ?? '').includes(model);
  const family = isDevice ? 'Other' : cleaned;
  const familyMajor = isDevice ? null : name ? version : major(product?.[2]);
  return familyMajor ? `${family}/${familyMajor}` : family;
}

/** Applies the `userAgent` switch. */
export function applyUserAgentRule(ua: string, rule: UserAgentRule): string | null {
  if (rule === 'keep') return ua;
  if (rule === 'remove') return null;
  return reduceUserAgent(ua);
}

/** Anchored patterns of every form `reduceUserAgent` produces (the property test checks each output). */
export const REDUCED_UA_TEMPLATES: readonly RegExp[] = [
  /^Mozilla\/5\.0 \((Windows NT 10\.0; Win64; x64|Macintosh; Intel Mac OS X 10_15_7|X11; Linux x86_64|X11; CrOS x86_64|Linux; Android 10; K)\) AppleWebKit\/537\.36 \(KHTML, like Gecko\) Chrome\/\d+\.0\.0\.0 (Mobile )?Safari\/537\.36( (Edg|OPR|YaBrowser|Vivaldi)\/\d+\.0\.0\.0| SamsungBrowser\/\d+\.0)?$/,
  /^Mozilla\/5\.0 \((Windows NT 10\.0; Win64; x64|Macintosh; Intel Mac OS X 10\.15|X11; Linux x86_64|X11; CrOS x86_64|Android 10; (Mobile|Tablet)); rv:(\d+)\.0\) Gecko\/(20100101|\d+\.0) Firefox\/\d+\.0$/,
  /^Mozilla\/5\.0 \((iPhone; CPU iPhone OS 18_6 like Mac OS X|iPad; CPU OS 18_6 like Mac OS X)\) AppleWebKit\/605\.1\.15 \(KHTML, like Gecko\) (Version|CriOS|FxiOS|EdgiOS)\/\d+\.0 Mobile\/15E148 Safari\/604\.1$/,
  /^Mozilla\/5\.0 \(Macintosh; Intel Mac OS X 10_15_7\) AppleWebKit\/605\.1\.15 \(KHTML, like Gecko\) Version\/\d+\.0 Safari\/605\.1\.15$/,
  /^Mozilla\/5\.0 \(Linux; Android 10; K; wv\) AppleWebKit\/537\.36 \(KHTML, like Gecko\) Version\/4\.0 Chrome\/\d+\.0\.0\.0 (Mobile )?Safari\/537\.36$/,
  /^[\w .+-]+(\/\d+)?$/,
];
