import { constants } from 'node:fs';
import { copyFile, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Backups kept beside a configuration file; older ones are removed. */
export const BACKUPS_KEPT = 10;

async function fsyncPath(path: string, flags: number): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `text` so a reader sees the old or the new file, never a mix, and a crash
 * leaves one of them: the previous version is first copied to `FILE.<UTC time>.bak` (the last
 * BACKUPS_KEPT are kept), the new text is written to a temporary file in the same folder, fsynced,
 * renamed over the file, and the folder fsynced. The file's mode is kept. Returns the backup's path.
 */
export async function writeFileAtomically(file: string, text: string): Promise<string> {
  const folder = dirname(file);
  const { mode } = await stat(file);
  let backup = '';
  for (;;) {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
    backup = `${file}.${stamp}.bak`;
    try {
      await copyFile(file, backup, constants.COPYFILE_EXCL);
      break;
    } catch (error) {
      // Two saves within one millisecond: take the next one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  await fsyncPath(backup, constants.O_RDONLY);
  const temp = join(folder, `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temp, 'wx', mode & 0o777);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncPath(folder, constants.O_RDONLY).catch(() => undefined);
  await pruneBackups(file);
  return backup;
}

/** Removes all but the newest BACKUPS_KEPT backups of `file`. */
async function pruneBackups(file: string): Promise<void> {
  const prefix = `${basename(file)}.`;
  const backups = (await readdir(dirname(file)))
    .filter((name) => name.startsWith(prefix) && /\.\d{8}T\d{9}Z\.bak$/.test(name))
    .sort();
  for (const name of backups.slice(0, Math.max(0, backups.length - BACKUPS_KEPT)))
    await unlink(join(dirname(file), name)).catch(() => undefined);
}
