package dev.fibservice.http;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.db.Database;
import dev.fibservice.db.PeopleStore;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The people API. Answers {"status":"success","result":...}; failures add {"status":"fail","result":{}}
 * to the usual {"error":...}. Names come URL-decoded from the path, so any Unicode name works; they
 * compare exactly (a trailing space makes another name), and text that is not valid Unicode is refused,
 * never stored changed.
 */
final class PeopleRoutes {

  static final int MAX_PAGE = 100;
  private static final Pattern IMAGE_PATH = Pattern.compile("/images/[A-Za-z0-9._-]{1,100}");
  private static final Pattern URL = Pattern.compile("https?://[^\\s\"<>]{1,500}");

  private final Database database;
  private final PeopleStore store;

  PeopleRoutes(Database database, PeopleStore store) {
    this.database = database;
    this.store = store;
  }

  void mount(Router router) {
    router.get("/people").handler(this::list);
    router.post("/people").handler(this::create);
    router.get("/people/:name").handler(this::get);
    router.put("/people/:name").handler(this::update);
    router.delete("/people/:name").handler(this::delete);
  }

  private boolean unavailable(RoutingContext ctx) {
    ServiceError error = database.check();
    if (error != null) {
      ctx.fail(error);
      return true;
    }
    return false;
  }

  private void list(RoutingContext ctx) {
    if (unavailable(ctx)) {
      return;
    }
    int limit = intParam(ctx, "limit", 20, 1, MAX_PAGE);
    int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
    reply(ctx, store.page(limit, offset).map(page -> success(page.getJsonArray("people"))
      .put("total", page.getLong("total")).put("limit", limit).put("offset", offset)), 200);
  }

  private void get(RoutingContext ctx) {
    if (unavailable(ctx)) {
      return;
    }
    String name = pathName(ctx);
    store.byName(name).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(Database.failure(ar.cause()));
      } else if (ar.result() == null) {
        notFound(ctx, name);
      } else {
        send(ctx, 200, success(ar.result()));
      }
    });
  }

  private void create(RoutingContext ctx) {
    if (unavailable(ctx)) {
      return;
    }
    JsonObject person = validPerson(body(ctx), null);
    store.insert(person).onComplete(ar -> {
      if (ar.failed()) {
        ServiceError e = Database.failure(ar.cause());
        ctx.fail(e.status() == 409 ? conflict(person.getString("name")) : e);
        return;
      }
      ctx.response().putHeader(HttpHeaders.LOCATION, "/people/" + encode(person.getString("name")));
      send(ctx, 201, success(person));
    });
  }

  private void update(RoutingContext ctx) {
    if (unavailable(ctx)) {
      return;
    }
    String name = pathName(ctx);
    JsonObject person = validPerson(body(ctx), name);
    store.update(name, person).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(Database.failure(ar.cause()));
      } else if (!ar.result()) {
        notFound(ctx, name);
      } else {
        send(ctx, 200, success(person));
      }
    });
  }

  private void delete(RoutingContext ctx) {
    if (unavailable(ctx)) {
      return;
    }
    String name = pathName(ctx);
    store.delete(name).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(Database.failure(ar.cause()));
      } else if (!ar.result()) {
        notFound(ctx, name);
      } else {
        ctx.response().setStatusCode(204).end();
      }
    });
  }

  /**
   * The name in the path: the segment's bytes, %XX escapes decoded, read as UTF-8. The router's decoding serves when
   * the segment is ASCII and its result holds no U+FFFD; otherwise the name is decoded again from the raw path,
   * strictly: the router turns bytes that are no UTF-8 into U+FFFD, and reads bytes above 0x7F sent unescaped as
   * ISO-8859-1 (an unescaped "é" became "Ã©"; found by fuzzing), where the name must be refused or read as UTF-8.
   */
  private static String pathName(RoutingContext ctx) {
    return pathName(ctx.pathParam("name"), ctx.request().path());
  }

  /** The name from the router's decoding of it and the raw path it came from (see {@link #pathName(RoutingContext)}). */
  static String pathName(String name, String path) {
    String segment = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String raw = segment.substring(segment.lastIndexOf('/') + 1);
    if (name.indexOf('\uFFFD') < 0 && ascii(raw)) {
      return name;
    }
    return strictUtf8(percentDecoded(raw), "the name in the path, once percent-decoded,", "name");
  }

  private static boolean ascii(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) > 0x7f) {
        return false;
      }
    }
    return true;
  }

  /**
   * The raw path segment's bytes (Netty reads the request line as ISO-8859-1), its %XX escapes decoded; the escapes are
   * valid ({@link HttpRules#escapes} checked them before routing).
   */
  private static byte[] percentDecoded(String raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%' && i + 2 < raw.length()) {
        out.write(HttpRules.hex(raw.charAt(i + 1)) * 16 + HttpRules.hex(raw.charAt(i + 2)));
        i += 2;
      } else {
        out.write(c);
      }
    }
    return out.toByteArray();
  }

  /** The bytes as UTF-8, or a 400 naming the first bad byte: nothing is silently replaced. */
  private static String strictUtf8(byte[] bytes, String what, String param) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int offset = in.position();
      throw ServiceError.badRequest(what + " is not valid UTF-8: byte 0x" + String.format("%02X", bytes[offset] & 0xff)
        + " at byte offset " + offset + " does not start a valid UTF-8 sequence; send text as UTF-8",
        new JsonObject().put("param", param).put("offset", offset));
    }
    return out.flip().toString();
  }

  /** Refuses a string with a lone surrogate (JSON's "\\ud800" escape alone): it has no UTF-8 form. */
  private static void validUnicode(String text, String what, String param) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw bad(what + " is not valid Unicode: a lone surrogate \\u" + String.format("%04x", (int) c)
          + " at character " + text.codePointCount(0, i) + " (one half of a pair, which no character is)", param);
      }
    }
  }

  private static JsonObject body(RoutingContext ctx) {
    return body(ctx.body().buffer());
  }

  /** The request body (null when there was none) as a JSON object, or a 400 saying why it is not one. */
  static JsonObject body(Buffer buffer) {
    String text = buffer == null ? null : strictUtf8(buffer.getBytes(), "the body", "body");
    if (text == null || text.isBlank()) {
      throw bad("the body must be a JSON object like {\"name\":\"Ada\",\"age\":36,\"career\":\"engineer\"}", "body");
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw bad("the body is not a JSON object: " + Text.firstLine(e.getMessage()), "body");
    }
  }

  /**
   * Checks every field: name 1-100 characters, age an integer 0-150, career at most 100 characters,
   * picture absent, an /images/ path or an http(s) URL. Unknown fields are refused, so typos show.
   */
  static JsonObject validPerson(JsonObject in, String pathName) {
    for (String field : in.fieldNames()) {
      validUnicode(field, "a field name", "body");
      if (!field.equals("name") && !field.equals("age") && !field.equals("career") && !field.equals("picture")) {
        throw bad("unknown field '" + field + "'; a person has name, age, career and picture", field);
      }
      if (in.getValue(field) instanceof String value) {
        validUnicode(value, field, field);
      }
    }
    Object name = in.getValue("name");
    if (pathName != null && name == null) {
      name = pathName;
    }
    if (!(name instanceof String n) || n.isBlank() || n.codePointCount(0, n.length()) > 100) {
      throw bad("name must be a non-blank string of 1 to 100 characters", "name");
    }
    if (pathName != null && !pathName.equals(n)) {
      throw bad("name in the body ('" + Text.abbreviate(n) + "') differs from the path ('" + Text.abbreviate(pathName)
        + "'); renaming is not supported", "name");
    }
    Object age = in.getValue("age");
    if (!(age instanceof Integer || age instanceof Long) || ((Number) age).longValue() < 0
      || ((Number) age).longValue() > 150) {
      throw bad("age must be an integer from 0 to 150, got " + Text.abbreviate(String.valueOf(age)), "age");
    }
    Object career = in.getValue("career", "");
    if (!(career instanceof String c) || c.codePointCount(0, c.length()) > 100) {
      throw bad("career must be a string of at most 100 characters", "career");
    }
    Object picture = in.getValue("picture");
    if (picture != null && !(picture instanceof String p && (IMAGE_PATH.matcher(p).matches() || URL.matcher(p).matches()))) {
      throw bad("picture must be an /images/<file> path or an http(s) URL of at most 500 characters", "picture");
    }
    return new JsonObject().put("name", n).put("age", ((Number) age).intValue()).put("career", career)
      .put("picture", picture);
  }

  private static int intParam(RoutingContext ctx, String name, int def, int min, int max) {
    String raw = ctx.request().getParam(name);
    if (raw == null) {
      return def;
    }
    if (raw.matches("\\d{1,10}")) {
      long value = Long.parseLong(raw);
      if (value >= min && value <= max) {
        return (int) value;
      }
    }
    throw bad(name + " must be a whole number from " + min + " to " + max + ", got '" + Text.abbreviate(raw) + "'",
      name);
  }

  private static void reply(RoutingContext ctx, Future<JsonObject> result, int status) {
    result.onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(Database.failure(ar.cause()));
      } else {
        send(ctx, status, ar.result());
      }
    });
  }

  private static JsonObject success(Object result) {
    return new JsonObject().put("status", "success").put("result", result);
  }

  private static void notFound(RoutingContext ctx, String name) {
    ctx.fail(new ServiceError(ServiceError.NOT_FOUND, "no person named '" + Text.abbreviate(name) + "'", null));
  }

  private static ServiceError conflict(String name) {
    return new ServiceError(409, "a person named '" + Text.abbreviate(name) + "' already exists", null);
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, HttpVerticle.APPLICATION_JSON)
      .end(body.toBuffer());
  }

  private static ServiceError bad(String message, String param) {
    return ServiceError.badRequest(message, new JsonObject().put("param", param));
  }

  static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

}
