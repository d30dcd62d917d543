package dev.fibservice.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Reading a trace as Zipkin's API gives it (v2 JSON spans: id, parentId, name, kind, tags, annotations). */
final class ZipkinSpans {

  private ZipkinSpans() {
  }

  /** A random W3C id of this many bytes, in hex (never all zeros). */
  static String randomId(int bytes) {
    byte[] b = new byte[bytes];
    ThreadLocalRandom.current().nextBytes(b);
    b[0] |= 1;
    return HexFormat.of().formatHex(b);
  }

  static List<JsonObject> named(JsonArray trace, String name) {
    List<JsonObject> spans = new ArrayList<>();
    trace.forEach(s -> {
      if (name.equals(((JsonObject) s).getString("name"))) {
        spans.add((JsonObject) s);
      }
    });
    return spans;
  }

  static JsonObject one(JsonArray trace, String name) {
    List<JsonObject> spans = named(trace, name);
    if (spans.size() != 1) {
      throw new AssertionError(spans.size() + " spans named " + name + " in " + trace.encodePrettily());
    }
    return spans.get(0);
  }

  /** The one span named so whose parent is {@code parent}. */
  static JsonObject childOf(JsonArray trace, JsonObject parent, String name) {
    List<JsonObject> spans = named(trace, name).stream()
      .filter(s -> parent.getString("id").equals(s.getString("parentId"))).toList();
    if (spans.size() != 1) {
      throw new AssertionError(spans.size() + " spans named " + name + " under " + parent.getString("name") + " "
        + parent.getString("id") + " in " + trace.encodePrettily());
    }
    return spans.get(0);
  }

  static String tag(JsonObject span, String key) {
    JsonObject tags = span.getJsonObject("tags");
    return tags == null ? null : tags.getString(key);
  }
}
