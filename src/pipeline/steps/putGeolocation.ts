import { ok, type StepResult } from '../result.js';
import type { PipelineContext, WorkingEvent } from '../event.js';

/** Geolocates the visitor IP (country, region, ASN) before the IP is dropped. */
export function putGeolocation(event: WorkingEvent, ctx: PipelineContext): StepResult<WorkingEvent> {
  const geo = ctx.geo(event.raw.ip);
  event.row.country = geo.country;
  event.row.region = geo.region;
  event.row.asn = geo.asn;
  return ok(event);
}
