import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

/** What Balise keeps of a User-Agent: families and classes only, never the string itself. */
export interface Device {
  browser: string | null;
  os: string | null;
  /** desktop, mobile, tablet, tv, console, wearable, embedded, bot */
  deviceType: string;
  isBot: boolean;
}

const CACHE_LIMIT = 10_000;
const cache = new Map<string, Device>();

/**
 * Parses a User-Agent into families (ua-parser-js v1, MIT; bots by isbot). Results are cached
 * per node in a bounded in-memory map (cleared when full), never persisted.
 */
export function parseDevice(userAgent: string): Device {
  const cached = cache.get(userAgent);
  if (cached) return cached;
  const result = new UAParser(userAgent).getResult();
  const bot = userAgent.length === 0 || isbot(userAgent);
  const type = result.device.type;
  const device: Device = {
    browser: result.browser.name ?? null,
    os: result.os.name ?? null,
    deviceType: bot ? 'bot' : type === 'smarttv' ? 'tv' : (type ?? 'desktop'),
    isBot: bot,
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(userAgent, device);
  return device;
}
