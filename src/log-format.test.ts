import { describe, expect, it } from 'vitest';
import { jsonLog, levelOf } from './log-format.js';

describe('the JSON log', () => {
  it('writes one JSON object per line with time, level, node, code and the message', () => {
    const lines: string[] = [];
    const log = jsonLog('paris-1', (text) => lines.push(text));
    log('store_unavailable: connect ECONNREFUSED; batches kept in the spool and retried');
    log('untrusted_proxy: requests carry X-Forwarded-For from a peer …');
    log('balise 1 site(s) on http://127.0.0.1:8080/balise/');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.code, r.node])).toEqual([
      ['error', 'store_unavailable', 'paris-1'],
      ['warn', 'untrusted_proxy', 'paris-1'],
      ['info', undefined, 'paris-1'],
    ]);
    expect(records[2]!.msg).toBe('balise 1 site(s) on http://127.0.0.1:8080/balise/');
    expect(Number.isNaN(Date.parse(String(records[0]!.time)))).toBe(false);
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
  });

  it('reads the level from the code', () => {
    expect(levelOf('storage_unavailable: …')).toBe('error');
    expect(levelOf('retention_failed: …')).toBe('error');
    expect(levelOf('spool_repaired: …')).toBe('warn');
    expect(levelOf('settings_not_adopted: …')).toBe('warn');
    expect(levelOf('retention: deleted 3 events')).toBe('info');
    expect(levelOf('SIGTERM: flushing and stopping')).toBe('info');
  });
});
