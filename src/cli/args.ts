import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage problem: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Parses `argv` strictly; unknown options become a UsageError that says what is allowed. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
