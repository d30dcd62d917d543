package dev.fibservice;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The fat jar started as a real JVM, with its log in a file; once ready it writes its ports to a file of its own
 * ({@code --ports-file}), which is where they are read from. The one way tests and the benchmark suite start it.
 */
public final class ServiceProcess implements AutoCloseable {

  private static final Duration READY_WITHIN = Duration.ofSeconds(90);

  private final Process process;
  private final Path log;
  private final Path portsFile;
  private JsonObject ports;

  private ServiceProcess(Process process, Path log, Path portsFile) {
    this.process = process;
    this.log = log;
    this.portsFile = portsFile;
  }

  /** The fat jar that `mvn verify` built (failsafe passes its path). */
  public static Path jar() {
    String jar = System.getProperty("fib.jar", "target/fib-service.jar");
    return Path.of(jar).toAbsolutePath();
  }

  public static ServiceProcess start(String name, Map<String, String> env, String... args) throws IOException {
    return startJar(jar(), name, env, args);
  }

  /** Starts a given copy of the jar (e.g. one without lib/ beside it), with at most 512 MB of heap. */
  public static ServiceProcess startJar(Path jar, String name, Map<String, String> env, String... args)
    throws IOException {
    Path dir = Path.of("target", "it-logs");
    return launch(jar, dir.resolve(name + "-" + System.nanoTime() + ".log"), List.of("-Xmx512m"), env, List.of(args));
  }

  /**
   * Starts the jar with these JVM options and arguments, its output in {@code log} and its ports file beside it; no
   * {@code FIB_*} variable of the caller's environment leaks in, only those of {@code env}. It reads
   * {@link TestConf#CONFIG} unless the arguments name a {@code --conf} of their own.
   */
  public static ServiceProcess launch(Path jar, Path log, List<String> jvmOptions, Map<String, String> env,
                                      List<String> args) throws IOException {
    return launch(List.of(), jar, log, jvmOptions, env, args);
  }

  /**
   * {@link #launch(Path, Path, List, Map, List)} under a command that runs the JVM elsewhere, such as
   * {@code ip netns exec HOST} for a host of a test's own.
   */
  public static ServiceProcess launch(List<String> runIn, Path jar, Path log, List<String> jvmOptions,
                                      Map<String, String> env, List<String> args) throws IOException {
    Files.createDirectories(log.toAbsolutePath().getParent());
    Path portsFile = log.resolveSibling(log.getFileName() + ".ports.json");
    Files.deleteIfExists(portsFile);
    List<String> command = new ArrayList<>(runIn);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", jar.toString(), "--ports-file", portsFile.toString()));
    // the tests' own configuration, never the checkout's conf/ (a user may tune it)
    command.addAll(TestConf.withConf(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
    pb.environment().putAll(env);
    return new ServiceProcess(pb.start(), log, portsFile);
  }

  /** Waits (at most 90 s) until the node is ready, and reads its ports. */
  public ServiceProcess awaitReady() throws Exception {
    return awaitReady(READY_WITHIN);
  }

  /** Waits (bounded) until the node has written its ports file; fails with the log when it exits or is late. */
  public ServiceProcess awaitReady(Duration max) throws Exception {
    Eventually.await("the node to write its ports file", max, () -> {
      if (Files.exists(portsFile)) {
        return true;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("exited with " + process.exitValue() + " before ready:\n" + log());
      }
      return false;
    }, this::logOrWhyNot);
    // written to a temporary file and renamed: what exists is whole
    ports = new JsonObject(Files.readString(portsFile));
    return this;
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  private String logOrWhyNot() {
    try {
      return "\n" + log();
    } catch (IOException e) {
      return "its log " + log + " cannot be read (" + e + ")";
    }
  }

  /** Where its output goes. */
  public Path logFile() {
    return log;
  }

  /** The ports file's JSON ({@code node}, {@code http}, {@code tcp}, {@code bridge}, ...), once ready. */
  public JsonObject ports() {
    return ports;
  }

  public int httpPort() {
    return ports.getInteger("http", -1);
  }

  public int tcpPort() {
    return ports.getInteger("tcp", -1);
  }

  /** The event-bus bridge port, or -1 when the node runs no bridge. */
  public int bridgePort() {
    return ports.getInteger("bridge", -1);
  }

  /** The port of the operations endpoints (ops.enabled), or -1. */
  public int opsPort() {
    return ports.getInteger("ops", -1);
  }

  /** The node's name (what replies show in "worker" before the slash). */
  public String nodeName() {
    return ports.getString("node");
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGTERM. */
  public void terminate() {
    process.destroy();
  }

  /** SIGKILL. */
  public void kill() {
    process.destroyForcibly();
  }

  /** Waits (bounded) for the exit code. */
  public int awaitExit(long seconds) throws Exception {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("did not exit within " + seconds + " s:\n" + log());
    }
    return process.exitValue();
  }

  /** SIGTERM first, so that the node stops its embedded database; SIGKILL only if it will not go within 40 s. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
