// The proxy's recording thread: runs each batch of proxied requests through the privacy pipeline
// and makes the rows spool lines, off the thread that serves the requests (docs/proxy.md). The
// day's visitor-hash salt is asked of the gateway's thread, which holds the store.
import { parentPort, workerData } from 'node:worker_threads';
import type { SiteConfig } from '../config/schema.js';
import { GeoLookup } from '../enrich/geo.js';
import { errorLine } from '../errors.js';
import type { PipelineContext } from '../pipeline/event.js';
import { Pipeline } from '../pipeline/runner.js';
import { PIPELINE_STEPS } from '../pipeline/steps.js';
import { VisitorHasher } from '../privacy/visitor-hash.js';
import { spoolLine } from '../store/spool.js';
import { lowerThreadPriority } from '../thread-priority.js';
import {
  RECORDING_NICENESS,
  type FromRecorder,
  type RecordedBatch,
  type RecordStart,
  type ToRecorder,
} from './record-protocol.js';

const port = parentPort!;
lowerThreadPriority(RECORDING_NICENESS);
const start = workerData as RecordStart;
const post = (message: FromRecorder) => port.postMessage(message);
const geo = GeoLookup.fromData(start.geo, start.geoFiles);

const saltWaiters = new Map<string, { resolve: (salt: Buffer) => void; reject: (e: Error) => void }[]>();
const hasher = new VisitorHasher({
  ensureSalt: (day, keepFrom) =>
    new Promise<Buffer>((resolve, reject) => {
      const waiting = saltWaiters.get(day);
      if (waiting) waiting.push({ resolve, reject });
      else {
        saltWaiters.set(day, [{ resolve, reject }]);
        post({ kind: 'salt', day, keepFrom });
      }
    }),
});

let findings: RecordedBatch['findings'] = {};
const context: PipelineContext = {
  node: start.node,
  geo: (ip) => geo.lookup(ip),
  visitorHash: (site, ip, ua, ts) => hasher.hash(site.host, site.timezone, ip, ua, ts),
  countFinding: (site, kind) => {
    const perSite = (findings[site] ??= {});
    perSite[kind] = (perSite[kind] ?? 0) + 1;
  },
};
const pipeline = new Pipeline(PIPELINE_STEPS);
// Sites by the number the gateway gave them; a site changed by a reload comes with a new number
// (its old one may still be named by requests that were in flight, so it is kept).
const sites = new Map<number, SiteConfig>();

async function record(batch: Extract<ToRecorder, { kind: 'batch' }>): Promise<RecordedBatch> {
  for (const [id, site] of batch.sites) sites.set(id, site);
  findings = {};
  const dropped: Record<string, number> = {};
  const ts: number[] = [];
  let text = '';
  for (const [id, raw] of batch.events) {
    const site = sites.get(id);
    if (!site) throw new Error(`site ${id} was never sent`);
    const pending = pipeline.run(raw, site, context);
    const result = pending instanceof Promise ? await pending : pending;
    if (result.kind !== 'ok') dropped[result.reason] = (dropped[result.reason] ?? 0) + 1;
    else {
      text += spoolLine(result.value) + '\n';
      ts.push(result.value.ts);
    }
  }
  return { kind: 'lines', seq: batch.seq, text, ts, dropped, findings };
}

// Batches are recorded one after the other, in the order they came.
let queue = Promise.resolve();
port.on('message', (message: ToRecorder) => {
  if (message.kind === 'salt') {
    const waiting = saltWaiters.get(message.day) ?? [];
    saltWaiters.delete(message.day);
    for (const { resolve, reject } of waiting)
      if (message.salt) resolve(Buffer.from(message.salt));
      else reject(new Error(message.error ?? 'no salt'));
    return;
  }
  const { seq } = message;
  const failure = (error: unknown): FromRecorder => ({
    kind: 'failed',
    seq,
    error: errorLine(error),
  });
  queue = queue
    .then(() => record(message).catch(failure))
    .then((answer) => {
      try {
        post(answer);
      } catch (error) {
        post(failure(error));
      }
    })
    // Whatever happened to this batch, the next ones are still recorded.
    .catch(() => undefined);
});
