package dev.fibservice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fat jar started as a real JVM, with its log in a file and its ports read from that log. */
public final class ServiceProcess implements AutoCloseable {

  private static final Pattern READY = Pattern.compile("ready: HTTP on [^:]+:(\\d+), TCP on [^:]+:(\\d+)");
  /** A cluster member of role worker has no sockets of its own: it says so instead. */
  private static final Pattern WORKER_READY = Pattern.compile("node (\\S+) ready: worker member");
  private static final Pattern BRIDGE_READY = Pattern.compile("bridge ready: TCP event-bus bridge on [^:]+:(\\d+)");
  private static final Pattern NODE = Pattern.compile("node (\\S+) ready:");

  private final Process process;
  private final Path log;
  private int httpPort = -1;
  private int tcpPort = -1;
  private int bridgePort = -1;
  private String nodeName;

  private ServiceProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** The fat jar that `mvn verify` built (failsafe passes its path). */
  public static Path jar() {
    String jar = System.getProperty("fib.jar", "target/fib-service.jar");
    return Path.of(jar).toAbsolutePath();
  }

  public static ServiceProcess start(String name, Map<String, String> env, String... args) throws IOException {
    return startJar(jar(), name, env, args);
  }

  /** Starts a given copy of the jar (e.g. one without lib/ beside it). */
  public static ServiceProcess startJar(Path jar, String name, Map<String, String> env, String... args)
    throws IOException {
    Path dir = Path.of("target", "it-logs");
    Files.createDirectories(dir);
    Path log = dir.resolve(name + "-" + System.nanoTime() + ".log");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-Xmx512m", "-jar", jar.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
    pb.environment().putAll(env);
    return new ServiceProcess(pb.start(), log);
  }

  /** Waits until the log says the node is ready (bounded), and reads its ports. */
  public ServiceProcess awaitReady() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String text = log();
      Matcher m = READY.matcher(text);
      boolean front = m.find();
      if (front || WORKER_READY.matcher(text).find()) {
        if (front) {
          httpPort = Integer.parseInt(m.group(1));
          tcpPort = Integer.parseInt(m.group(2));
        }
        Matcher bridge = BRIDGE_READY.matcher(text);
        if (bridge.find()) {
          bridgePort = Integer.parseInt(bridge.group(1));
        }
        Matcher node = NODE.matcher(text);
        nodeName = node.find() ? node.group(1) : null;
        return this;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("exited with " + process.exitValue() + " before ready:\n" + log());
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("not ready in 90 s:\n" + log());
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  public int httpPort() {
    return httpPort;
  }

  public int tcpPort() {
    return tcpPort;
  }

  /** The event-bus bridge port, or -1 when the node runs no bridge. */
  public int bridgePort() {
    return bridgePort;
  }

  /** The node name from the ready line (what replies show in "worker" before the slash). */
  public String nodeName() {
    return nodeName;
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

  /** SIGTERM first, so that the node stops its embedded database; SIGKILL only if it will not go. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
