import { afterEach, describe, expect, it } from 'vitest';
import { childEnv } from './child-env.js';

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
