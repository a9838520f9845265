import { createWriteStream, readFileSync } from 'node:fs';
const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
const LINES = Number(process.argv[2]);
const original = readFileSync('/tmp/shared/data/logs/apache_combined.log', 'utf8').split('\n').filter(Boolean);
const out = createWriteStream(process.argv[3]!);
const shift = (line: string, days: number) => line.replace(/\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}:\d{2}:\d{2}) \+0000\]/, (_, d: string, mon: string, y: string, hms: string) => {
  const date = new Date(Date.UTC(Number(y), MONTHS.indexOf(mon), Number(d) + days));
  return `[${String(date.getUTCDate()).padStart(2,'0')}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${hms} +0000]`;
});
for (let i = 0; i < LINES; i++) {
  const copy = Math.floor(i / original.length); const line = original[i % original.length]!;
  if (!out.write(`${copy === 0 ? line : shift(line, copy * 4)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
}
await new Promise<void>((r) => out.end(r));
