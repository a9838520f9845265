// A worker thread of `balise import`: processes the chunks the importing thread sends, in the
// order they come, and answers each with its ChunkResult (the CSV bytes transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import type { Chunk } from './chunks.js';
import { ChunkProcessor, type ChunkResult, type ProcessSetup } from './process.js';

/** A chunk sent to a worker, with the number the answer carries and memory for its CSV. */
export interface ChunkMessage {
  seq: number;
  chunk: Chunk;
  spare?: ArrayBuffer | undefined;
}

/** A worker's answer: the chunk's result, its memory given back, or the error. */
export interface ChunkAnswer {
  seq: number;
  result?: ChunkResult;
  input?: ArrayBuffer;
  error?: string;
}

const port = parentPort!;
try {
  const processor = await ChunkProcessor.create(workerData as ProcessSetup);
  port.on('message', (message: ChunkMessage) => {
    const input = message.chunk.bytes.buffer as ArrayBuffer;
    const chunk = {
      ...message.chunk,
      bytes: Buffer.from(input, message.chunk.bytes.byteOffset, message.chunk.bytes.byteLength),
    };
    processor.process(chunk, message.spare).then(
      (result) => {
        const answer: ChunkAnswer = { seq: message.seq, result, input };
        port.postMessage(answer, [result.csv.buffer as ArrayBuffer, input]);
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
