import { describe, expect, it } from 'vitest';
import { endToEnd, targetPath } from './forward.js';

describe('endToEnd', () => {
  it('drops the hop-by-hop headers and those the Connection header names, and keeps the rest', () => {
    const headers = {
      host: 'www.example.fr',
      connection: 'keep-alive, X-Hop-Secret',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'h2c',
      'x-hop-secret': 'not passed on',
      'x-kept': 'yes',
      'set-cookie': ['a=1', 'b=2'],
      absent: undefined,
    };
    expect(endToEnd(headers)).toEqual({
      host: 'www.example.fr',
      'x-kept': 'yes',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('keeps every end-to-end header when Connection names none', () => {
    for (const connection of ['keep-alive', 'close', ' Keep-Alive ', undefined])
      expect(endToEnd({ connection, accept: 'text/html', 'x-kept': '1' })).toEqual({
        accept: 'text/html',
        'x-kept': '1',
      });
  });
});

describe('targetPath', () => {
  it('keeps an origin-form target, reduces an absolute-form one to its path, refuses the rest', () => {
    expect(targetPath('/a?b=1')).toBe('/a?b=1');
    expect(targetPath('http://other.example/x?y')).toBe('/x?y');
    expect(targetPath('//other.example/x')).toBeNull();
    expect(targetPath('*')).toBeNull();
    expect(targetPath('other.example:443')).toBeNull();
  });
});
