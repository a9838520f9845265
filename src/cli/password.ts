import { hashPassword } from '../auth/password.js';
import { UsageError } from './args.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `balise password hash`: reads the dashboard password from standard input (never from the
 * command line, where it would land in the shell history) and prints its scrypt hash for
 * `admin.passwordHash`.
 */
export async function passwordCommand(argv: string[], out: (line: string) => void): Promise<number> {
  if (argv.join(' ') !== 'hash')
    throw new UsageError("usage: printf '%s' 'the password' | balise password hash");
  const password = await readStdin();
  if (password.length < 12) throw new UsageError('use a password of at least 12 characters');
  out(hashPassword(password));
  return 0;
}
