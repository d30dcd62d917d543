package dev.fibservice.contracts;

import dev.fibservice.client.Protocol;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Sql;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Records what this release exchanges with members and clients, as the fixtures the next releases' contract tests
 * replay ({@code make contracts-capture VERSION=x.y.z}, at release time; see docs/releasing.md): every request and
 * its reply on the event bus, both bridges' frames, what it publishes by itself, the schema its migrations leave, the
 * SQL its members run (job runner included), its config keys and the client library's names.
 *
 * <p>The requests are defined here, the outcomes are what this build answered. A later release replays the requests
 * of the file, not of this class: an old request stays the old request.
 */
public final class ContractCapture {

  private static final JsonObject NONE = new JsonObject();
  static final String UNKNOWN_JOB = "0123456789abcdef0123456789abcdef";

  private ContractCapture() {
  }

  /** Exits 0 once every file is written, 1 when a capture failed (the shared MariaDB would keep the JVM alive). */
  public static void main(String[] args) {
    if (args.length != 1 || !args[0].matches("\\d+\\.\\d+\\.\\d+")) {
      System.err.println("usage: ContractCapture VERSION (e.g. 0.2.0): writes " + Contracts.ROOT + "/VERSION/");
      System.exit(2);
    }
    try {
      capture(args[0]);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
    System.exit(0);
  }

  private static void capture(String version) throws Exception {
    Path dir = Files.createDirectories(Contracts.ROOT.resolve(version));
    try (ContractNode node = ContractNode.start("capture")) {
      Contracts.Run run = new Contracts.Run(node);
      write(dir, Contracts.EVENT_BUS, eventBus(run));
      write(dir, Contracts.TCP_BRIDGE, bridge(node, true));
      write(dir, Contracts.SOCKJS, bridge(node, false));
      cancelARunningJob(node);
      node.close();
      JsonObject emitted = new JsonObject();
      for (String address : ContractNode.EMITTED) {
        List<Object> bodies = node.emitted(address);
        if (bodies.isEmpty()) {
          throw new IllegalStateException("the node published nothing on " + address);
        }
        emitted.put(address, run.placeholders(bodies.get(bodies.size() - 1)));
      }
      write(dir, Contracts.EMITTED, emitted);
    }
    try (Contracts.Schema schema = Contracts.Schema.start("capture")) {
      write(dir, Contracts.SCHEMA, schema.describe());
      write(dir, Contracts.SQL, sql(schema));
    }
    write(dir, Contracts.CONFIG, configKeys());
    write(dir, Contracts.CLIENT, clientProtocol());
    System.out.println("contracts written to " + dir);
  }

  private static void write(Path dir, String name, Object json) throws Exception {
    String text = json instanceof JsonArray a ? a.encodePrettily() : ((JsonObject) json).encodePrettily();
    Files.writeString(dir.resolve(name), text + "\n");
  }

  private static JsonObject request(String name, String address, Object body, JsonObject headers) {
    return new JsonObject().put("name", name).put("address", address).put("headers", headers).put("body", body);
  }

  /** Requests on the event bus, as other services and other members send them. */
  private static JsonArray eventBus(Contracts.Run run) throws Exception {
    JsonArray entries = new JsonArray()
      .add(request("compute, with both headers", "fib.compute", new JsonObject().put("n", 50).put("algorithm",
        "iterative"), new JsonObject().put("x-request-id", "contract-1").put("x-cancel-id", "contract-c1")))
      .add(request("compute, algorithm left out", "fib.compute", new JsonObject().put("n", 93), NONE))
      .add(request("compute, a large doubling", "fib.compute", new JsonObject().put("n", 1000).put("algorithm",
        "doubling"), NONE))
      .add(request("compute, negative n", "fib.compute", new JsonObject().put("n", -1), NONE))
      .add(request("compute, above the limit", "fib.compute", new JsonObject().put("n", 61).put("algorithm",
        "recursive"), NONE))
      .add(request("compute, a body that is no object", "fib.compute", "30", NONE))
      .add(request("compute, an unknown algorithm", "fib.compute", new JsonObject().put("n", 5).put("algorithm",
        "quantum"), NONE))
      .add(request("compute on one member's own address", "fib.compute.member." + Contracts.MEMBER,
        new JsonObject().put("n", 30), new JsonObject().put("x-request-id", "contract-2").put("x-cancel-id",
          "contract-c2#1")))
      .add(request("ping a member", "fib.cluster.ping." + Contracts.MEMBER, null, NONE))
      .add(request("compute, cancelled by fib.cancel", "fib.compute", new JsonObject().put("n", 60).put("algorithm",
        "recursive"), new JsonObject().put("x-cancel-id", "contract-cancel"))
        .put("cancel", new JsonObject().put("address", "fib.cancel").put("body", new JsonObject().put("id",
          "contract-cancel"))))
      .add(request("submit a job", "jobs.submit", new JsonObject().put("n", 100), NONE))
      .add(request("status of a finished job", "jobs.status", new JsonObject().put("id", Contracts.JOB), NONE)
        .put("until", new JsonObject().put("status", "DONE")))
      .add(request("status of an unknown job", "jobs.status", new JsonObject().put("id", UNKNOWN_JOB), NONE))
      .add(request("submit a job, negative n", "jobs.submit", new JsonObject().put("n", -1), NONE))
      .add(request("status, a body that is no object", "jobs.status", "nope", NONE));
    for (Object e : entries) {
      JsonObject entry = (JsonObject) e;
      entry.mergeIn(Contracts.exchange(run, entry));
    }
    return entries;
  }

  private static JsonObject send(String address, String replyAddress, Object body) {
    return new JsonObject().put("type", "send").put("address", address).put("replyAddress", replyAddress)
      .put("body", body);
  }

  private static JsonObject frames(String name, int receive, JsonObject... send) {
    return new JsonObject().put("name", name).put("send", new JsonArray(List.of((Object[]) send)))
      .put("receive", receive);
  }

  /** Frames of the TCP bridge or (the same frames) of the SockJS bridge's plain WebSocket transport. */
  private static JsonArray bridge(ContractNode node, boolean tcp) throws Exception {
    JsonArray entries = new JsonArray()
      .add(frames("compute", 1, send("fib.compute", "r1", new JsonObject().put("n", 50))))
      .add(frames("compute, with headers", 1, send("fib.compute", "r2", new JsonObject().put("n", 90)
        .put("algorithm", "iterative")).put("headers", new JsonObject().put("x-request-id", "bridge-2"))))
      .add(frames("compute, negative n", 1, send("fib.compute", "r3", new JsonObject().put("n", -1))))
      .add(frames("an address the table lacks", 1, send("fib.worker.heavy", "r4", new JsonObject().put("n", 5))))
      .add(frames("submit a job", 1, send("jobs.submit", "r5", new JsonObject().put("n", 10))))
      .add(frames("status of an unknown job", 1, send("jobs.status", "r6", new JsonObject().put("id", UNKNOWN_JOB))))
      .add(frames("compute, cancelled by fib.cancel", 1,
        send("fib.compute", "r7", new JsonObject().put("n", 60).put("algorithm", "recursive"))
          .put("headers", new JsonObject().put("x-request-id", "bridge-cancel")),
        new JsonObject().put("type", "publish").put("address", "fib.cancel")
          .put("body", new JsonObject().put("id", "bridge-cancel"))))
      .add(frames("register fib.stats", 1, new JsonObject().put("type", "register").put("address", "fib.stats"))
        .put("stats", true))
      .add(frames("unregister fib.stats, then compute", 1,
        new JsonObject().put("type", "unregister").put("address", "fib.stats"),
        send("fib.compute", "r8", new JsonObject().put("n", 10))))
      .add(frames("an unknown frame type", 1, new JsonObject().put("type", "nonsense").put("address", "fib.compute")));
    if (tcp) {
      entries.add(frames("ping", 1, new JsonObject().put("type", "ping")));
    }
    try (ContractNode.FrameSocket socket = tcp ? node.bridge() : node.sockJs()) {
      for (Object e : entries) {
        JsonObject entry = (JsonObject) e;
        entry.put("frames", Contracts.frames(socket, entry));
      }
    }
    return entries;
  }

  /** Cancels a running job through the HTTP API: the service then publishes jobs.cancelled. */
  static void cancelARunningJob(ContractNode node) throws Exception {
    JsonObject job = node.request("jobs.submit", new JsonObject().put("n", 60).put("algorithm", "recursive"), NONE)
      .getJsonObject("reply");
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
      + node.service().httpPort() + "/jobs/" + job.getString("id"))).DELETE().timeout(Duration.ofSeconds(30)).build(),
      HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("cancelling job " + job.getString("id") + ": " + r.statusCode() + " " + r.body());
    }
  }

  /** A job's whole life and the people table's statements, with this release's SQL, on a freshly migrated schema. */
  private static JsonArray sql(Contracts.Schema schema) throws Exception {
    String id = "c0ffee00c0ffee00c0ffee00c0ffee00";
    String other = "c0ffee00c0ffee00c0ffee00c0ffee01";
    String owner = "contract-runner/1";
    long leaseMicros = 60_000_000L;
    JsonArray steps = new JsonArray()
      .add(step("job insert", Sql.JOB_INSERT_IF_ROOM, id, 20, "doubling", 100))
      .add(step("job by id", Sql.JOB_BY_ID, id))
      .add(step("job candidates", Sql.JOB_CANDIDATES, 10))
      .add(step("job claim", Sql.JOB_CLAIM, owner, leaseMicros, id))
      .add(step("job lease renewed", Sql.JOB_RENEW, leaseMicros, id, owner, 1))
      .add(step("job chunks deleted", Sql.JOB_CHUNKS_DELETE, id))
      .add(step("job chunk stored", Sql.JOB_CHUNK_INSERT, id, 0, "6765"))
      .add(step("job done", Sql.JOB_DONE, 4, id, owner, 1))
      .add(step("job chunk read", Sql.JOB_CHUNK, id, 0))
      .add(step("jobs counted by status", Sql.JOB_COUNT_BY_STATUS))
      .add(step("another job inserted", Sql.JOB_INSERT_IF_ROOM, other, 30, "iterative", 100))
      .add(step("it is claimed", Sql.JOB_CLAIM, owner, leaseMicros, other))
      .add(step("it fails", Sql.JOB_FAILED, "contract failure", other, owner, 1))
      .add(step("a finished job is not cancelled", Sql.JOB_CANCEL, other))
      .add(step("person inserted", Sql.PERSON_INSERT, "Contract Person", 40, "tester", null))
      .add(step("person by name", Sql.PERSON_BY_NAME, "Contract Person"))
      .add(step("person updated", Sql.PERSON_UPDATE, 41, "tester", "/images/1.jpg", "Contract Person"))
      .add(step("people page", Sql.PEOPLE_PAGE, 10, 0))
      .add(step("people counted", Sql.PEOPLE_COUNT))
      .add(step("person deleted", Sql.PERSON_DELETE, "Contract Person"))
      .add(step("select one", Sql.SELECT_ONE));
    for (Object s : steps) {
      JsonObject step = (JsonObject) s;
      step.put("result", schema.statement(step));
    }
    return steps;
  }

  private static JsonObject step(String name, String sql, Object... params) {
    JsonArray p = new JsonArray();
    for (Object param : params) {
      p.add(param);
    }
    return new JsonObject().put("name", name).put("sql", sql).put("params", p);
  }

  /** Every key: its name, old names, environment variable, type and default. */
  private static JsonArray configKeys() {
    JsonArray keys = new JsonArray();
    for (Key key : Settings.KEYS) {
      keys.add(new JsonObject().put("name", key.name()).put("env", key.envName()).put("type", key.type().name())
        .put("default", String.valueOf(key.defaultValue())).put("aliases", new JsonArray(key.aliases())));
    }
    return keys;
  }

  /** The client library's names: addresses, headers, member attributes. */
  private static JsonObject clientProtocol() throws Exception {
    JsonObject constants = new JsonObject();
    for (Field f : Protocol.class.getDeclaredFields()) {
      if (Modifier.isPublic(f.getModifiers()) && Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        constants.put(f.getName(), f.get(null));
      }
    }
    return new JsonObject().put("constants", constants)
      .put("computeOn", Protocol.computeOn(Contracts.MEMBER))
      .put("pingOn", Protocol.pingOn(Contracts.MEMBER));
  }
}
