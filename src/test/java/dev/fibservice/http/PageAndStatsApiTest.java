package dev.fibservice.http;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the page needs from the HTTP side, without a browser: the served-by headers, GET /stats, the static files. */
class PageAndStatsApiTest {

  private static FibService service;
  private static Vertx vertx;
  private static WebClient client;

  @BeforeAll
  static void start() throws Exception {
    service = TestNodes.start(Map.of("instances", "2", "fib.heavyWorkers", "2"));
    vertx = Vertx.vertx();
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.httpPort())
      // one connection per request: each new connection goes to the next instance
      .setKeepAlive(false));
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await();
    TestNodes.stop(service);
  }

  private static HttpResponse<Buffer> get(String uri) throws Exception {
    return client.get(uri).send().await();
  }

  @Test
  void everyResponseNamesItsInstanceAndEventLoop() throws Exception {
    Set<String> instances = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      HttpResponse<Buffer> r = get("/fib/30");
      assertEquals(200, r.statusCode());
      assertEquals("832040", r.bodyAsJsonObject().getString("value"), "the JSON contract is unchanged");
      assertTrue(r.getHeader("X-Served-By").matches("http-[12]"), r.getHeader("X-Served-By"));
      assertTrue(r.getHeader("X-Event-Loop").matches("vert\\.x-eventloop-thread-\\d+"), r.getHeader("X-Event-Loop"));
      instances.add(r.getHeader("X-Served-By") + " " + r.getHeader("X-Event-Loop"));
    }
    assertEquals(2, instances.size(), "new connections are spread over both instances, each on its own loop: " + instances);
    assertTrue(get("/nope").getHeader("X-Served-By").startsWith("http-"), "errors too");
  }

  @Test
  void theHelloFastPathCarriesNoMoreThanNginxButIsCounted() throws Exception {
    long before = requests(get("/stats").bodyAsJsonObject());
    HttpResponse<Buffer> hello = get("/hello");
    assertEquals(200, hello.statusCode());
    assertEquals(Set.of("content-type", "content-length"), names(hello), "the benchmark's page carries what nginx's does");
    assertEquals("84", hello.getHeader("content-length"));
    assertEquals(Set.of("content-type", "content-length"), names(get("/hello?repeat=3")));
    // the router's /hello (a bad repeat) still names its instance
    assertTrue(get("/hello?repeat=abc").getHeader("X-Served-By").startsWith("http-"));
    // the two /hello and the /hello?repeat=abc, and the first /stats (counted before its snapshot was taken)
    assertEquals(4, requests(get("/stats").bodyAsJsonObject()) - before);
  }

  private static Set<String> names(HttpResponse<Buffer> response) {
    Set<String> names = new HashSet<>();
    response.headers().names().forEach(n -> names.add(n.toLowerCase(Locale.ROOT)));
    names.remove("connection"); // close: this client opens a connection per request
    return names;
  }

  @Test
  void statsCountRequestsPerInstanceAndComputationsPerWorker() throws Exception {
    JsonObject before = get("/stats").bodyAsJsonObject();
    for (int i = 0; i < 4; i++) {
      assertEquals(200, get("/fib/30").statusCode());
    }
    assertEquals(200, get("/fib/25?algorithm=recursive").statusCode());
    HttpResponse<Buffer> r = get("/stats");
    assertEquals(200, r.statusCode());
    assertEquals("application/json", r.getHeader("content-type"));
    assertEquals("no-store", r.getHeader("cache-control"));
    JsonObject after = r.bodyAsJsonObject();
    assertEquals("test", after.getString("node"));
    assertTrue(after.getLong("uptimeMs") >= 0 && after.getLong("startedAt") > 0, after.encode());

    JsonArray http = after.getJsonArray("http");
    assertEquals(2, http.size(), http.encode());
    assertEquals("http-1", http.getJsonObject(0).getString("instance"));
    assertEquals("http-2", http.getJsonObject(1).getString("instance"));
    assertTrue(http.getJsonObject(0).getString("eventLoop").startsWith("vert.x-eventloop-thread-"));
    // 5 computations and this /stats request (the one before was counted before its snapshot was taken)
    assertEquals(6, requests(after) - requests(before), after.encode());

    assertEquals(4, computations(after, "test/light-1") - computations(before, "test/light-1"));
    assertEquals(1, computations(after, "test/heavy-1") + computations(after, "test/heavy-2")
      - computations(before, "test/heavy-1") - computations(before, "test/heavy-2"));
    assertEquals("heavy", worker(after, "test/heavy-2").getString("lane"));
    assertEquals(new JsonObject().put("light", 0).put("heavy", 0).put("maxPerLane", 256), after.getJsonObject("inFlight"));
  }

  @Test
  void servesThePageAndItsAssetsFromTheJar() throws Exception {
    HttpResponse<Buffer> page = get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.getHeader("content-type").startsWith("text/html"), page.getHeader("content-type"));
    assertTrue(page.bodyAsString().contains("<title>fib-service"), page.bodyAsString());
    for (String asset : new String[] {"/ui/app.js", "/ui/app.css", "/ui/favicon.svg"}) {
      assertEquals(200, get(asset).statusCode(), asset);
    }
    assertTrue(get("/ui/app.js").getHeader("content-type").contains("javascript"));
    // nothing else changes: unknown paths and methods answer as before
    assertEquals(404, get("/ui/nope.js").statusCode());
    assertEquals(404, get("/index.html").statusCode());
    assertEquals(404, get("/ui/../pom.xml").statusCode());
    assertEquals(405, client.request(HttpMethod.POST, "/").send().await().statusCode());
    assertEquals(200, get("/hello").statusCode());
  }

  private static long requests(JsonObject stats) {
    long sum = 0;
    for (Object h : stats.getJsonArray("http")) {
      sum += ((JsonObject) h).getLong("requests");
    }
    return sum;
  }

  private static JsonObject worker(JsonObject stats, String name) {
    for (Object w : stats.getJsonArray("workers")) {
      if (name.equals(((JsonObject) w).getString("worker"))) {
        return (JsonObject) w;
      }
    }
    throw new AssertionError(name + " not in " + stats.encode());
  }

  private static long computations(JsonObject stats, String name) {
    return worker(stats, name).getLong("computations");
  }
}
