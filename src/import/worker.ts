// A worker thread of `balise import`: processes the chunks the importing thread sends, in the
// order they come, and answers each with its ChunkResult (the CSV bytes transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import type { Chunk } from './chunks.js';
import { ChunkProcessor, type ProcessSetup } from './process.js';

/** A chunk sent to a worker, with the number the answer carries. */
export interface ChunkMessage {
  seq: number;
  chunk: Chunk;
}

const port = parentPort!;
try {
  const processor = await ChunkProcessor.create(workerData as ProcessSetup);
  port.on('message', (message: ChunkMessage) => {
    const chunk = {
      ...message.chunk,
      bytes: Buffer.from(
        message.chunk.bytes.buffer,
        message.chunk.bytes.byteOffset,
        message.chunk.bytes.byteLength,
      ),
    };
    processor.process(chunk).then(
      (result) => port.postMessage({ seq: message.seq, result }, [result.csv.buffer as ArrayBuffer]),
      (error: unknown) =>
        port.postMessage({ seq: message.seq, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}
