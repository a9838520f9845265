import { describe, expect, it } from 'vitest';
import { IdQueue } from './id-queue.js';

/** A small deterministic random source (the same run every time). */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

function contents(queue: IdQueue): string[] {
  return Array.from({ length: queue.length }, (_, i) => queue.at(i)!);
}

describe('IdQueue', () => {
  it('behaves as an array used as a queue, across its compactions, for 200,000 random operations', () => {
    const next = random(7);
    const queue = new IdQueue();
    const model: string[] = [];
    let made = 0;
    for (let step = 0; step < 200_000; step++) {
      const roll = next();
      if (roll < 0.5) {
        const id = `d${made++}`;
        queue.push(id);
        model.push(id);
      } else if (roll < 0.9) {
        expect(queue.shift()).toBe(model.shift());
      } else {
        // Take every id of the first `count` whose number is divisible by `by`, as gather does.
        const count = Math.floor(next() * 50);
        const by = 1 + Math.floor(next() * 3);
        const take = (id: string) => Number(id.slice(1)) % by === 0;
        const front = model.slice(0, count);
        const expected = front.filter(take).length;
        expect(queue.takeFromFront(count, take)).toBe(expected);
        model.splice(0, front.length, ...front.filter((id) => !take(id)));
      }
      expect(queue.length).toBe(model.length);
      if (step % 997 === 0) expect(contents(queue)).toEqual(model);
    }
    expect(contents(queue)).toEqual(model);
  });

  it('keeps its order through a backlog drained past the compaction threshold', () => {
    const queue = new IdQueue();
    for (let i = 0; i < 50_000; i++) queue.push(`d${i}`);
    for (let i = 0; i < 40_000; i++) expect(queue.shift()).toBe(`d${i}`);
    queue.push('late');
    expect(queue.length).toBe(10_001);
    expect(queue.at(0)).toBe('d40000');
    expect(queue.at(10_000)).toBe('late');
    expect(queue.at(-1)).toBeUndefined();
    while (queue.length > 0) queue.shift();
    expect(queue.shift()).toBeUndefined();
    expect(queue.at(0)).toBeUndefined();
  });
});
