package dev.fibservice.http;

import dev.fibservice.TestNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigInteger;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API of a real node on a real socket: every route and every error path. */
class HttpApiTest {

  private static final String HELLO = "<html><head><title>Example</title></head><body><h1>Hello, World!</h1></body></html>\n";

  @RegisterExtension
  static final TestNode node = TestNode.start(Map.of("instances", "2"));

  private static void assertError(HttpResponse<Buffer> r, int status, String message) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertEquals("application/json", r.getHeader("content-type"));
    JsonObject body = r.bodyAsJsonObject();
    assertTrue(body.getString("error").contains(message), () -> body.getString("error") + " should contain " + message);
  }

  @Test
  void helloIsTheExactPage() throws Exception {
    HttpResponse<Buffer> r = node.get("/hello");
    assertEquals(200, r.statusCode());
    assertTrue(r.getHeader("content-type").startsWith("text/html"));
    assertEquals(HELLO, r.bodyAsString());
    assertEquals(String.valueOf(HELLO.length()), r.getHeader("content-length"));
  }

  @Test
  void helloRepeats() throws Exception {
    HttpResponse<Buffer> r = node.get("/hello?repeat=10000");
    assertEquals(200, r.statusCode());
    assertEquals(220_062, r.body().length());
    String expected = HelloPages.HEAD + HelloPages.BLOCK.repeat(10000) + HelloPages.TAIL;
    assertEquals(expected, r.bodyAsString());
    assertEquals(HelloPages.HEAD + HelloPages.BLOCK.repeat(3) + HelloPages.TAIL, node.get("/hello?repeat=3").bodyAsString());
    assertEquals(HelloPages.length(100000), node.get("/hello?repeat=100000").body().length());
    assertEquals(HELLO, node.get("/hello?repeat=1").bodyAsString());
  }

  @Test
  void helloRepeatOutOfRange() throws Exception {
    assertError(node.get("/hello?repeat=0"), 400, "repeat must be a whole number from 1 to 100000");
    assertError(node.get("/hello?repeat=100001"), 400, "repeat must be a whole number from 1 to 100000");
    assertError(node.get("/hello?repeat=abc"), 400, "got 'abc'");
    assertError(node.get("/hello?repeat=-1"), 400, "repeat must be");
    assertError(node.get("/hello?repeat=99999999999999999999"), 400, "repeat must be");
  }

  @Test
  void fibJson() throws Exception {
    HttpResponse<Buffer> r = node.get("/fib/30");
    assertEquals(200, r.statusCode());
    assertEquals("application/json", r.getHeader("content-type"));
    JsonObject body = r.bodyAsJsonObject();
    assertEquals(30, body.getInteger("n"));
    assertEquals("doubling", body.getString("algorithm"));
    assertEquals("832040", body.getString("value"));
    assertEquals(6, body.getInteger("digits"));
    assertNotNull(body.getLong("computeMicros"));
    assertTrue(body.getString("worker").startsWith("test/"), body.getString("worker"));
    assertNotNull(r.getHeader("x-request-id"));
  }

  @Test
  void fibEveryAlgorithm() throws Exception {
    for (String algorithm : new String[] {"doubling", "iterative", "recursive"}) {
      JsonObject body = node.get("/fib/25?algorithm=" + algorithm).bodyAsJsonObject();
      assertEquals("75025", body.getString("value"), algorithm);
      assertEquals(algorithm, body.getString("algorithm"));
    }
    assertEquals("0", node.get("/fib/0").bodyAsJsonObject().getString("value"));
    assertEquals("1", node.get("/fib/1").bodyAsJsonObject().getString("value"));
  }

  @Test
  void fibLargeIsExact() throws Exception {
    JsonObject body = node.get("/fib/100000").bodyAsJsonObject();
    assertEquals(20899, body.getInteger("digits"));
    assertEquals(new BigInteger(body.getString("value")),
      dev.fibservice.math.Fibonacci.compute(dev.fibservice.math.Algorithm.ITERATIVE, 100000, () -> false));
  }

  @Test
  void fibPlainText() throws Exception {
    HttpResponse<Buffer> r = node.client().get("/fib/93").putHeader("Accept", "text/plain").send().await();
    assertEquals(200, r.statusCode());
    assertTrue(r.getHeader("content-type").startsWith("text/plain"));
    assertEquals("12200160415121876738\n", r.bodyAsString());
  }

  @Test
  void fibBadInput() throws Exception {
    assertError(node.get("/fib/abc"), 400, "n must be a whole number, got 'abc'");
    assertError(node.get("/fib/-5"), 400, "n must not be negative");
    assertError(node.get("/fib/46?algorithm=recursive"), 400, "above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)");
    assertError(node.get("/fib/200001?algorithm=iterative"), 400, "(n <= 200000, fib.maxN.iterative)");
    assertError(node.get("/fib/10000001"), 400, "(n <= 10000000, fib.maxN.doubling)");
    assertError(node.get("/fib/5?algorithm=magic"), 400, "unknown algorithm 'magic'");
    JsonObject detail = node.get("/fib/46?algorithm=recursive").bodyAsJsonObject().getJsonObject("detail");
    assertEquals(45, detail.getInteger("max"));
    assertEquals("n", detail.getString("param"));
    // named as the other limits name theirs (http.maxUriBytes, ...)
    assertEquals("fib.maxN.recursive", detail.getString("limit"));
  }

  @Test
  void unknownPathAndWrongMethod() throws Exception {
    assertError(node.get("/nope"), 404, "no such resource: GET /nope");
    assertError(node.get("/fib"), 404, "no such resource");
    assertError(node.client().request(HttpMethod.POST, "/fib/3").send().await(), 405, "method POST is not allowed on /fib/3");
    assertError(node.client().request(HttpMethod.DELETE, "/hello").send().await(), 405, "not allowed");
  }

  @Test
  void info() throws Exception {
    JsonObject info = node.get("/info").bodyAsJsonObject();
    assertEquals("test", info.getString("node"));
    assertEquals(2, info.getInteger("instances"));
    assertTrue(info.getString("transport").matches("nio|epoll|io_uring"), info.getString("transport"));
    assertNotNull(info.getInteger("eventLoops"));
    assertNotNull(info.getJsonObject("workers").getInteger("heavy"));
    assertNotNull(info.getString("version"));
  }

  @Test
  void requestsSpreadOverTheInstances() throws Exception {
    java.util.Set<String> servedBy = new java.util.HashSet<>();
    for (int i = 0; i < 40 && servedBy.size() < 2; i++) {
      // a new connection each time: Vert.x hands accepted connections to the instances in turn
      WebClient fresh = WebClient.create(node.clientVertx(), new WebClientOptions().setKeepAlive(false));
      servedBy.add(fresh.get(node.service().httpPort(), "127.0.0.1", "/info").send().await().bodyAsJsonObject().getString("servedBy"));
      fresh.close();
    }
    assertEquals(2, servedBy.size(), servedBy.toString());
  }
}
