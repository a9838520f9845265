import { afterEach, describe, expect, it } from 'vitest';
import { DUCKDB_ALLOCATOR_ENV, childEnv, useAllocatorDefaults } from './child-env.js';

describe('childEnv', () => {
  const name = 'BALISE_TEST_CHILD_ENV';
  afterEach(() => {
    delete process.env[name];
  });

  it('adds a default the environment lacks, and keeps the rest of the environment', () => {
    const env = childEnv({ [name]: 'default' });
    expect(env[name]).toBe('default');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('keeps a value the user set over the default', () => {
    process.env[name] = 'mine';
    expect(childEnv({ [name]: 'default' })[name]).toBe('mine');
  });
});

describe('useAllocatorDefaults', () => {
  it("gives an environment DuckDB's allocator settings", () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
    useAllocatorDefaults(env);
    expect(env).toEqual({ PATH: '/usr/bin', DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:0,muzzy_decay_ms:0' });
  });

  it('keeps a value the user set', () => {
    const env: NodeJS.ProcessEnv = { DUCKDB_JE_MALLOC_CONF: 'dirty_decay_ms:5000' };
    useAllocatorDefaults(env);
    expect(env.DUCKDB_JE_MALLOC_CONF).toBe('dirty_decay_ms:5000');
  });

  it("reaches a child process through this process's environment", () => {
    const saved = process.env.DUCKDB_JE_MALLOC_CONF;
    delete process.env.DUCKDB_JE_MALLOC_CONF;
    try {
      useAllocatorDefaults();
      expect(childEnv({ MALLOC_ARENA_MAX: '2' })).toMatchObject({
        ...DUCKDB_ALLOCATOR_ENV,
        MALLOC_ARENA_MAX: '2',
      });
    } finally {
      if (saved === undefined) delete process.env.DUCKDB_JE_MALLOC_CONF;
      else process.env.DUCKDB_JE_MALLOC_CONF = saved;
    }
  });
});
