/**
 * Turns a wall-clock time in a named zone into epoch milliseconds. Ruby's Logger
 * writes local time without a zone; on BOSH stemcells that is UTC, which takes the
 * fast path. Other zones ask Intl for the offset, cached per zone and hour.
 */

export type LocalToEpoch = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) => number;

export function localTimeConverter(timeZone: string): LocalToEpoch {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return (y, mo, d, h, mi, s, ms) => Date.UTC(y, mo, d, h, mi, s, ms);
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const cache = new Map<number, number>();
  const offsetAt = (epoch: number): number => {
    const hour = Math.floor(epoch / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      const parts: Record<string, number> = {};
      for (const p of format.formatToParts(new Date(hour * 3_600_000))) parts[p.type] = Number(p.value);
      const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
      offset = asUtc - hour * 3_600_000;
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
  return (y, mo, d, h, mi, s, ms) => {
    const wall = Date.UTC(y, mo, d, h, mi, s, ms);
    // Two passes settle the offset across a DST change.
    const first = wall - offsetAt(wall);
    return wall - offsetAt(first);
  };
}

/** Wall-clock time at a fixed offset (minutes east of UTC) as epoch milliseconds. */
export function fixedOffsetConverter(offsetMinutes: number): LocalToEpoch {
  const shift = offsetMinutes * 60_000;
  return (y, mo, d, h, mi, s, ms) => Date.UTC(y, mo, d, h, mi, s, ms) - shift;
}
