import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../child.js';
import { readEvents, tempDir } from '../helpers.js';
import { countStored, postLoop, stopChild } from './load.js';

const KILLS = 10;
const temp = tempDir();
afterAll(() => temp.cleanup());

describe('kill -9 under load', () => {
  it(`loses and duplicates nothing across ${KILLS} SIGKILLs mid-load`, async () => {
    const configPath = join(temp.dir, 'balise.yaml');
    writeFileSync(
      configPath,
      [
        'server: { host: 127.0.0.1, port: 0, node: kill, rateLimit: { perIpPerMinute: 100000000, perSitePerMinute: 100000000 } }',
        'store: { kind: duckdb, path: ./balise.duckdb, flushMs: 20, batchRows: 100 }',
        'sites: [{ host: www.example.fr, aliases: [127.0.0.1] }]',
      ].join('\n'),
    );
    const acked = new Set<number>();
    for (let kill = 0; kill < KILLS; kill++) {
      const gateway = await startChild(configPath);
      const load = postLoop(gateway.url, 16, { title: `run ${kill}` });
      // Killed at a different moment each time: after 300 to 1,200 ms of load.
      await new Promise((resolve) => setTimeout(resolve, 300 + ((kill * 97) % 900)));
      expect(await stopChild(gateway.child, 'SIGKILL')).toBeNull();
      await load.stop();
      for (const n of load.acked) acked.add(n);
    }
    const last = await startChild(configPath);
    expect(await stopChild(last.child)).toBe(0);
    const counts = countStored(await readEvents(temp.dir));
    const missing = [...acked].filter((n) => !counts.has(n));
    const duplicated = [...counts].filter(([, c]) => c > 1);
    console.log(
      `kill -9: ${KILLS} kills, ${acked.size} acknowledged, ${missing.length} lost, ${duplicated.length} duplicated`,
    );
    expect(acked.size).toBeGreaterThan(KILLS * 50);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  });
});
