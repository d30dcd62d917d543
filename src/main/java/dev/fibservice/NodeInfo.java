package dev.fibservice;

import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.ops.Metrics;
import io.vertx.core.json.JsonObject;

/** Facts about this node that every verticle may show: its settings, name, transport and version. */
public record NodeInfo(Settings settings, String name, String transport, String version, Database database,
                       Metrics metrics) {

  public static String currentVersion() {
    String version = NodeInfo.class.getPackage().getImplementationVersion();
    return version != null ? version : "dev";
  }

  /** The Vert.x version, from the resource vertx-core ships for that purpose. */
  public static String vertxVersion() {
    try (var in = NodeInfo.class.getResourceAsStream("/META-INF/vertx/vertx-version.txt")) {
      return in == null ? "unknown" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
      .put("node", name)
      .put("version", version)
      .put("vertx", vertxVersion())
      .put("instances", settings.getInt(Settings.INSTANCES))
      .put("eventLoops", settings.getInt(Settings.EVENT_LOOPS))
      .put("workers", new JsonObject()
        .put("heavy", settings.getInt(Settings.WORKER_INSTANCES))
        .put("light", settings.getInt(Settings.FIB_LIGHT_WORKERS)))
      .put("transport", transport)
      .put("database", database.toJson())
      .put("jvm", Runtime.version().toString())
      .put("cores", Runtime.getRuntime().availableProcessors());
  }
}
