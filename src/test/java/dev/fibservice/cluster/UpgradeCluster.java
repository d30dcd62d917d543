package dev.fibservice.cluster;

import dev.fibservice.PreviousRelease;
import dev.fibservice.api.Version;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A cluster made and rolled by {@code src/main/scripts/cluster.sh}, the script behind {@code make cluster LB=nginx},
 * {@code make cluster-upgrade} and {@code make cluster-stop}: the database process, two fronts behind Debian's nginx,
 * two workers, in a run directory of its own. Also the previous release's jar, built as {@code make release-jar}
 * builds it. Shared by {@code RollingUpgradeIT} and the bench's upgrade scenario.
 */
public final class UpgradeCluster implements AutoCloseable {

  /** The script; {@code -Dupgrade.script} runs another copy (a broken one, to see the test fail). */
  private static final Path SCRIPT = Path.of(System.getProperty("upgrade.script", "src/main/scripts/cluster.sh"))
    .toAbsolutePath();

  private final Path runDir;
  private final Map<String, String> env = new TreeMap<>();
  private Properties ports;

  /**
   * @param runDir  its records, logs and nginx (RUN_DIR)
   * @param args    what every member gets after the script's own settings (ARGS)
   */
  public UpgradeCluster(Path runDir, Path dataDir, String args) {
    this.runDir = runDir.toAbsolutePath();
    env.put("RUN_DIR", this.runDir.toString());
    env.put("DATA_DIR", dataDir.toAbsolutePath().toString());
    env.put("FRONTS", "2");
    env.put("WORKERS", "2");
    env.put("LB", "nginx");
    env.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    env.put("JAVA_OPTS", "-Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1");
    env.put("ARGS", args);
    // a member's start took minutes at a load average of 78 here: the script's waits are its, not the machine's
    env.put("READY_TIMEOUT", "900");
    env.put("SAFE_TIMEOUT", "600");
  }

  /** Whether Debian's nginx, and its stream module, are installed (make test-tools installs them). */
  public static boolean nginxInstalled() {
    return (Files.isExecutable(Path.of("/usr/sbin/nginx")) || onPath("nginx"))
      && Files.exists(Path.of("/usr/lib/nginx/modules/ngx_stream_module.so"));
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The release before this build's: the last line of RELEASES older than this version. A clone may carry no tags:
   * RELEASES names the commit, which release-jar.sh checks out when the tag is missing.
   */
  public static String previousRelease() throws IOException {
    String current = Version.current();
    String previous = null;
    for (String line : Files.readAllLines(Path.of("RELEASES"))) {
      if (line.startsWith("v")) {
        String tag = line.split("\\s+")[0];
        if (Version.compare(tag.substring(1), current) < 0) {
          previous = tag;
        }
      }
    }
    if (previous == null) {
      throw new IllegalStateException("RELEASES names no release before " + current);
    }
    return previous;
  }

  /**
   * The previous release's jar: {@code -Dupgrade.previousJar} when given, else {@link PreviousRelease}'s (built once per
   * machine and release, shared with the other tests that run it).
   */
  public static Path previousJar(String tag, Path log) throws Exception {
    String given = System.getProperty("upgrade.previousJar", "");
    if (!given.isEmpty()) {
      return Path.of(given).toAbsolutePath();
    }
    return PreviousRelease.jar(tag);
  }

  /** What a run of the script printed, and its exit code. */
  public record Result(int exit, String output) {
  }

  /** `cluster.sh start` with this jar: the database, the fronts, the workers, nginx. */
  public Result start(Path jar) throws Exception {
    Result r = script(Map.of("JAR", jar.toString()), 3600, "start");
    if (r.exit() == 0) {
      ports = new Properties();
      try (var in = Files.newBufferedReader(runDir.resolve("cluster.env"))) {
        ports.load(in);
      }
    }
    return r;
  }

  /** `cluster.sh upgrade JAR`: every member replaced by the jar, one at a time (the same command rolls back). */
  public Result upgrade(Path jar) throws Exception {
    return script(Map.of(), 7200, "upgrade", jar.toString());
  }

  public Result stop() throws Exception {
    return script(Map.of(), 300, "stop");
  }

  /** nginx's ports, where clients go (run/cluster.env's HTTP_PORT, TCP_PORT, BRIDGE_PORT). */
  public int port(String name) {
    return Integer.parseInt(ports.getProperty(name).replace("\"", ""));
  }

  /** A member's pid, from its record. */
  public long pid(String member) throws IOException {
    return Long.parseLong(Files.readString(runDir.resolve(member + ".pid")).strip());
  }

  /** The release of each member, as the cluster's view on one front says (its /info through nginx). */
  public Map<String, String> versions() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
      URI.create("http://127.0.0.1:" + port("HTTP_PORT") + "/info")).timeout(Duration.ofSeconds(30)).build(),
      HttpResponse.BodyHandlers.ofString());
    JsonArray members = new JsonObject(r.body()).getJsonObject("cluster").getJsonArray("members");
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < members.size(); i++) {
      JsonObject m = members.getJsonObject(i);
      out.put(m.getString("role") + " " + m.getString("address"), m.getString("version", "none"));
    }
    return out;
  }

  public Path runDir() {
    return runDir;
  }

  private Result script(Map<String, String> more, long timeoutSeconds, String... args) throws Exception {
    Map<String, String> all = new TreeMap<>(env);
    all.putAll(more);
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(List.of(args));
    return sh(output(args[0]), all, timeoutSeconds, command.toArray(String[]::new));
  }

  /** Where the script's command (start, upgrade, stop) writes what it says, each run appended, as it runs. */
  public Path output(String command) {
    return runDir.resolve(command + ".out");
  }

  /** A member's ports file (node, http, tcp, bridge, ops, hazelcast, clusterBus), as its record holds it. */
  public Map<String, String> memberPorts(String member) throws IOException {
    Map<String, String> out = new TreeMap<>();
    new JsonObject(Files.readString(runDir.resolve(member + ".ports"))).forEach(e -> out.put(e.getKey(),
      String.valueOf(e.getValue())));
    return out;
  }

  /** Runs a command from the checkout, its output appended to {@code log}; returns this run's output. */
  private static Result sh(Path log, Map<String, String> env, long timeoutSeconds, String... command)
    throws Exception {
    Files.createDirectories(log.getParent());
    long from = Files.exists(log) ? Files.size(log) : 0;
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      throw new IllegalStateException(String.join(" ", command) + " did not end within " + timeoutSeconds + " s:\n"
        + since(log, from));
    }
    return new Result(p.exitValue(), since(log, from));
  }

  private static String since(Path log, long from) throws IOException {
    byte[] all = Files.readAllBytes(log);
    return new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
      java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Stops whatever the script started, the members first, the database last. */
  @Override
  public void close() throws Exception {
    stop();
  }
}
