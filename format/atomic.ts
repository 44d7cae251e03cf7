/**
 * Crash-safe file writes: the bytes go to a temporary file in the same folder, are flushed to
 * disk, and only then renamed over the target, so a reader sees the old file or the new one,
 * never half of one.
 *
 * ```ts
 * await writeFileAtomic("models/mnist/model.json", new TextEncoder().encode("{}"));
 * ```
 */

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  // Make the rename itself durable where the platform allows syncing a directory.
  try {
    const dir = await Deno.open(parentDir(path), { read: true });
    try {
      await dir.syncData();
    } finally {
      dir.close();
    }
  } catch {
    // Not supported everywhere (and not needed for correctness of the rename).
  }
}

/** Removes temporary files left by writes that were killed mid-way. */
export async function removeStaleTemps(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /\.tmp-\d+-[0-9a-f]{8}$/.test(entry.name)) {
        await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** The folder part of a path ("." for a bare name), without importing node:path. */
function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}
