// What Node's Intl (ICU's zone data) says of an instant: the reference src/time.ts is tested
// against (the system's zone files, src/zoneinfo.ts, against zdump: test/zdump-reference.ts).

const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** The local wall-clock parts of instant `ms` in `timeZone`, as Intl gives them. */
export function intlParts(ms: number, timeZone: string) {
  const parts = formatter(timeZone).formatToParts(ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's offset at `ms` as Intl gives it, in seconds east of UTC. */
export function intlOffsetSeconds(ms: number, timeZone: string): number {
  const p = intlParts(ms, timeZone);
  const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return (local - Math.floor(ms / 1000) * 1000) / 1000;
}
