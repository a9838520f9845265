import { parseDevice } from '../../enrich/user-agent.js';
import { set, type Step } from '../step.js';

/**
 * Replaces the User-Agent with families: browser, OS, device type and a bot flag. A device type
 * the log gives itself (CDN exports) wins, except for bots.
 */
export const putDevice: Step = {
  name: 'putDevice',
  reads: ['userAgent', 'deviceType'],
  skip: ['dns'],
  run({ raw }) {
    const device = parseDevice(raw.userAgent);
    return set({
      browser: device.browser,
      os: device.os,
      deviceType: raw.deviceType && !device.isBot ? raw.deviceType : device.deviceType,
      isBot: device.isBot,
    });
  },
};
