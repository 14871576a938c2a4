import { describe, expect, it } from 'vitest';
import { LogClock } from '../../src/agent/log-clock.js';

describe('LogClock', () => {
  it('has no time before a line with a time was read', () => {
    expect(new LogClock(() => 0).read()).toBeNull();
  });

  it('moves on with the wall clock from the moment the log time was first seen', () => {
    let now = 1_000;
    const clock = new LogClock(() => now);
    clock.note(50_000);
    now = 4_000;
    expect(clock.read()).toBe(53_000);
    // The same log time noted again does not restart the count.
    clock.note(50_000);
    now = 6_000;
    expect(clock.read()).toBe(55_000);
    clock.note(60_000);
    expect(clock.read()).toBe(60_000);
  });
});
