package dev.fibservice.http;

import dev.fibservice.TestNode;
import dev.fibservice.net.Raw;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /db, the people API, pictures and CORS against a real MariaDB. */
class PeopleApiTest {

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("people_api", Map.of());

  private HttpResponse<Buffer> callBytes(HttpMethod method, String uri, byte[] body) throws Exception {
    return node.client().request(method, uri).putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer(body))
      .await();
  }

  private static void assertFail(HttpResponse<Buffer> r, int status, String message) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    JsonObject body = r.bodyAsJsonObject();
    assertEquals("fail", body.getString("status"));
    assertEquals(new JsonObject(), body.getJsonObject("result"));
    assertTrue(body.getString("error").contains(message), () -> body.getString("error") + " should contain " + message);
  }

  @Test
  void selectOne() throws Exception {
    HttpResponse<Buffer> r = node.call(HttpMethod.GET, "/db", null);
    assertEquals(200, r.statusCode());
    assertEquals(new JsonObject().put("value", 1), r.bodyAsJsonObject());
  }

  @Test
  void seededPeopleWithPictures() throws Exception {
    JsonObject han = node.call(HttpMethod.GET, "/people/Han%20Meimei", null).bodyAsJsonObject();
    assertEquals(new JsonObject("{\"status\":\"success\",\"result\":{\"name\":\"Han Meimei\",\"age\":20,"
      + "\"career\":\"student\",\"picture\":\"/images/1.jpg\"}}"), han);
    for (String name : new String[] {"Brus%20Lee", "Jack%20Chen"}) {
      JsonObject person = node.call(HttpMethod.GET, "/people/" + name, null).bodyAsJsonObject().getJsonObject("result");
      HttpResponse<Buffer> picture = node.call(HttpMethod.GET, person.getString("picture"), null);
      assertEquals(200, picture.statusCode());
      assertEquals("image/jpeg", picture.getHeader("content-type"));
      assertTrue(picture.getHeader("cache-control").contains("max-age="));
      // a real JPEG: starts with the SOI marker
      assertEquals((byte) 0xFF, picture.body().getByte(0));
      assertEquals((byte) 0xD8, picture.body().getByte(1));
    }
  }

  @Test
  void picturesRefuseTraversal() throws Exception {
    assertEquals(404, node.call(HttpMethod.GET, "/images/../logback.xml", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/images/%2e%2e/logback.xml", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/images/%2Fetc%2Fpasswd", null).statusCode());
    assertEquals(404, node.call(HttpMethod.GET, "/images/nope.jpg", null).statusCode());
  }

  /**
   * A name is the path's bytes as UTF-8 or a 400, never other text (BodiesFuzzTest#peoplePathName found both): "%%"
   * named the person "a%" (vertx-web reads it as "%" and drops the rest), and "é" sent unescaped as UTF-8 named "Ã©".
   */
  @Test
  void aPathNameIsItsBytesAsUtf8OrRefused() throws Exception {
    assertEquals(201, node.call(HttpMethod.POST, "/people", "{\"name\":\"Zo\u00e9\",\"age\":3}").statusCode());
    assertEquals(201, node.call(HttpMethod.POST, "/people", "{\"name\":\"a%\",\"age\":3}").statusCode());
    try (Socket socket = Raw.connect(node.service().httpPort())) {
      Raw.send(socket, "GET /people/Zo\u00c3\u00a9 HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /people/a%%bc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      List<Raw.HttpReply> replies = Raw.httpReplies(Raw.readToEnd(socket));
      assertEquals(200, replies.get(0).status(), replies.get(0).body());
      assertEquals("Zo\u00e9", new JsonObject(replies.get(0).body()).getJsonObject("result").getString("name"));
      assertEquals(400, replies.get(1).status(), replies.get(1).body());
      assertTrue(replies.get(1).body().contains("is not valid percent-encoding"), replies.get(1).body());
    }
  }

  @Test
  void unknownPersonIs404() throws Exception {
    assertFail(node.call(HttpMethod.GET, "/people/Nobody%20Here", null), 404, "no person named 'Nobody Here'");
  }

  @Test
  void createReadUpdateDelete() throws Exception {
    HttpResponse<Buffer> created = node.call(HttpMethod.POST, "/people",
      "{\"name\":\"Ada Lovelace\",\"age\":36,\"career\":\"mathematician\",\"picture\":\"https://example.com/ada.png\"}");
    assertEquals(201, created.statusCode(), created.bodyAsString());
    assertEquals("/people/Ada%20Lovelace", created.getHeader("Location"));
    assertEquals("success", created.bodyAsJsonObject().getString("status"));
    assertEquals(36, node.call(HttpMethod.GET, "/people/Ada%20Lovelace", null).bodyAsJsonObject().getJsonObject("result")
      .getInteger("age"));

    HttpResponse<Buffer> updated = node.call(HttpMethod.PUT, "/people/Ada%20Lovelace", "{\"age\":37,\"career\":\"poet\"}");
    assertEquals(200, updated.statusCode(), updated.bodyAsString());
    JsonObject ada = node.call(HttpMethod.GET, "/people/Ada%20Lovelace", null).bodyAsJsonObject().getJsonObject("result");
    assertEquals(37, ada.getInteger("age"));
    assertEquals("poet", ada.getString("career"));
    assertNull(ada.getString("picture"));
    // the same values again: still 200 (the row matched, even if nothing changed)
    assertEquals(200, node.call(HttpMethod.PUT, "/people/Ada%20Lovelace", "{\"age\":37,\"career\":\"poet\"}").statusCode());

    assertEquals(204, node.call(HttpMethod.DELETE, "/people/Ada%20Lovelace", null).statusCode());
    assertFail(node.call(HttpMethod.GET, "/people/Ada%20Lovelace", null), 404, "no person");
    assertFail(node.call(HttpMethod.DELETE, "/people/Ada%20Lovelace", null), 404, "no person");
    assertFail(node.call(HttpMethod.PUT, "/people/Ada%20Lovelace", "{\"age\":1}"), 404, "no person");
  }

  @Test
  void unicodeNames() throws Exception {
    String name = "Zoë Ñandú 王小明 🎻";
    HttpResponse<Buffer> created = node.call(HttpMethod.POST, "/people", new JsonObject().put("name", name).put("age", 8).encode());
    assertEquals(201, created.statusCode(), created.bodyAsString());
    String location = created.getHeader("Location");
    JsonObject back = node.call(HttpMethod.GET, location, null).bodyAsJsonObject().getJsonObject("result");
    assertEquals(name, back.getString("name"));
    assertEquals(204, node.call(HttpMethod.DELETE, location, null).statusCode());
  }

  @Test
  void namesCompareExactly() throws Exception {
    assertEquals(201, node.call(HttpMethod.POST, "/people", "{\"name\":\"Zoe\",\"age\":30}").statusCode());
    // a trailing space makes another name (the pad-space collation took them for one)
    HttpResponse<Buffer> spaced = node.call(HttpMethod.POST, "/people", "{\"name\":\"Zoe \",\"age\":31}");
    assertEquals(201, spaced.statusCode(), spaced.bodyAsString());
    assertEquals("/people/Zoe%20", spaced.getHeader("Location"));
    assertFail(node.call(HttpMethod.PUT, "/people/Zoe%20%20", "{\"age\":99}"), 404, "no person named 'Zoe  '");
    assertFail(node.call(HttpMethod.DELETE, "/people/Zoe%20%20", null), 404, "no person named 'Zoe  '");
    assertEquals(200, node.call(HttpMethod.PUT, "/people/Zoe%20", "{\"age\":32}").statusCode());
    assertEquals(30, node.call(HttpMethod.GET, "/people/Zoe", null).bodyAsJsonObject().getJsonObject("result").getInteger("age"));
    assertEquals(32, node.call(HttpMethod.GET, "/people/Zoe%20", null).bodyAsJsonObject().getJsonObject("result")
      .getInteger("age"));
    assertEquals(204, node.call(HttpMethod.DELETE, "/people/Zoe%20", null).statusCode());
    assertEquals(30, node.call(HttpMethod.GET, "/people/Zoe", null).bodyAsJsonObject().getJsonObject("result").getInteger("age"));
    // the unique key still holds for the very same name
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Zoe\",\"age\":5}"), 409, "already exists");
    assertEquals(204, node.call(HttpMethod.DELETE, "/people/Zoe", null).statusCode());
    assertFail(node.call(HttpMethod.GET, "/people/Zoe", null), 404, "no person named 'Zoe'");
  }

  @Test
  void invalidUnicodeIs400AndNothingIsStored() throws Exception {
    long total = node.call(HttpMethod.GET, "/people", null).bodyAsJsonObject().getLong("total");
    // JSON's \\ud800 escape alone: a lone surrogate, which has no UTF-8 form (it was stored as "lone?x")
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"lone\\ud800x\",\"age\":1}"), 400,
      "name is not valid Unicode: a lone surrogate \\ud800 at character 4");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Lo\",\"age\":1,\"career\":\"x\\udc00\"}"), 400,
      "career is not valid Unicode: a lone surrogate \\udc00 at character 1");
    assertFail(node.call(HttpMethod.PUT, "/people/Han%20Meimei", "{\"age\":1,\"career\":\"\\ud83d\"}"), 400,
      "career is not valid Unicode");
    // raw bytes that are not UTF-8 (they were stored as U+FFFD)
    byte[] raw = "{\"name\":\"bad\u00ff\",\"age\":1}".getBytes(StandardCharsets.ISO_8859_1);
    assertFail(callBytes(HttpMethod.POST, "/people", raw), 400,
      "the body is not valid UTF-8: byte 0xFF at byte offset 12 does not start a valid UTF-8 sequence");
    byte[] overlong = {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', ',', '"', 'a', 'g',
      'e', '"', ':', '1', '}'};
    assertFail(callBytes(HttpMethod.POST, "/people", overlong), 400, "byte 0xC0 at byte offset 9");
    // percent-encoded bytes in the path that are not UTF-8
    assertFail(node.call(HttpMethod.GET, "/people/%C3%28", null), 400,
      "the name in the path, once percent-decoded, is not valid UTF-8: byte 0xC3 at byte offset 0");
    assertFail(node.call(HttpMethod.PUT, "/people/Han%C3", "{\"age\":1}"), 400, "byte 0xC3 at byte offset 3");
    // a surrogate written as UTF-8 bytes (CESU) is no UTF-8 either
    assertFail(node.call(HttpMethod.DELETE, "/people/%ED%A0%80", null), 400, "not valid UTF-8");
    assertEquals(total, node.call(HttpMethod.GET, "/people", null).bodyAsJsonObject().getLong("total"));
    assertEquals(20, node.call(HttpMethod.GET, "/people/Han%20Meimei", null).bodyAsJsonObject().getJsonObject("result")
      .getInteger("age"));

    // U+FFFD itself is a character like any other
    HttpResponse<Buffer> replacement = node.call(HttpMethod.POST, "/people", "{\"name\":\"\uFFFD\",\"age\":2}");
    assertEquals(201, replacement.statusCode(), replacement.bodyAsString());
    assertEquals("/people/%EF%BF%BD", replacement.getHeader("Location"));
    assertEquals("\uFFFD", node.call(HttpMethod.GET, "/people/%EF%BF%BD", null).bodyAsJsonObject().getJsonObject("result")
      .getString("name"));
    assertEquals(204, node.call(HttpMethod.DELETE, "/people/%EF%BF%BD", null).statusCode());
  }

  @Test
  void sqlMetacharactersAreData() throws Exception {
    String name = "Robert'); DROP TABLE people;-- \\\" %_";
    HttpResponse<Buffer> created = node.call(HttpMethod.POST, "/people", new JsonObject().put("name", name).put("age", 10)
      .put("career", "' OR '1'='1").encode());
    assertEquals(201, created.statusCode(), created.bodyAsString());
    JsonObject back = node.call(HttpMethod.GET, created.getHeader("Location"), null).bodyAsJsonObject().getJsonObject("result");
    assertEquals(name, back.getString("name"));
    assertEquals("' OR '1'='1", back.getString("career"));
    assertFail(node.call(HttpMethod.GET, "/people/%25", null), 404, "no person");
    assertEquals(204, node.call(HttpMethod.DELETE, created.getHeader("Location"), null).statusCode());
    assertEquals("Han Meimei", node.call(HttpMethod.GET, "/people?limit=1", null).bodyAsJsonObject().getJsonArray("result")
      .getJsonObject(0).getString("name"));
  }

  @Test
  void validation() throws Exception {
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"\",\"age\":3}"), 400, "name must be a non-blank string");
    assertFail(node.call(HttpMethod.POST, "/people", new JsonObject().put("name", "x".repeat(101)).put("age", 3).encode()),
      400, "1 to 100 characters");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Old\",\"age\":151}"), 400, "age must be an integer from 0 to 150");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Neg\",\"age\":-1}"), 400, "age must be");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Str\",\"age\":\"30\"}"), 400, "age must be");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Frac\",\"age\":3.5}"), 400, "age must be");
    assertFail(node.call(HttpMethod.POST, "/people", new JsonObject().put("name", "C").put("age", 3).put("career", "c".repeat(101))
      .encode()), 400, "career must be a string of at most 100");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"P\",\"age\":3,\"picture\":\"javascript:alert(1)\"}"), 400,
      "picture must be");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"P\",\"age\":3,\"picture\":\"/images/../x\"}"), 400,
      "picture must be");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"P\",\"age\":3,\"nmae\":1}"), 400, "unknown field 'nmae'");
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":"), 400, "not a JSON object");
    assertFail(node.call(HttpMethod.POST, "/people", "[1,2]"), 400, "not a JSON object");
    assertFail(node.call(HttpMethod.POST, "/people", ""), 400, "must be a JSON object");
    assertFail(node.call(HttpMethod.PUT, "/people/Han%20Meimei", "{\"name\":\"Other\",\"age\":3}"), 400,
      "renaming is not supported");
    assertFail(node.call(HttpMethod.GET, "/people?limit=101", null), 400, "limit must be a whole number from 1 to 100");
    assertFail(node.call(HttpMethod.GET, "/people?offset=-1", null), 400, "offset must be");
  }

  @Test
  void bodyOver64KiBIs413() throws Exception {
    String big = new JsonObject().put("name", "Big").put("age", 3).put("career", "x".repeat(70_000)).encode();
    HttpResponse<Buffer> r = node.call(HttpMethod.POST, "/people", big);
    assertEquals(413, r.statusCode());
    assertEquals("fail", r.bodyAsJsonObject().getString("status"));
  }

  @Test
  void duplicateIs409AndConcurrentCreatesGiveOneWinner() throws Exception {
    assertFail(node.call(HttpMethod.POST, "/people", "{\"name\":\"Han Meimei\",\"age\":20}"), 409, "already exists");
    List<Future<HttpResponse<Buffer>>> racers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      racers.add(node.client().post("/people").sendJsonObject(new JsonObject().put("name", "Racer").put("age", i)));
    }
    Future.join(racers).await();
    long created = racers.stream().filter(f -> f.result().statusCode() == 201).count();
    long conflicts = racers.stream().filter(f -> f.result().statusCode() == 409).count();
    assertEquals(1, created);
    assertEquals(19, conflicts);
    assertEquals(204, node.call(HttpMethod.DELETE, "/people/Racer", null).statusCode());
  }

  @Test
  void paginationIsStable() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertEquals(201, node.call(HttpMethod.POST, "/people", new JsonObject().put("name", "Page " + i).put("age", i).encode())
        .statusCode());
    }
    JsonObject all = node.call(HttpMethod.GET, "/people?limit=100", null).bodyAsJsonObject();
    JsonArray everyone = all.getJsonArray("result");
    assertEquals(everyone.size(), all.getInteger("total"));
    JsonArray paged = new JsonArray();
    for (int offset = 0; offset < everyone.size(); offset += 2) {
      paged.addAll(node.call(HttpMethod.GET, "/people?limit=2&offset=" + offset, null).bodyAsJsonObject().getJsonArray("result"));
    }
    assertEquals(everyone, paged);
    assertEquals(0, node.call(HttpMethod.GET, "/people?offset=100000", null).bodyAsJsonObject().getJsonArray("result").size());
    for (int i = 0; i < 5; i++) {
      assertEquals(204, node.call(HttpMethod.DELETE, "/people/Page%20" + i, null).statusCode());
    }
  }

  @Test
  void corsPreflightAndHeaders() throws Exception {
    HttpResponse<Buffer> preflight = node.client().request(HttpMethod.OPTIONS, "/people")
      .putHeader("Origin", "http://page.example").putHeader("Access-Control-Request-Method", "GET")
      .putHeader("Access-Control-Request-Headers", "X-Request-Id").send().await();
    assertTrue(preflight.statusCode() == 204 || preflight.statusCode() == 200, String.valueOf(preflight.statusCode()));
    assertEquals("*", preflight.getHeader("Access-Control-Allow-Origin"));
    // pages of other origins read; writing is CorsTest's
    assertTrue(preflight.getHeader("Access-Control-Allow-Methods").contains("GET"));
    HttpResponse<Buffer> get = node.client().get("/people/Han%20Meimei").putHeader("Origin", "http://page.example").send().await();
    assertEquals("*", get.getHeader("Access-Control-Allow-Origin"));
  }
}
