package dev.fibservice.contracts;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.db.DbTestNodes;
import dev.fibservice.db.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What capturing and replaying a contract share: how one recorded exchange runs against a node (the event bus, the
 * TCP bridge, the SockJS bridge, the database), how run-dependent values (this member's id, a job's id) become
 * placeholders, and the rule by which a reply of this release is one an older consumer can read.
 */
final class Contracts {

  /** Where each release's fixtures live: {@code src/test/resources/contracts/<version>/}. */
  static final Path ROOT = Path.of("src", "test", "resources", "contracts");
  static final String EVENT_BUS = "event-bus.json";
  static final String TCP_BRIDGE = "tcp-bridge.json";
  static final String SOCKJS = "sockjs.json";
  static final String EMITTED = "emitted.json";
  static final String SCHEMA = "schema.json";
  static final String SQL = "sql.json";
  static final String CONFIG = "config-keys.json";
  static final String CLIENT = "client-protocol.json";

  /** Fields whose value (not only their type) an older consumer may rely on. */
  static final Set<String> STABLE = Set.of("type", "address", "replyAddress", "n", "algorithm", "value", "digits",
    "status", "failureCode", "failureType", "code", "member");
  static final String MEMBER = "{member}";
  static final String JOB = "{job}";

  private Contracts() {
  }

  /** The values a run substitutes for the placeholders: this member's id, the latest job id. */
  static final class Run {
    final ContractNode node;
    String job = "";

    Run(ContractNode node) {
      this.node = node;
    }

    Object fill(Object json) {
      return replace(json, Map.of(MEMBER, node.member(), JOB, job));
    }

    Object placeholders(Object json) {
      Map<String, String> back = new TreeMap<>();
      back.put(node.member(), MEMBER);
      if (!job.isEmpty()) {
        back.put(job, JOB);
      }
      return replace(json, back);
    }
  }

  /**
   * One event-bus exchange, as the fixture holds it: {@code address}, {@code headers}, {@code body}, and optionally
   * {@code cancel} (published once the request is in flight) and {@code until} (the request repeated, bounded, until
   * the reply has these values). Returns its outcome, {@code reply} or {@code failure}, with placeholders.
   */
  static JsonObject exchange(Run run, JsonObject entry) throws Exception {
    String address = (String) run.fill(entry.getString("address"));
    Object body = run.fill(entry.getValue("body"));
    JsonObject headers = entry.getJsonObject("headers", new JsonObject());
    JsonObject until = entry.getJsonObject("until");
    JsonObject cancel = entry.getJsonObject("cancel");
    JsonObject outcome;
    if (cancel != null) {
      var inFlight = CompletableFuture.supplyAsync(() -> run.node.request(address, body, headers));
      var admission = run.node.service().node().admission();
      Eventually.await("the request to be in flight", Duration.ofSeconds(30), () -> admission.inFlight() > 0);
      run.node.publish(cancel.getString("address"), run.fill(cancel.getValue("body")));
      outcome = inFlight.get(60, TimeUnit.SECONDS);
    } else if (until != null) {
      outcome = Eventually.poll(Duration.ofSeconds(60), () -> run.node.request(address, body, headers),
        o -> o.getJsonObject("reply") != null && until.stream()
          .allMatch(e -> e.getValue().equals(o.getJsonObject("reply").getValue(e.getKey()))));
    } else {
      outcome = run.node.request(address, body, headers);
    }
    if (outcome.getValue("reply") instanceof JsonObject reply && "jobs.submit".equals(address)
      && reply.getValue("id") instanceof String id) {
      run.job = id;
    }
    return (JsonObject) run.placeholders(outcome);
  }

  /** One bridge exchange: the frames of {@code send}, then {@code receive} frames read (fib.stats only if asked). */
  static JsonArray frames(ContractNode.FrameSocket socket, JsonObject entry) throws Exception {
    for (Object frame : entry.getJsonArray("send")) {
      socket.send((JsonObject) frame);
    }
    return ContractNode.array(socket.receive(entry.getInteger("receive"), entry.getBoolean("stats", false)));
  }

  /**
   * A schema as this build's migrations leave it, in a database of its own that no job runner polls (a node with
   * {@code jobs.workers} 0): where an older release's SQL runs step by step.
   */
  static final class Schema implements AutoCloseable {
    private final FibService node;
    private final Vertx vertx;
    private final MySQLConnection sql;

    private Schema(FibService node, Vertx vertx, MySQLConnection sql) {
      this.node = node;
      this.vertx = vertx;
      this.sql = sql;
    }

    static Schema start(String tag) throws Exception {
      String db = "contracts_sql_" + tag.replaceAll("[^A-Za-z0-9]", "_") + "_" + ProcessHandle.current().pid();
      FibService node = DbTestNodes.start(db, Map.of("jobs.workers", "0", "fib.warmup", "false"));
      Vertx vertx = Vertx.vertx();
      try {
        return new Schema(node, vertx, MySQLConnection.connect(vertx, new MySQLConnectOptions().setHost("127.0.0.1")
          .setPort(TestDatabase.port()).setUser("root").setPassword(TestDatabase.password()).setDatabase(db)).await());
      } catch (Exception | Error e) {
        vertx.close();
        node.stop();
        throw e;
      }
    }

    /** One statement of a release's SQL: its row count and, for a query, the columns and number of its rows. */
    JsonObject statement(JsonObject step) {
      List<Object> params = new ArrayList<>();
      step.getJsonArray("params").forEach(params::add);
      RowSet<Row> rows = sql.preparedQuery(step.getString("sql")).execute(Tuple.wrap(params)).await();
      JsonObject result = new JsonObject().put("rowCount", rows.rowCount());
      if (rows.columnsNames() != null && !rows.columnsNames().isEmpty()) {
        result.put("columns", new JsonArray(rows.columnsNames())).put("rows", rows.size());
      }
      return result;
    }

    /** {@code SHOW CREATE TABLE} of each table, and the migrations applied. */
    JsonObject describe() {
      JsonObject tables = new JsonObject();
      for (Row table : sql.query("SHOW TABLES").execute().await()) {
        String name = table.getString(0);
        Row create = sql.query("SHOW CREATE TABLE `" + name + "`").execute().await().iterator().next();
        tables.put(name, create.getString(1));
      }
      JsonArray versions = new JsonArray();
      sql.query("SELECT version FROM schema_version ORDER BY version").execute().await()
        .forEach(r -> versions.add(r.getInteger(0)));
      return new JsonObject().put("tables", tables).put("versions", versions);
    }

    @Override
    public void close() {
      try {
        sql.close().await();
        vertx.close().await();
      } finally {
        node.stop();
      }
    }
  }

  /**
   * Why {@code now} is not something a consumer of {@code old} can read, or null when it is: every field of the old
   * object is there with the same JSON type (an old null allows anything), the {@link #STABLE} ones of a frame, a reply
   * or a body (not deeper, where they are data) with the same value too; arrays hold elements of the old first element's shape. Fields only {@code now} has are allowed.
   */
  static String readableAs(Object old, Object now, String path) {
    if (old == null) {
      return null;
    }
    if (now == null) {
      return path + ": missing (was " + kind(old) + ")";
    }
    if (!kind(old).equals(kind(now))) {
      return path + ": " + kind(now) + " where it was " + kind(old);
    }
    if (old instanceof JsonObject o) {
      JsonObject n = (JsonObject) now;
      for (String field : o.fieldNames()) {
        if (!n.containsKey(field) && o.getValue(field) != null) {
          return path + "." + field + ": missing";
        }
        Object was = o.getValue(field);
        Object is = n.getValue(field);
        if (STABLE.contains(field) && path.chars().filter(c -> c == '.').count() <= 1 && was != null && !(was instanceof JsonObject) && !(was instanceof JsonArray)
          && !was.equals(is)) {
          return path + "." + field + ": " + is + " where it was " + was;
        }
        String why = readableAs(was, is, path + "." + field);
        if (why != null) {
          return why;
        }
      }
    } else if (old instanceof JsonArray a && !a.isEmpty()) {
      for (Object element : (JsonArray) now) {
        String why = readableAs(a.getValue(0), element, path + "[]");
        if (why != null) {
          return why;
        }
      }
    }
    return null;
  }

  /** JSON's kinds: a Long and an Integer are both numbers. */
  static String kind(Object value) {
    if (value instanceof Number) {
      return value instanceof Double || value instanceof Float ? "number" : "integer";
    }
    if (value instanceof CharSequence) {
      return "string";
    }
    if (value instanceof Boolean) {
      return "boolean";
    }
    if (value instanceof JsonObject || value instanceof Map) {
      return "object";
    }
    if (value instanceof JsonArray || value instanceof List) {
      return "array";
    }
    return value == null ? "null" : value.getClass().getSimpleName();
  }

  private static Object replace(Object json, Map<String, String> values) {
    if (json instanceof String s) {
      for (Map.Entry<String, String> e : values.entrySet()) {
        if (!e.getKey().isEmpty()) {
          s = s.replace(e.getKey(), e.getValue());
        }
      }
      return s;
    }
    if (json instanceof JsonObject o) {
      JsonObject copy = new JsonObject();
      o.forEach(e -> copy.put((String) replace(e.getKey(), values), replace(e.getValue(), values)));
      return copy;
    }
    if (json instanceof JsonArray a) {
      JsonArray copy = new JsonArray();
      a.forEach(v -> copy.add(replace(v, values)));
      return copy;
    }
    return json;
  }
}
