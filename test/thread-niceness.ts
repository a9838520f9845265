import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** The niceness of thread `tid` of this process (Linux: field 19 of /proc/self/task/TID/stat). */
export function niceness(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[16]);
}

/** The id of the calling thread (Linux). */
export function threadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

/** How many threads of this process run at `value` niceness. */
export function threadsAtNiceness(value: number): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return niceness(Number(tid)) === value;
    } catch {
      return false; // the thread ended meanwhile
    }
  }).length;
}
