package dev.fibservice.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * examples/java-client, built once per test JVM with the Maven, local repository and offline mode of the
 * build itself, and run as its own JVM.
 */
final class JavaClient {

  private static final Path PROJECT = Path.of("examples", "java-client").toAbsolutePath();
  private static boolean built;

  /** What one run printed (standard output and error) and its exit code. */
  record Run(int exit, String output) {
  }

  private JavaClient() {
  }

  static synchronized Path jar() throws Exception {
    Path jar = PROJECT.resolve("target/fib-java-client.jar");
    if (built) {
      return jar;
    }
    List<String> build = new ArrayList<>(List.of(mavenExecutable(), "-B", "-q"));
    if ("offline=true".equals(System.getProperty("fib.maven.offline"))) {
      build.add("-o");
    }
    String repo = System.getProperty("fib.maven.repo");
    if (repo != null && !repo.isBlank() && !repo.startsWith("${")) {
      build.add("-Dmaven.repo.local=" + repo);
    }
    build.addAll(List.of("-f", PROJECT.resolve("pom.xml").toString(), "package"));
    Path buildLog = Path.of("target", "it-logs", "java-client-build.log");
    Files.createDirectories(buildLog.getParent());
    Process mvn = new ProcessBuilder(build).redirectErrorStream(true).redirectOutput(buildLog.toFile()).start();
    assertTrue(mvn.waitFor(170, TimeUnit.SECONDS), "building examples/java-client took too long");
    assertEquals(0, mvn.exitValue(), Files.readString(buildLog));
    built = true;
    return jar;
  }

  /** Runs the client with these arguments; fails the test when it has not finished within 90 s. */
  static Run run(List<String> args) throws Exception {
    List<String> command = new ArrayList<>(List.of(javaExecutable(), "-jar", jar().toString()));
    command.addAll(args);
    Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return e.toString();
      }
    });
    boolean finished = client.waitFor(90, TimeUnit.SECONDS);
    if (!finished) {
      client.destroyForcibly();
    }
    String out = output.get(10, TimeUnit.SECONDS);
    assertTrue(finished, "the Java client did not finish:\n" + out);
    return new Run(client.exitValue(), out);
  }

  private static String mavenExecutable() {
    String home = System.getProperty("fib.maven.home");
    if (home != null && !home.isBlank() && !home.startsWith("${")) {
      Path mvn = Path.of(home, "bin", "mvn");
      if (Files.isExecutable(mvn)) {
        return mvn.toString();
      }
    }
    return "mvn";
  }

  static String javaExecutable() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
