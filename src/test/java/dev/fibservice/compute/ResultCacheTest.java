package dev.fibservice.compute;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The result cache alone: its bodies byte for byte, its bound in bytes, its evictions and who holds its memory. */
class ResultCacheTest {

  private static String digits(int count, char first) {
    return first + "0123456789".repeat(count / 10 + 1).substring(0, count - 1);
  }

  /** What an entry of a six-digit n with 1000 digits costs the cache. */
  private static long sizeOfOne() {
    CachedResult probe = CachedResult.of(100_000, digits(1000, '1'), 1, "w");
    probe.release();
    return probe.bytes();
  }

  private static byte[] bytes(io.vertx.core.buffer.Buffer buffer) {
    return buffer.getBytes();
  }

  @Test
  void itsBodiesAreTheRepliesByteForByte() {
    // a worker name JSON must escape, and one beyond ASCII
    CachedResult entry = CachedResult.of(123_456, digits(2000, '7'), 4242, "h\"ost-ü/heavy-1");
    JsonObject reply = new JsonObject().put("n", 123_456).put("algorithm", "doubling").put("value", digits(2000, '7'))
      .put("digits", 2000).put("computeMicros", 4242L).put("worker", "h\"ost-ü/heavy-1");
    assertArrayEquals(reply.toBuffer().getBytes(), bytes(entry.json()), "the JSON body is what JsonObject encodes");
    assertEquals(reply, entry.toJson());
    assertEquals(reply.toBuffer().length(), entry.jsonLength());
    assertArrayEquals((digits(2000, '7') + "\n").getBytes(StandardCharsets.US_ASCII), bytes(entry.text()));
    assertEquals(2001, entry.textLength());
    entry.release();
    assertEquals(0, entry.references());
  }

  @Test
  void theLeastRecentlyUsedGoWhenTheBytesPassTheBound() {
    long size = sizeOfOne();
    ResultCache cache = new ResultCache(3 * size);
    CachedResult a = cache.put(100_001, digits(1000, '1'), 1, "w");
    CachedResult b = cache.put(100_002, digits(1000, '2'), 1, "w");
    CachedResult c = cache.put(100_003, digits(1000, '3'), 1, "w");
    for (CachedResult e : new CachedResult[] {a, b, c}) {
      assertEquals(2, e.references(), "the cache's and the caller's");
      e.release();
    }
    assertEquals(3 * size, cache.bytes());
    cache.acquire(100_001).release(); // a is used again: b is now the least recently used
    CachedResult d = cache.put(100_004, digits(1000, '4'), 1, "w");
    d.release();
    assertEquals(1, cache.evictions());
    assertEquals(3, cache.entries());
    assertEquals(3 * size, cache.bytes());
    assertNull(cache.acquire(100_002), "b went");
    assertEquals(0, b.references(), "its memory is freed");
    for (int n : new int[] {100_001, 100_003, 100_004}) {
      CachedResult kept = cache.acquire(n);
      assertNotNull(kept, "kept: " + n);
      kept.release();
    }
    cache.clear();
    assertEquals(0, a.references());
    assertEquals(0, cache.bytes());
  }

  @Test
  void anEvictedEntryLivesUntilItsLastReaderIsDone() {
    long size = sizeOfOne();
    ResultCache cache = new ResultCache(size);
    cache.put(100_001, digits(1000, '5'), 1, "w").release();
    CachedResult reading = cache.acquire(100_001);
    cache.put(100_002, digits(1000, '6'), 1, "w").release();
    assertNull(cache.acquire(100_001));
    assertEquals(1, reading.references(), "evicted, but still being written to a socket, say");
    assertEquals('5', bytes(reading.text())[0], "its memory is intact");
    reading.release();
    assertEquals(0, reading.references());
  }

  @Test
  void aResultLargerThanTheBoundIsNotKeptAndAKeptOneIsNotKeptTwice() {
    ResultCache cache = new ResultCache(1500);
    assertNull(cache.put(100_001, digits(1400, '1'), 1, "w"), "1400 digits and the entry's overhead pass 1500 bytes");
    assertEquals(0, cache.entries());
    CachedResult first = cache.put(100_002, digits(1000, '2'), 1, "w");
    CachedResult second = cache.put(100_002, digits(1000, '2'), 2, "w2");
    assertSame(first, second);
    assertEquals(3, first.references());
    first.release();
    second.release();
    assertNull(new ResultCache(0).put(100_003, digits(10, '3'), 1, "w"), "0 bytes: the cache is off");
    assertTrue(cache.bytes() <= cache.maxBytes());
  }
}
