/**
 * Crash-safe file writes: the bytes go to a temporary file in the same folder, are flushed to
 * disk, and only then renamed over the target, so a reader sees the old file or the new one,
 * never half of one.
 *
 * ```ts
 * await writeFileAtomic("models/mnist/model.json", new TextEncoder().encode("{}"));
 * ```
 */

/**
 * Test hook for the crash test: `EDGEGAN_DIE_AT=NAME:PHASE:N` ends the process abruptly (exit
 * 137, no cleanup) during the N-th atomic write of a file named NAME, at PHASE: `partial` (half
 * the bytes in the temporary file), `written` (temporary file complete, not renamed) or `renamed`
 * (renamed, folder not yet synced). Read only when the env permission for it is granted, which
 * no task grants.
 */
const dieAt = (() => {
  const variable = "EDGEGAN_DIE_AT";
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  const m = Deno.env.get(variable)?.match(/^([\w.-]+):(partial|written|renamed):(\d+)$/);
  return m ? { name: m[1], phase: m[2], n: Number(m[3]) } : undefined;
})();
const writesOf = new Map<string, number>();

function maybeDie(path: string, phase: string): void {
  if (!dieAt || !path.endsWith(`/${dieAt.name}`) || phase !== dieAt.phase) return;
  if (writesOf.get(dieAt.name) === dieAt.n) Deno.exit(137);
}

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  if (dieAt && path.endsWith(`/${dieAt.name}`)) {
    writesOf.set(dieAt.name, (writesOf.get(dieAt.name) ?? 0) + 1);
  }
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      const half = dieAt ? bytes.length >> 1 : bytes.length;
      while (written < half) written += await file.write(bytes.subarray(written, half));
      maybeDie(path, "partial");
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    maybeDie(path, "written");
    await Deno.rename(tmp, path);
    maybeDie(path, "renamed");
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
