// capture journal records from a run, then micro-bench stringify variants
import { readFileSync } from 'node:fs';
const lines = readFileSync(process.argv[2]!, 'utf8').split('\n').filter(Boolean).slice(0, 3).map((l) => JSON.parse(l));
for (const r of lines) console.log(JSON.stringify(r).length, JSON.stringify(r).slice(0, 600));
const N = 200000;
let t = performance.now(); let s = 0;
for (let i = 0; i < N; i++) s += Buffer.from(JSON.stringify(lines[i % 3]) + '\n').length;
console.log('stringify+Buffer', ((performance.now() - t) * 1000 / N).toFixed(2), 'µs');
t = performance.now();
for (let i = 0; i < N; i++) s += JSON.stringify(lines[i % 3]).length;
console.log('stringify only', ((performance.now() - t) * 1000 / N).toFixed(2), 'µs');
t = performance.now();
for (let i = 0; i < N; i++) { const r = lines[i % 3]; const { body } = r.delivery.request; s += JSON.stringify({ ...r, delivery: { ...r.delivery, request: { ...r.delivery.request, body: null } } }).length + Buffer.byteLength(body ?? ''); }
console.log('stringify without body + byteLength', ((performance.now() - t) * 1000 / N).toFixed(2), 'µs');
t = performance.now();
for (let i = 0; i < N; i++) { const r = lines[i % 3]; s += JSON.parse(r.delivery.request.body ?? '{}') ? 1 : 0; }
console.log('parse body', ((performance.now() - t) * 1000 / N).toFixed(2), 'µs');
