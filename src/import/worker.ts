// A worker thread of `balise import`: processes the chunks the importing thread sends, in the
// order they come, and answers each with its ChunkResult. Chunk bytes and CSV travel in memory
// shared once at start (slots named by number), so that nothing is transferred per chunk.
import { parentPort, workerData } from 'node:worker_threads';
import type { Chunk } from './chunks.js';
import { lowerThreadPriority } from '../thread-priority.js';
import { WORKER_NICENESS } from './priority.js';
import { ChunkProcessor, type ChunkResult, type WorkerSetup } from './process.js';
import type { LineIdScheme } from '../store/ids.js';

/**
 * What a worker starts with: the import's setup, and the shared memory (the same in every thread)
 * that chunks are read into (`inputs`) and their CSV written into (`csvs`).
 */
export interface WorkerStart {
  /** Without `lineIds` when started before the store was open: it then comes first, as a message. */
  setup: WorkerSetup;
  inputs: SharedArrayBuffer[];
  csvs: SharedArrayBuffer[];
}

/**
 * A chunk sent to a worker, with the number its answer carries. Its bytes are the first `length`
 * bytes of shared input slot `slot`, or (memory outside the slots) transferred; its CSV goes
 * into shared slot `csv`, into transferred memory, or into new memory.
 */
export interface ChunkMessage {
  seq: number;
  chunk: Omit<Chunk, 'bytes'>;
  input: { slot: number; length: number } | Buffer;
  csv?: number | ArrayBuffer | undefined;
}

/**
 * A worker's answer: the chunk's result (its `csv` empty when the bytes are the first
 * `csvLength` of shared slot `csvSlot`), transferred input memory given back, or the error.
 */
export interface ChunkAnswer {
  seq: number;
  result?: ChunkResult;
  csvSlot?: number;
  csvLength?: number;
  input?: ArrayBuffer;
  error?: string;
}

const port = parentPort!;
lowerThreadPriority(WORKER_NICENESS);
try {
  const start = workerData as WorkerStart;
  const lineIds =
    start.setup.lineIds ??
    (await new Promise<LineIdScheme>((resolve) =>
      port.once('message', (message: { lineIds: LineIdScheme }) => resolve(message.lineIds)),
    ));
  const processor = await ChunkProcessor.create({ ...start.setup, lineIds });
  port.on('message', (message: ChunkMessage) => {
    const { input } = message;
    const shared = 'slot' in input;
    const bytes = shared
      ? Buffer.from(start.inputs[input.slot]!, 0, input.length)
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const csvSlot = typeof message.csv === 'number' ? message.csv : undefined;
    const spare = csvSlot === undefined ? message.csv : start.csvs[csvSlot];
    processor.process({ ...message.chunk, bytes }, spare as ArrayBuffer | SharedArrayBuffer | undefined).then(
      (result) => {
        const answer: ChunkAnswer = { seq: message.seq, result };
        const transfer: ArrayBuffer[] = [];
        if (csvSlot !== undefined && result.csv.buffer === start.csvs[csvSlot]) {
          answer.csvSlot = csvSlot;
          answer.csvLength = result.csv.byteLength;
          result.csv = new Uint8Array(0);
        } else if (result.csv.byteLength > 0) transfer.push(result.csv.buffer as ArrayBuffer);
        if (!shared) {
          answer.input = bytes.buffer as ArrayBuffer;
          transfer.push(answer.input);
        }
        port.postMessage(answer, transfer);
      },
      (error: unknown) => {
        const answer: ChunkAnswer = {
          seq: message.seq,
          error: error instanceof Error ? error.message : String(error),
        };
        port.postMessage(answer);
      },
    );
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}
