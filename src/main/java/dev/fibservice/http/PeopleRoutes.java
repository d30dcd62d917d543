package dev.fibservice.http;

import dev.fibservice.ServiceError;
import dev.fibservice.db.Database;
import dev.fibservice.db.PeopleStore;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The people API. Answers {"status":"success","result":...}; failures add {"status":"fail","result":{}}
 * to the usual {"error":...}. Names come URL-decoded from the path, so any Unicode name works.
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
    String name = ctx.pathParam("name");
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
    String name = ctx.pathParam("name");
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
    String name = ctx.pathParam("name");
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

  private static JsonObject body(RoutingContext ctx) {
    String text = ctx.body().asString();
    if (text == null || text.isBlank()) {
      throw bad("the body must be a JSON object like {\"name\":\"Ada\",\"age\":36,\"career\":\"engineer\"}", "body");
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw bad("the body is not a JSON object: " + firstLine(e.getMessage()), "body");
    }
  }

  /**
   * Checks every field: name 1-100 characters, age an integer 0-150, career at most 100 characters,
   * picture absent, an /images/ path or an http(s) URL. Unknown fields are refused, so typos show.
   */
  static JsonObject validPerson(JsonObject in, String pathName) {
    for (String field : in.fieldNames()) {
      if (!field.equals("name") && !field.equals("age") && !field.equals("career") && !field.equals("picture")) {
        throw bad("unknown field '" + field + "'; a person has name, age, career and picture", field);
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
      throw bad("name in the body ('" + abbreviate(n) + "') differs from the path ('" + abbreviate(pathName)
        + "'); renaming is not supported", "name");
    }
    Object age = in.getValue("age");
    if (!(age instanceof Integer || age instanceof Long) || ((Number) age).longValue() < 0
      || ((Number) age).longValue() > 150) {
      throw bad("age must be an integer from 0 to 150, got " + abbreviate(String.valueOf(age)), "age");
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
    throw bad(name + " must be a whole number from " + min + " to " + max + ", got '" + abbreviate(raw) + "'", name);
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
    ctx.fail(new ServiceError(ServiceError.NOT_FOUND, "no person named '" + abbreviate(name) + "'", null));
  }

  private static ServiceError conflict(String name) {
    return new ServiceError(409, "a person named '" + abbreviate(name) + "' already exists", null);
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

  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 37) + "...";
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }
}
