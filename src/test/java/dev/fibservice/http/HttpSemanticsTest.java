package dev.fibservice.http;

import dev.fibservice.Eventually;
import dev.fibservice.TestNode;
import dev.fibservice.TestNodes;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What HTTP clients expect of any server (RFC 9110), on a real node with the database: HEAD wherever GET, Allow on
 * 405 and OPTIONS, JSON-only writes, and errors in words where vertx-web and Vert.x make the status.
 */
class HttpSemanticsTest {

  /** Headers that differ between any two responses. */
  private static final Set<String> VOLATILE = Set.of("date", "x-request-id", "x-served-by", "x-event-loop");

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("http_semantics", Map.of("http.bodyTimeoutMs", "2000",
    "http.maxBodyBytes", "2048"));

  private static String jobId;

  @BeforeAll
  static void aJobDone() throws Exception {
    Vertx v = Vertx.vertx();
    try {
      WebClient c = TestNodes.client(v, node.service());
      jobId = c.post("/jobs").sendJsonObject(new JsonObject().put("n", 1000)).await().bodyAsJsonObject().getString("id");
      Eventually.within(Duration.ofSeconds(30), () -> "DONE".equals(c.get("/jobs/" + jobId).send().await()
        .bodyAsJsonObject().getString("status")));
    } finally {
      v.close().await();
    }
  }

  private static Map<String, String> stableHeaders(HttpResponse<Buffer> r) {
    Map<String, String> headers = new TreeMap<>();
    r.headers().forEach(e -> {
      if (!VOLATILE.contains(e.getKey().toLowerCase())) {
        headers.put(e.getKey().toLowerCase(), e.getValue());
      }
    });
    return headers;
  }

  @Test
  void headAnswersWhereverGetDoesWithTheSameHeadersAndNoBody() throws Exception {
    String[] paths = {"/hello", "/hello?repeat=3", "/hello?repeat=10000", "/hello?repeat=100000", "/hello?repeat=0",
      "/fib/30", "/info", "/health/live", "/health/ready", "/db", "/people", "/people/Han%20Meimei",
      "/people/Nobody", "/jobs/" + jobId, "/jobs/" + jobId + "/result", "/", "/ui/app.js", "/ui/app.css",
      "/images/1.jpg"};
    for (String path : paths) {
      // text/plain: /fib's JSON carries computeMicros, whose digits change the length from one call to the next
      HttpResponse<Buffer> get = node.client().get(path).putHeader("Accept", "text/plain, */*").send().await();
      HttpResponse<Buffer> head = node.client().head(path).putHeader("Accept", "text/plain, */*").send().await();
      assertEquals(get.statusCode(), head.statusCode(), path);
      assertEquals(stableHeaders(get), stableHeaders(head), path);
      assertNotNull(head.getHeader("Content-Length"), path + ": HEAD tells the length GET would send");
      assertNotNull(head.getHeader("Content-Type"), path + ": HEAD tells the type GET would send");
      assertTrue(head.body() == null || head.body().length() == 0, path + ": HEAD has no body");
    }
    // the counters of these change between two calls, so their lengths may too
    for (String path : new String[] {"/stats", "/metrics"}) {
      HttpResponse<Buffer> head = node.client().head(path).send().await();
      assertEquals(200, head.statusCode(), path);
      assertEquals(node.client().get(path).send().await().getHeader("Content-Type"), head.getHeader("Content-Type"), path);
      assertTrue(Long.parseLong(head.getHeader("Content-Length")) > 100, path);
    }
    // an error names the method, so only its status and type are the same
    HttpResponse<Buffer> missing = node.client().head("/nope").send().await();
    assertEquals(404, missing.statusCode());
    assertEquals("application/json", missing.getHeader("Content-Type"));
    assertEquals(String.valueOf("{\"error\":\"no such resource: HEAD /nope\"}".length()), missing.getHeader("Content-Length"));
    assertEquals("text/html;charset=UTF-8", node.client().head("/").send().await().getHeader("Content-Type"));
    assertEquals(String.valueOf(HelloPages.length(100000)), node.client().head("/hello?repeat=100000").send().await()
      .getHeader("Content-Length"));
  }

  /** On one connection: if HEAD sent a body, the next response would not start where it must. */
  @Test
  void headSendsNothingAfterItsHeadOnTheWire() throws Exception {
    String raw = exchange("HEAD /hello?repeat=10000 HTTP/1.1\r\nHost: x\r\n\r\n"
      + "HEAD /fib/30 HTTP/1.1\r\nHost: x\r\n\r\n"
      + "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    String[] responses = raw.split("\r\n\r\n", -1);
    assertEquals(5, responses.length, raw);
    assertTrue(responses[0].startsWith("HTTP/1.1 200 OK") && responses[0].contains("content-length: 220062"), raw);
    assertTrue(responses[1].startsWith("HTTP/1.1 200 OK") && responses[1].contains("application/json"), raw);
    assertTrue(responses[2].startsWith("HTTP/1.1 200 OK") && responses[2].contains("content-length: 84"), raw);
    assertTrue(responses[3].startsWith("HTTP/1.1 200 OK"), raw);
    assertEquals("<html><head><title>Example</title></head><body><h1>Hello, World!</h1></body></html>\n", responses[4]);
  }

  @Test
  void methodNotAllowedListsExactlyThePathsMethods() throws Exception {
    assertAllow(HttpMethod.POST, "/fib/30", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.DELETE, "/hello", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.PUT, "/people", "GET, HEAD, POST, OPTIONS");
    assertAllow(HttpMethod.POST, "/people/Ada", "GET, HEAD, PUT, DELETE, OPTIONS");
    assertAllow(HttpMethod.GET, "/jobs", "POST, OPTIONS");
    assertAllow(HttpMethod.POST, "/jobs/" + jobId, "GET, HEAD, DELETE, OPTIONS");
    assertAllow(HttpMethod.DELETE, "/jobs/" + jobId + "/result", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.POST, "/metrics", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.PUT, "/health/ready", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.POST, "/", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.DELETE, "/ui/app.js", "GET, HEAD, OPTIONS");
    assertAllow(HttpMethod.POST, "/images/1.jpg", "GET, HEAD, OPTIONS");
  }

  private void assertAllow(HttpMethod method, String path, String allow) throws Exception {
    HttpResponse<Buffer> r = node.client().request(method, path).send().await();
    assertEquals(405, r.statusCode(), method + " " + path);
    assertEquals(allow, r.getHeader("Allow"), method + " " + path);
    assertTrue(r.bodyAsJsonObject().getString("error").contains("method " + method + " is not allowed"), r.bodyAsString());
    // and OPTIONS says the same
    HttpResponse<Buffer> options = node.client().request(HttpMethod.OPTIONS, path).send().await();
    assertEquals(204, options.statusCode(), "OPTIONS " + path);
    assertEquals(allow, options.getHeader("Allow"), "OPTIONS " + path);
  }

  @Test
  void optionsOnAnUnknownPathIs404() throws Exception {
    HttpResponse<Buffer> r = node.client().request(HttpMethod.OPTIONS, "/nope").send().await();
    assertEquals(404, r.statusCode());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("no such resource"));
  }

  @Test
  void writesTakeJsonOnly() throws Exception {
    for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
      HttpResponse<Buffer> r = node.client().post("/people").putHeader("Content-Type", type)
        .sendBuffer(Buffer.buffer("{\"name\":\"Plain\",\"age\":3}")).await();
      assertEquals(415, r.statusCode(), type);
      assertTrue(r.bodyAsJsonObject().getString("error").contains("must be JSON, sent with Content-Type: application/json"),
        r.bodyAsString());
    }
    HttpResponse<Buffer> none = node.client().post("/jobs").sendBuffer(Buffer.buffer("{\"n\":5}")).await();
    assertEquals(415, none.statusCode());
    assertTrue(none.bodyAsJsonObject().getString("error").contains("(got none)"), none.bodyAsString());
    assertEquals(415, node.client().put("/people/Han%20Meimei").putHeader("Content-Type", "text/plain")
      .sendBuffer(Buffer.buffer("{\"age\":99}")).await().statusCode());
    assertEquals(404, node.client().get("/people/Plain").send().await().statusCode(), "nothing was created");
    assertEquals(20, node.client().get("/people/Han%20Meimei").send().await().bodyAsJsonObject().getJsonObject("result")
      .getInteger("age"), "nothing was changed");
    // a charset parameter is fine
    HttpResponse<Buffer> ok = node.client().post("/people").putHeader("Content-Type", "Application/JSON; charset=utf-8")
      .sendBuffer(Buffer.buffer("{\"name\":\"Charset\",\"age\":3}")).await();
    assertEquals(201, ok.statusCode(), ok.bodyAsString());
    assertEquals(204, node.client().delete("/people/Charset").send().await().statusCode());
  }

  @Test
  void aBodyOverTheLimitSaysTheLimit() throws Exception {
    String big = new JsonObject().put("name", "Big").put("age", 3).put("career", "x".repeat(3000)).encode();
    for (HttpRequest<Buffer> request : java.util.List.of(node.client().post("/people"), node.client().post("/jobs"))) {
      HttpResponse<Buffer> r = request.putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(big))
        .await();
      assertEquals(413, r.statusCode());
      JsonObject body = r.bodyAsJsonObject();
      assertEquals("the request body is larger than http.maxBodyBytes (2048 bytes)", body.getString("error"));
      assertEquals(2048, body.getJsonObject("detail").getInteger("max"));
    }
    // chunked, so the limit is found while reading, not from Content-Length
    String chunked = exchange("POST /people HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + Integer.toHexString(big.length()) + "\r\n" + big
      + "\r\n0\r\n\r\n");
    assertTrue(chunked.startsWith("HTTP/1.1 413"), chunked);
    assertTrue(chunked.contains("http.maxBodyBytes (2048 bytes)"), chunked);
  }

  @Test
  void aBodyThatDoesNotArriveSaysTheTimeout() throws Exception {
    try (Socket s = open()) {
      s.getOutputStream().write(("POST /people HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + "Content-Length: 40\r\n\r\n{\"name\":").getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      String answer = readResponse(s);
      assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
      assertTrue(answer.contains("\"error\":\"the request body did not arrive, or was not handled, within"
        + " http.bodyTimeoutMs (2000 ms)\""), answer);
      assertTrue(answer.toLowerCase().contains("retry-after: 1"), answer);
    }
  }

  @Test
  void malformedRequestsGetJsonInWordsThenTheConnectionCloses() throws Exception {
    for (String bad : new String[] {"GET /hello HTTP/1.1 extra\r\nHost: x\r\n\r\n", "BLAH\r\n\r\n",
      "GET /hello HTTP/1.1\r\nBad Header: x\r\nHost: x\r\n\r\n"}) {
      String answer = exchange(bad);
      assertTrue(answer.matches("(?s)HTTP/1\\.[01] 400 .*"), answer);
      assertTrue(answer.contains("content-type: application/json"), answer);
      String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
      assertTrue(new JsonObject(body).getString("error").startsWith("the request is not valid HTTP/1.1: "), body);
    }
  }

  @Test
  void badPercentEncodingIs400InWords() throws Exception {
    for (String uri : new String[] {"/fib/%zz", "/people/%zz", "/%zz", "/fib/30?algorithm=%zz", "/hello?repeat=%zz",
      "/people?limit=%g1", "/hello?x=%"}) {
      HttpResponse<Buffer> r = node.client().get(uri).send().await();
      assertEquals(400, r.statusCode(), uri);
      assertEquals("application/json", r.getHeader("Content-Type"), uri);
      assertTrue(r.bodyAsJsonObject().getString("error").contains("is not valid percent-encoding (RFC 3986)"),
        r.bodyAsString());
    }
    assertFalse(node.client().get("/hello?x=%41").send().await().bodyAsString().contains("error"));
  }

  private Socket open() throws Exception {
    Socket s = new Socket("127.0.0.1", node.service().httpPort());
    s.setSoTimeout(20_000);
    return s;
  }

  /** Sends raw bytes and reads until the server closes the connection. */
  private String exchange(String request) throws Exception {
    try (Socket s = open()) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[65536];
      for (int n; (n = in.read(buf)) > 0; ) {
        all.write(buf, 0, n);
      }
      return all.toString(StandardCharsets.ISO_8859_1);
    }
  }

  /** One response, head and Content-Length body, on a connection that stays open. */
  private static String readResponse(Socket s) throws Exception {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    int end = -1;
    byte[] buf = new byte[8192];
    while (true) {
      String text = all.toString(StandardCharsets.ISO_8859_1);
      int head = text.indexOf("\r\n\r\n");
      if (head >= 0 && end < 0) {
        MultiMap h = MultiMap.caseInsensitiveMultiMap();
        for (String line : text.substring(0, head).split("\r\n")) {
          int colon = line.indexOf(':');
          if (colon > 0) {
            h.add(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
          }
        }
        end = head + 4 + Integer.parseInt(h.get("content-length"));
      }
      if (end >= 0 && all.size() >= end) {
        return text;
      }
      int n = in.read(buf);
      if (n < 0) {
        return text;
      }
      all.write(buf, 0, n);
    }
  }
}
