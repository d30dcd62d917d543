package dev.fibservice.cluster;

import dev.fibservice.Eventually;
import io.vertx.core.json.JsonArray;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Zipkin server (its exec jar, which the build copies to target/zipkin/ as `make zipkin` fetches it) as a real
 * process on loopback, on a free port: where a test's members send their spans, and its HTTP API where the test reads
 * the traces back.
 */
final class Zipkin implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Zipkin(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts it on this port (its start takes a while: see {@link #awaitReady}). */
  static Zipkin start(int port) throws IOException {
    Path jar = Path.of(System.getProperty("fib.zipkin.jar", "target/zipkin/zipkin-server-3.6.1-exec.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no Zipkin server jar at " + jar + " (the build's pre-integration-test phase"
        + " copies it from the Maven repository)");
    }
    Path log = Path.of("target", "it-logs", "zipkin-" + System.nanoTime() + ".log");
    Files.createDirectories(log.getParent());
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx512m", "-jar", jar.toString(), "--armeria.ports[0].ip=127.0.0.1", "--armeria.ports[0].port=" + port,
      "--armeria.ports[0].protocols[0]=http")
      .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new Zipkin(process, port, log);
  }

  /** The URL members send spans to (tracing.endpoint) when it serves on this port. */
  static String endpoint(int port) {
    return "http://127.0.0.1:" + port + "/api/v2/spans";
  }

  /** Waits (at most two minutes) until it serves its API. */
  void awaitReady() throws Exception {
    Eventually.await("Zipkin to serve on " + port, Duration.ofMinutes(2), () -> {
      if (!process.isAlive()) {
        throw new IllegalStateException("Zipkin exited:\n" + Files.readString(log));
      }
      try {
        return get("/health").statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    });
  }

  /** The spans of a trace that hold all these names (lower case, as Zipkin keeps them), once they have arrived. */
  JsonArray awaitTrace(String traceId, List<String> names) throws Exception {
    JsonArray[] spans = {new JsonArray()};
    Eventually.await("trace " + traceId + " with " + names + " in Zipkin", Duration.ofSeconds(60), () -> {
      HttpResponse<String> r = get("/api/v2/trace/" + traceId);
      spans[0] = r.statusCode() == 200 ? new JsonArray(r.body()) : new JsonArray();
      return names.stream().allMatch(n -> spans[0].stream()
        .anyMatch(s -> n.equals(((io.vertx.core.json.JsonObject) s).getString("name"))));
    }, () -> spans[0].encodePrettily());
    return spans[0];
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
