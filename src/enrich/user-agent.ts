import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import { Memo } from '../memo.js';

/** What Balise keeps of a User-Agent: families and classes only, never the string itself. */
export interface Device {
  browser: string | null;
  os: string | null;
  /** desktop, mobile, tablet, tv, console, wearable, embedded, bot */
  deviceType: string;
  isBot: boolean;
}

const devices = new Memo<Device>(10_000);

/**
 * Parses a User-Agent into families (ua-parser-js v1, MIT; bots by isbot). Results are cached
 * per node in a bounded in-memory map (cleared when full), never persisted.
 */
export function parseDevice(userAgent: string): Device {
  return devices.get(userAgent, parseUncached);
}

function parseUncached(userAgent: string): Device {
  const result = new UAParser(userAgent).getResult();
  const bot = userAgent.length === 0 || isbot(userAgent);
  const type = result.device.type;
  const device: Device = {
    browser: result.browser.name ?? null,
    os: result.os.name ?? null,
    deviceType: bot ? 'bot' : type === 'smarttv' ? 'tv' : (type ?? 'desktop'),
    isBot: bot,
  };
  return device;
}
