import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config.js';
import { DEFAULT_CONFIG, defaultConfig } from '../../src/defaults.js';

describe('the default configuration', () => {
  it('is exactly what the schema makes of an empty file', () => {
    expect(configSchema.parse({})).toEqual(DEFAULT_CONFIG);
  });

  it('is handed out as a copy, so a caller changing it changes nobody else’s', () => {
    const mine = defaultConfig();
    mine.track.rules.successMessages.push('^done$');
    expect(DEFAULT_CONFIG.track.rules.successMessages).toEqual(['^success$']);
    expect(configSchema.parse({}).track.rules.successMessages).toEqual(['^success$']);
  });
});
