package dev.fibservice.http;

import dev.fibservice.TestNode;
import dev.fibservice.net.Origins;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The origin rule, as a browser meets it: any page may read, only the service's own page and the origins of
 * http.corsWriteOrigins may write; calls without an Origin (curl, services) are not affected.
 */
class CorsTest {

  private static final String LISTED = "https://app.example";
  private static final String FOREIGN = "http://evil.example";

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("cors", Map.of("http.corsWriteOrigins",
    "https://other.example, " + LISTED + "/"));

  private HttpResponse<Buffer> create(String name, String origin, String host) throws Exception {
    HttpRequest<Buffer> request = node.client().post("/people").putHeader("Content-Type", "application/json");
    if (origin != null) {
      request.putHeader("Origin", origin);
    }
    if (host != null) {
      request.putHeader("Host", host);
    }
    return request.sendBuffer(new JsonObject().put("name", name).put("age", 30).toBuffer()).await();
  }

  private int status(String name) throws Exception {
    return node.client().get("/people/" + name).send().await().statusCode();
  }

  @Test
  void aForeignPageCannotWrite() throws Exception {
    HttpResponse<Buffer> r = create("Mallory", FOREIGN, null);
    assertEquals(403, r.statusCode(), r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("origin " + FOREIGN + " may not send POST requests"),
      r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("http.corsWriteOrigins"), r.bodyAsString());
    assertNull(r.getHeader("Access-Control-Allow-Origin"));
    assertEquals(404, status("Mallory"), "nothing was created");
    // a "simple" request, the kind a page sends without a preflight: refused for its type alone
    HttpResponse<Buffer> simple = node.client().post("/people").putHeader("Content-Type", "text/plain")
      .putHeader("Origin", FOREIGN).sendBuffer(Buffer.buffer("{\"name\":\"Mallory\",\"age\":3}")).await();
    assertTrue(simple.statusCode() == 403 || simple.statusCode() == 415, String.valueOf(simple.statusCode()));
    assertEquals(404, status("Mallory"), "nothing was created");
    // nor change or delete
    assertEquals(403, node.client().put("/people/Han%20Meimei").putHeader("Origin", FOREIGN)
      .putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("{\"age\":99}")).await().statusCode());
    assertEquals(403, node.client().delete("/people/Han%20Meimei").putHeader("Origin", FOREIGN).send().await().statusCode());
    JsonObject han = node.client().get("/people/Han%20Meimei").send().await().bodyAsJsonObject().getJsonObject("result");
    assertEquals(20, han.getInteger("age"), "not changed, not deleted");
    assertEquals(403, node.client().post("/jobs").putHeader("Origin", FOREIGN).putHeader("Content-Type", "application/json")
      .sendBuffer(Buffer.buffer("{\"n\":5}")).await().statusCode());
  }

  @Test
  void theForeignPreflightForAWriteIsRefused() throws Exception {
    for (String method : new String[] {"POST", "PUT", "DELETE"}) {
      HttpResponse<Buffer> preflight = node.client().request(HttpMethod.OPTIONS, "/people").putHeader("Origin", FOREIGN)
        .putHeader("Access-Control-Request-Method", method).putHeader("Access-Control-Request-Headers", "content-type")
        .send().await();
      assertEquals(403, preflight.statusCode(), method);
      assertNull(preflight.getHeader("Access-Control-Allow-Origin"), method + ": the browser must not send it");
      assertNull(preflight.getHeader("Access-Control-Allow-Methods"), method);
    }
  }

  @Test
  void aPreflightForNoMethodIs400() throws Exception {
    HttpResponse<Buffer> r = node.client().request(HttpMethod.OPTIONS, "/people").putHeader("Origin", FOREIGN)
      .putHeader("Access-Control-Request-Method", "GE T").send().await();
    assertEquals(400, r.statusCode(), r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getString("error").contains("not an HTTP method"), r.bodyAsString());
  }

  @Test
  void anyPageCanRead() throws Exception {
    HttpResponse<Buffer> get = node.client().get("/people/Han%20Meimei").putHeader("Origin", FOREIGN).send().await();
    assertEquals(200, get.statusCode());
    assertEquals("*", get.getHeader("Access-Control-Allow-Origin"));
    assertTrue(get.getHeader("Access-Control-Expose-Headers").contains("X-Request-Id"));
    assertEquals("*", node.client().head("/fib/10").putHeader("Origin", FOREIGN).send().await()
      .getHeader("Access-Control-Allow-Origin"));
    // a read with a custom header is preflighted: allowed, for reads only
    HttpResponse<Buffer> preflight = node.client().request(HttpMethod.OPTIONS, "/fib/10").putHeader("Origin", FOREIGN)
      .putHeader("Access-Control-Request-Method", "GET").putHeader("Access-Control-Request-Headers", "x-request-id")
      .send().await();
    assertEquals(204, preflight.statusCode());
    assertEquals("*", preflight.getHeader("Access-Control-Allow-Origin"));
    assertEquals("GET, HEAD", preflight.getHeader("Access-Control-Allow-Methods"));
    assertTrue(preflight.getHeader("Access-Control-Allow-Headers").contains("X-Request-Id"));
  }

  @Test
  void listedOriginsAndTheServicesOwnPageCanWrite() throws Exception {
    HttpResponse<Buffer> preflight = node.client().request(HttpMethod.OPTIONS, "/people").putHeader("Origin", LISTED)
      .putHeader("Access-Control-Request-Method", "POST").putHeader("Access-Control-Request-Headers", "content-type")
      .send().await();
    assertEquals(204, preflight.statusCode());
    assertEquals("*", preflight.getHeader("Access-Control-Allow-Origin"));
    assertTrue(preflight.getHeader("Access-Control-Allow-Methods").contains("POST"));
    assertTrue(preflight.getHeader("Access-Control-Allow-Headers").contains("Content-Type"));

    HttpResponse<Buffer> listed = create("Listed", LISTED, null);
    assertEquals(201, listed.statusCode(), listed.bodyAsString());
    assertEquals("*", listed.getHeader("Access-Control-Allow-Origin"));
    assertEquals(204, node.client().delete("/people/Listed").putHeader("Origin", "HTTPS://APP.EXAMPLE").send().await()
      .statusCode());

    String own = "http://127.0.0.1:" + node.service().httpPort();
    assertEquals(201, create("Own", own, null).statusCode());
    assertEquals(204, node.client().delete("/people/Own").putHeader("Origin", own).send().await().statusCode());
    assertEquals(201, create("Localhost", "http://localhost:" + node.service().httpPort(), "localhost:" + node.service().httpPort())
      .statusCode());
    assertEquals(204, node.client().delete("/people/Localhost").send().await().statusCode());
  }

  @Test
  void aNameThatResolvesHereIsNotOurOwnOrigin() throws Exception {
    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 sends Host and Origin that agree
    String host = "evil.example:" + node.service().httpPort();
    assertEquals(403, create("Rebound", "http://" + host, host).statusCode());
    assertEquals(404, status("Rebound"));
    // and another port of this host is another origin
    assertEquals(403, create("OtherPort", "http://127.0.0.1:1", null).statusCode());
    assertEquals(403, create("Null", "null", null).statusCode());
  }

  @Test
  void callsWithoutAnOriginAreNotAffected() throws Exception {
    HttpResponse<Buffer> r = create("Curl", null, null);
    assertEquals(201, r.statusCode(), r.bodyAsString());
    assertNull(r.getHeader("Access-Control-Allow-Origin"));
    assertEquals(204, node.client().delete("/people/Curl").send().await().statusCode());
    assertFalse(node.client().get("/fib/10").send().await().headers().contains("Access-Control-Allow-Origin"));
  }

  @Test
  void ownOriginIsTheRequestsOwnHostByAddress() {
    assertTrue(Origins.own("http://127.0.0.1:8080", "127.0.0.1:8080"));
    assertTrue(Origins.own("http://localhost:8080", "LOCALHOST:8080"));
    assertTrue(Origins.own("http://[::1]:8080", "[::1]:8080"));
    assertTrue(Origins.own("https://10.0.0.5", "10.0.0.5"));
    assertFalse(Origins.own("http://127.0.0.1:8081", "127.0.0.1:8080"));
    assertFalse(Origins.own("http://fib.example", "fib.example"));
    assertFalse(Origins.own("http://127.0.0.1:8080", null));
    assertFalse(Origins.own("null", "127.0.0.1:8080"));
  }
}
