package dev.fibservice.compute;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finished F(n) of {@code doubling} kept for the requests that ask for them again, bounded by bytes: past the bound the
 * least recently used go first. Entries live off the heap ({@link CachedResult}), so that the socket is written from
 * them directly and the garbage collector never copies or scans megabytes of digits. Thread-safe (one short lock per
 * look-up): shared by the node's event loops and workers.
 */
public final class ResultCache {

  private final long maxBytes;
  /** In access order: the eldest is the least recently used. Guarded by this. */
  private final LinkedHashMap<Integer, CachedResult> entries = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;
  private final LongAdder evictions = new LongAdder();

  /** @param maxBytes the bound (fib.cacheBytes); 0 keeps nothing */
  public ResultCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Whether a result of {@code n} would be kept: on, and not larger than the whole bound. */
  boolean on() {
    return maxBytes > 0;
  }

  /** F(n) with a reference for the caller (who must {@link CachedResult#release} it), or null when it is not kept. */
  public CachedResult acquire(int n) {
    if (maxBytes == 0) {
      return null;
    }
    synchronized (this) {
      CachedResult entry = entries.get(n);
      return entry == null ? null : entry.retain();
    }
  }

  /**
   * Keeps F(n), unless it is kept already (the one kept is returned then) or is larger than the whole bound (null),
   * and evicts the least recently used entries past the bound. The entry returned holds a reference for the caller.
   */
  public CachedResult put(int n, String value, long computeMicros, String worker) {
    if (maxBytes == 0 || value.length() > maxBytes) {
      return null;
    }
    synchronized (this) {
      CachedResult kept = entries.get(n);
      if (kept != null) {
        return kept.retain();
      }
    }
    // the copy of the digits outside the lock; two event loops may both make one, and one of them is dropped
    CachedResult made = CachedResult.of(n, value, computeMicros, worker);
    if (made.bytes() > maxBytes) {
      made.release();
      return null;
    }
    CachedResult kept;
    synchronized (this) {
      kept = entries.get(n);
      if (kept == null) {
        entries.put(n, made);
        bytes += made.bytes();
        evict();
        // the cache's own reference, then the caller's
        return made.retain();
      }
      kept.retain();
    }
    made.release();
    return kept;
  }

  /** Past the bound, the least recently used go (their memory is freed once their last reader is done). */
  private void evict() {
    Iterator<Map.Entry<Integer, CachedResult>> eldest = entries.entrySet().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      CachedResult entry = eldest.next().getValue();
      eldest.remove();
      bytes -= entry.bytes();
      entry.release();
      evictions.increment();
    }
  }

  /** Drops every entry (the node stops). */
  public synchronized void clear() {
    entries.values().forEach(CachedResult::release);
    entries.clear();
    bytes = 0;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes the entries take now, at most {@link #maxBytes()}. */
  public synchronized long bytes() {
    return bytes;
  }

  public synchronized int entries() {
    return entries.size();
  }

  /** Entries evicted to keep within the bound, since start. */
  public long evictions() {
    return evictions.sum();
  }
}
