import { parseDevice } from '../../enrich/user-agent.js';
import { ok, type StepResult } from '../result.js';
import type { WorkingEvent } from '../event.js';

/** Replaces the User-Agent with families: browser, OS, device type and a bot flag. */
export function putDevice(event: WorkingEvent): StepResult<WorkingEvent> {
  const device = parseDevice(event.raw.userAgent);
  event.row.browser = device.browser;
  event.row.os = device.os;
  event.row.deviceType = device.deviceType;
  event.row.isBot = device.isBot;
  return ok(event);
}
