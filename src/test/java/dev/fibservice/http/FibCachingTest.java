package dev.fibservice.http;

import dev.fibservice.TestNode;
import dev.fibservice.compute.Results;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Cancellation;
import dev.fibservice.math.Fibonacci;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /fib/n as HTTP caches see it (RFC 9110, 9111): entity tags known up front, 304 to a matching If-None-Match without
 * computing, HEAD with the GET's headers, Cache-Control immutable and Vary: Accept; and the node's result cache behind
 * it, answering a repeated heavy request with the same bytes and no computation.
 */
class FibCachingTest {

  private static final String IMMUTABLE = "public, max-age=31536000, immutable";

  @RegisterExtension
  static final TestNode node = TestNode.start(Map.of("fib.warmup", "false"));

  private static Results results() {
    return node.service().node().results();
  }

  /** Computations of this algorithm the node finished. */
  private static long computed(Algorithm algorithm) {
    Timer timer = node.service().node().metrics().registry().find("fib_compute")
      .tag("algorithm", algorithm.wireName()).timer();
    return timer == null ? 0 : timer.count();
  }

  private static long doublingsComputed() {
    return computed(Algorithm.DOUBLING);
  }

  private static HttpResponse<Buffer> get(String path, String accept, String ifNoneMatch) throws Exception {
    var request = node.client().get(path).putHeader("Accept", accept);
    if (ifNoneMatch != null) {
      request.putHeader("If-None-Match", ifNoneMatch);
    }
    return request.send().await();
  }

  private static void assertCacheable(HttpResponse<Buffer> r, String tag) {
    assertEquals(tag, r.getHeader("ETag"));
    assertEquals(IMMUTABLE, r.getHeader("Cache-Control"));
    assertTrue(r.headers().getAll("Vary").contains("Accept"), r.headers().getAll("Vary").toString());
  }

  @Test
  void everyAnswerCarriesItsTagAndMayBeCachedForGood() throws Exception {
    HttpResponse<Buffer> text = get("/fib/1000", "text/plain", null);
    assertEquals(200, text.statusCode());
    assertCacheable(text, "\"fib-1000\"");
    HttpResponse<Buffer> json = get("/fib/1000", "application/json", null);
    assertCacheable(json, "W/\"fib-1000-doubling\"");
    // the text is the same digits whatever the algorithm; the JSON names it
    assertCacheable(get("/fib/1000?algorithm=iterative", "text/plain", null), "\"fib-1000\"");
    assertCacheable(get("/fib/1000?algorithm=iterative", "application/json", null), "W/\"fib-1000-iterative\"");
    HttpResponse<Buffer> bad = get("/fib/-1", "text/plain", "*");
    assertEquals(400, bad.statusCode(), "the request is checked before any tag");
    assertNull(bad.getHeader("ETag"));
    assertNull(bad.getHeader("Cache-Control"));
  }

  @Test
  void aMatchingIfNoneMatchIs304WithoutComputing() throws Exception {
    long computed = doublingsComputed();
    long misses = results().misses(Results.Side.FRONT);
    for (String ifNoneMatch : List.of("\"fib-400000\"", "W/\"fib-400000\"", "*", "\"a\", \"fib-400000\"",
      "\"x,y\",W/\"fib-400000\"", " \"b\" ,, \"fib-400000\" ")) {
      HttpResponse<Buffer> r = get("/fib/400000", "text/plain", ifNoneMatch);
      assertEquals(304, r.statusCode(), ifNoneMatch);
      assertNull(r.body(), ifNoneMatch);
      assertCacheable(r, "\"fib-400000\"");
    }
    HttpResponse<Buffer> json = get("/fib/400000?algorithm=doubling", "application/json", "\"fib-400000-doubling\"");
    assertEquals(304, json.statusCode(), "weak comparison: the tag's opaque part matches");
    assertCacheable(json, "W/\"fib-400000-doubling\"");
    HttpResponse<Buffer> head = node.client().head("/fib/400000").putHeader("Accept", "text/plain")
      .putHeader("If-None-Match", "\"fib-400000\"").send().await();
    assertEquals(304, head.statusCode());
    assertEquals(computed, doublingsComputed(), "a 304 computes nothing");
    assertEquals(misses, results().misses(Results.Side.FRONT), "nor looks anything up");
  }

  @Test
  void otherTagsGetTheFullAnswer() throws Exception {
    for (String ifNoneMatch : List.of("\"fib-1001\"", "W/\"fib-1000-doubling\"", "\"fib-1000", "fib-1000",
      "\"a\" \"fib-1000\"", "*, \"a\"")) {
      HttpResponse<Buffer> r = get("/fib/1000", "text/plain", ifNoneMatch);
      assertEquals(200, r.statusCode(), ifNoneMatch);
      assertEquals(Fibonacci.digits(Algorithm.DOUBLING, 1000, new Cancellation()) + "\n", r.bodyAsString());
    }
  }

  @Test
  void headHasTheHeadersOfGetAndNoBody() throws Exception {
    for (String accept : List.of("text/plain", "application/json")) {
      for (String path : List.of("/fib/100000", "/fib/500")) {
        HttpResponse<Buffer> get = get(path, accept, null);
        HttpResponse<Buffer> head = node.client().head(path).putHeader("Accept", accept).send().await();
        assertEquals(200, head.statusCode());
        assertNull(head.body());
        for (String header : List.of("Content-Type", "ETag", "Cache-Control")) {
          assertEquals(get.getHeader(header), head.getHeader(header), header);
        }
        if (accept.equals("text/plain") || path.equals("/fib/100000")) {
          // a light JSON body's computeMicros may have another number of digits from one computation to the next
          assertEquals(String.valueOf(get.body().length()), head.getHeader("Content-Length"), path + " " + accept);
        }
      }
    }
  }

  @Test
  void aRepeatedHeavyRequestIsAnsweredFromTheCacheWithTheSameBytes() throws Exception {
    long computed = doublingsComputed();
    long hits = results().hits(Results.Side.FRONT);
    HttpResponse<Buffer> first = get("/fib/200000", "application/json", null);
    HttpResponse<Buffer> again = get("/fib/200000", "application/json", null);
    assertEquals(computed + 1, doublingsComputed());
    assertEquals(hits + 1, results().hits(Results.Side.FRONT));
    assertEquals(first.bodyAsString(), again.bodyAsString(), "a cached JSON body is the same bytes each time");
    JsonObject body = again.bodyAsJsonObject();
    assertEquals(Fibonacci.digits(Algorithm.DOUBLING, 200_000, new Cancellation()), body.getString("value"));
    assertEquals(body.getString("value").length(), body.getInteger("digits"));
    assertEquals("doubling", body.getString("algorithm"));
    assertTrue(body.getString("worker").startsWith("test/heavy-"), body.encode());
    assertEquals(body.getString("value") + "\n", get("/fib/200000", "text/plain", null).bodyAsString());
    assertEquals(computed + 1, doublingsComputed(), "the text body from the same cached digits");
    // other algorithms burn their CPU as asked: never from the cache
    long iterations = computed(Algorithm.ITERATIVE);
    for (int i = 0; i < 2; i++) {
      assertEquals("iterative", get("/fib/60000?algorithm=iterative", "application/json", null).bodyAsJsonObject()
        .getString("algorithm"));
    }
    assertEquals(iterations + 2, computed(Algorithm.ITERATIVE));
  }
}
