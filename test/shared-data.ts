import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/data` beside the repository (always present in CI; may be absent on a user's machine). */
export const SHARED_DATA = join(fileURLToPath(new URL('../..', import.meta.url)), 'shared', 'data');

/** True when the real third-party data is here; tests that need it say so in their name and skip otherwise. */
export const HAS_SHARED_DATA = existsSync(SHARED_DATA);

/** Path of a file under ../shared/data. */
export const sharedData = (...parts: string[]): string => join(SHARED_DATA, ...parts);
