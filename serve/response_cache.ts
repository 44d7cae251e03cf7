/**
 * Recently served sample bodies by ETag. A seeded request names its response exactly (model,
 * engine, route, format, n, seed, label, scale), so a repeat is answered from here without
 * generating or encoding again, as an edge cache would. Bounded by bytes; least recently used
 * out first.
 *
 * ```ts
 * const cache = new ResponseCache(8 * 2 ** 20);
 * cache.set(etag, { body, type: "image/png" });
 * cache.get(etag); // the same entry, now the most recently used
 * ```
 */

export interface CachedBody {
  body: Uint8Array;
  /** The Content-Type it was served with. */
  type: string;
}

/** The default bound: 8 MiB, a few thousand n=1 JSON bodies or a few dozen large PNGs. */
export const RESPONSE_CACHE_BYTES = 8 * 2 ** 20;

export class ResponseCache {
  readonly #entries = new Map<string, CachedBody>();
  #bytes = 0;

  constructor(readonly maxBytes: number = RESPONSE_CACHE_BYTES) {}

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedBody | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps `entry` unless it alone exceeds the bound; evicts the oldest to make room. */
  set(key: string, entry: CachedBody): void {
    const size = entry.body.length;
    if (size > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.body.length;
    }
    this.#entries.set(key, entry);
    this.#bytes += size;
    for (const [oldest, value] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= value.body.length;
    }
  }
}
