import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../module-worker.js';
import type { Chunk } from './chunks.js';
import { ImportError } from './import-error.js';
import type { ChunkResult, ProcessSetup, WorkerSetup } from './process.js';
import type { LineIdScheme } from '../store/ids.js';
import type { ChunkAnswer, ChunkMessage, WorkerStart } from './worker.js';

/**
 * Runs chunks somewhere and answers each. Memory moves with the work: a chunk's bytes come back
 * into `spareInput` once processed, and CSV memory the caller has written out goes into
 * `spareCsv` to be filled again.
 */
export interface Runner {
  run(chunk: Chunk): Promise<ChunkResult>;
  readonly spareInput: (ArrayBuffer | SharedArrayBuffer)[];
  readonly spareCsv: (ArrayBuffer | SharedArrayBuffer)[];
  close(): Promise<void>;
}

/**
 * A worker running worker.ts next to this module: built into one file with its dependencies
 * (worker.bundle.js, made by `npm run build`: it starts in a quarter of the CPU), or — when this
 * module runs as TypeScript (tests, benches) — the TypeScript itself, loaded through tsx's API.
 */
function newWorker(start: WorkerStart): Worker {
  return moduleWorker(import.meta.url, './worker.bundle.js', './worker.ts', start);
}

/**
 * Worker threads that process chunks. Chunks are read into, and their CSV written into, memory
 * shared with the workers once at start (`slots` of each): passing a slot's number instead of
 * transferring memory per chunk keeps the importing thread from collecting garbage for memory
 * that only changed hands (about 1 s of CPU per million lines). Memory outside the slots (a CSV
 * that outgrew its slot) is transferred as before. A `setup` without the store's line-id scheme
 * (workers started before the store was open) gets it from `lineIds`; if that fails, the workers
 * are stopped and the start fails with its error.
 */
export async function startWorkers(
  setup: WorkerSetup,
  count: number,
  slots: number,
  chunkCapacity: number,
  lineIds?: Promise<LineIdScheme>,
): Promise<Runner> {
  const pending = new Map<
    number,
    { resolve: (r: ChunkResult) => void; reject: (e: Error) => void; inputSlot?: number | undefined }
  >();
  let seq = 0;
  let broken: Error | undefined;
  // CSV room for twice a chunk: enough for log lines of the usual length; a chunk of short lines,
  // whose CSV needs more, is written into memory of its own (then transferred).
  const inputs = Array.from({ length: slots + 1 }, () => new SharedArrayBuffer(chunkCapacity));
  const csvs = Array.from({ length: slots }, () => new SharedArrayBuffer(2 * chunkCapacity));
  const inputSlot = new Map(inputs.map((memory, index) => [memory as ArrayBufferLike, index]));
  const csvSlot = new Map(csvs.map((memory, index) => [memory as ArrayBufferLike, index]));
  const spareInput: (ArrayBuffer | SharedArrayBuffer)[] = [...inputs];
  const spareCsv: (ArrayBuffer | SharedArrayBuffer)[] = [...csvs];
  const fail = (error: Error) => {
    broken ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  const workers = Array.from({ length: count }, () => newWorker({ setup, inputs, csvs }));
  const ready = workers.map(
    (worker) =>
      new Promise<void>((resolve, reject) => {
        worker.once('message', (first: { ready?: true; failed?: string }) => {
          if (first.ready) resolve();
          else reject(new ImportError(first.failed ?? 'import worker failed to start'));
        });
        worker.on('message', (answer: Partial<ChunkAnswer>) => {
          if (answer.seq === undefined) return;
          const waiter = pending.get(answer.seq);
          pending.delete(answer.seq);
          if (waiter?.inputSlot !== undefined) spareInput.push(inputs[waiter.inputSlot]!);
          if (answer.input) spareInput.push(answer.input);
          const result = answer.result;
          if (result && answer.csvSlot !== undefined)
            result.csv = Buffer.from(csvs[answer.csvSlot]!, 0, answer.csvLength ?? 0);
          if (result) waiter?.resolve(result);
          else waiter?.reject(new Error(`import worker: ${answer.error ?? 'no answer'}`));
        });
        worker.on('error', (error) => {
          reject(error);
          fail(error);
        });
        worker.on('exit', (code) => {
          const error = new Error(`import worker exited with code ${code}`);
          reject(error);
          if (code !== 0) fail(error);
        });
      }),
  );
  for (const promise of ready) promise.catch(() => undefined); // all are awaited below; none unhandled
  try {
    // Workers started before the store was open get its line-id scheme once it is known.
    if (setup.lineIds === undefined) {
      const scheme = await lineIds!;
      for (const worker of workers) worker.postMessage({ lineIds: scheme });
    }
    await Promise.all(ready);
  } catch (error) {
    // One worker could not start (e.g. an unreadable geolocation file): none is left running.
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }
  let next = 0;
  return {
    spareInput,
    spareCsv,
    run(chunk) {
      if (broken) return Promise.reject(broken);
      const { bytes, ...lines } = chunk;
      const transfer: ArrayBuffer[] = [];
      const slot = bytes.byteOffset === 0 ? inputSlot.get(bytes.buffer) : undefined;
      let input: ChunkMessage['input'];
      if (slot !== undefined) input = { slot, length: bytes.byteLength };
      else {
        input = bytes;
        transfer.push(bytes.buffer as ArrayBuffer);
      }
      const spare = spareCsv.pop();
      let csv: ChunkMessage['csv'];
      if (spare !== undefined) {
        csv = csvSlot.get(spare);
        if (csv === undefined) {
          csv = spare as ArrayBuffer;
          transfer.push(csv);
        }
      }
      const message: ChunkMessage = { seq: seq++, chunk: lines, input, csv };
      const answer = new Promise<ChunkResult>((resolve, reject) =>
        pending.set(message.seq, { resolve, reject, inputSlot: slot }),
      );
      // Handled here too: answers still out when the import stops on an error are not awaited.
      answer.catch(() => undefined);
      // Round robin: chunks are alike in size, and answers are put back in order by the caller.
      workers[next++ % workers.length]!.postMessage(message, transfer);
      return answer;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/** A runner in the importing thread itself (one worker's work, without a worker: `workers: 0`). */
export async function inThread(setup: ProcessSetup): Promise<Runner> {
  // Loaded here only: with worker threads, the pipeline's modules stay out of this thread.
  const { ChunkProcessor } = await import('./process.js');
  const processor = await ChunkProcessor.create(setup);
  const spareInput: (ArrayBuffer | SharedArrayBuffer)[] = [];
  const spareCsv: (ArrayBuffer | SharedArrayBuffer)[] = [];
  return {
    spareInput,
    spareCsv,
    run: async (chunk) => {
      const result = await processor.process(chunk, spareCsv.pop());
      spareInput.push(chunk.bytes.buffer);
      return result;
    },
    close: () => Promise.resolve(),
  };
}
