import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommitPacer } from '../src/store/commit-pacer.js';
import { blankRow } from '../src/store/row.js';
import { Spool } from '../src/store/spool.js';
import { tempDir } from './helpers.js';

// The spool's group commit under an even stream of requests (src/store/commit-pacer.ts): a
// request that comes just after a small group was written waits a millisecond for the ones
// behind it, so that they share a write and an fsync; a quiet gateway's request does not wait.
// (The outbox journal follows: a spool group's events are dispatched to the tools in one turn,
// their deliveries journalled in one group; pacing it too changed nothing measurable.)

const temp = tempDir('balise-pacing-');
afterAll(() => temp.cleanup());

const row = (n: number) =>
  blankRow({
    id: `row-${n}`,
    ts: 1_765_000_000_000 + n,
    site: 'www.example.fr',
    type: 'pageview',
    source: 'browser',
  });

describe('CommitPacer', () => {
  it('lets a group go at once when quiet, waits after two small groups just written, not after a full one', async () => {
    let now = 1000;
    const pacer = new CommitPacer(1, 2, 4, () => now);
    expect(pacer.wait()).toBeUndefined();
    pacer.written(1);
    now += 1;
    const pause = pacer.wait();
    expect(pause).toBeInstanceOf(Promise);
    await pause;
    now += 5;
    expect(pacer.wait()).toBeUndefined();
    pacer.written(2);
    expect(pacer.wait()).toBeInstanceOf(Promise);
    pacer.written(4);
    expect(pacer.wait()).toBeUndefined();
    // A few stragglers after a full group: the wave of answered clients is on its way back.
    pacer.written(3);
    expect(pacer.wait()).toBeUndefined();
    pacer.written(2);
    expect(pacer.wait()).toBeInstanceOf(Promise);
  });
});

describe('group commit under an even stream', () => {
  it('writes requests a millisecond apart in shared groups, every row durable and in order', async () => {
    const dir = join(temp.dir, 'stream');
    // A wider window than the default (5 ms waits, 50 ms busy): timers a millisecond apart may
    // come several apart on a loaded test machine.
    const { spool } = Spool.open(dir, new CommitPacer(5, 50, 4));
    const acks: Promise<void>[] = [];
    for (let n = 0; n < 120; n++) {
      acks.push(spool.append([row(n)]));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(acks);
    const segment = await spool.seal();
    const lines = readFileSync(segment!.path, 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(
      Array.from({ length: 120 }, (_, n) => `row-${n}`),
    );
    // One group per request without the wait (each came after the last one's fsync).
    expect(spool.groups, `${spool.groups} groups`).toBeLessThan(120 / 2);
    expect(readdirSync(dir)).toHaveLength(1);
  });
});
