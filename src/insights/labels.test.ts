import { describe, expect, it } from 'vitest';
import { labelFor } from './labels.js';

describe('breakdown labels', () => {
  it('names French regions from the official data and countries in English', () => {
    expect(labelFor('region', 'FR-IDF')).toBe('Île-de-France');
    expect(labelFor('region', 'FR-GES')).toBe('Grand Est');
    expect(labelFor('region', 'FR-974')).toBe('La Réunion');
    expect(labelFor('country', 'FR')).toBe('France');
    expect(labelFor('region', 'DE-BY')).toBeUndefined();
    expect(labelFor('country', '(other)')).toBeUndefined();
    expect(labelFor('browser', 'Chrome')).toBeUndefined();
  });
});
