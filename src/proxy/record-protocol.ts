// The messages between the proxy's recording thread (record-worker.ts) and the gateway's thread
// (requests.ts). Kept apart so that the gateway's thread never loads the worker's module.
import type { SiteConfig } from '../config/schema.js';
import type { GeoData, GeoFiles } from '../enrich/geo.js';
import type { RawEvent } from '../pipeline/event.js';

/** The recording thread's niceness: it yields to the thread that serves the requests (and to an upstream on this machine). */
export const RECORDING_NICENESS = 10;

/** What the recording thread starts with (structured-cloneable: the geolocation bytes are shared). */
export interface RecordStart {
  geo: GeoData;
  geoFiles: GeoFiles;
  /** The node rows are stamped with when the event names none. */
  node: string | null;
}

/**
 * Messages to the recording thread: a batch of proxied requests (each naming its site by a
 * number; a site's configuration comes once, with the first batch that names it), or the answer
 * to a salt it asked for.
 */
export type ToRecorder =
  | { kind: 'batch'; seq: number; sites: [number, SiteConfig][]; events: [number, RawEvent][] }
  | { kind: 'salt'; day: string; salt?: Uint8Array; error?: string };

/** A batch's outcome: its rows as spool lines with their times, and what the pipeline counted. */
export interface RecordedBatch {
  kind: 'lines';
  seq: number;
  text: string;
  ts: number[];
  /** Events the pipeline dropped, by reason. */
  dropped: Record<string, number>;
  /** DLP findings, by site and kind (never their values). */
  findings: Record<string, Record<string, number>>;
}

/** Messages from the recording thread: a batch's outcome or failure, or a request for a day's salt. */
export type FromRecorder =
  | RecordedBatch
  | { kind: 'failed'; seq: number; error: string }
  | { kind: 'salt'; day: string; keepFrom: string };
