import { newToken } from '../api/auth.js';
import { UsageError } from './args.js';

/** `balise token new`: prints a new API token once, and the hash to put in `admin.tokens`. */
export function tokenCommand(argv: string[], out: (line: string) => void): number {
  if (argv.join(' ') !== 'new') throw new UsageError('usage: balise token new');
  const { token, hash } = newToken();
  out(`token (give it to the API client; it is not stored anywhere): ${token}`);
  out(`config (admin.tokens):                                       ${hash}`);
  return 0;
}
