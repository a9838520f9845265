// Child processes for the benches: a command run to its end, a server started until it says
// it is ready, and the CPU a process has used.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Runs a command to its end; resolves with what it printed (rejects on a non-zero exit). */
export function run(
  command: string,
  args: string[],
  onStderr?: { text: string; then: () => void },
): Promise<string> {
  // With `onStderr`, its error output is read to call `then` once `text` appears (the rest passed on).
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', onStderr ? 'pipe' : 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  if (onStderr) {
    let seen = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk.toString().replace(`${onStderr.text}\n`, ''));
      if (seen.includes(onStderr.text)) return;
      seen += chunk.toString();
      if (seen.includes(onStderr.text)) onStderr.then();
    });
  }
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}`)),
    ),
  );
}

/** Starts a process and resolves once its output matches `ready` (with the match's first group). */
export function startUntil(
  command: string,
  args: string[],
  ready: RegExp,
  env?: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; found: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, found: match[1] ?? '' });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output}`)));
  });
}

/**
 * CPU time (user + system, every thread) a process and its children have used, in milliseconds
 * (0 for a process gone). Children count: nginx serves from its master's worker.
 */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second here).
    let total = (Number(fields[11]) + Number(fields[12])) * 10;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    for (const child of children ? children.split(' ') : []) total += cpuMs(Number(child));
    return total;
  } catch {
    return 0;
  }
}

/**
 * A bare node:http server in a child process on 127.0.0.1 that reads each request and answers
 * 204 (a vendor whose work is not counted in this process); resolves with its port.
 */
export async function startNoContentServer(): Promise<{ port: number; stop: () => void }> {
  const source = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => { r.statusCode = 204; r.end(); }); });
s.keepAliveTimeout = 60000; s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const server = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) =>
    server.stdout.once('data', (d: Buffer) => resolve(Number(d))),
  );
  return { port, stop: () => void server.kill() };
}
