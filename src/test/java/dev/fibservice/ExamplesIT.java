package dev.fibservice;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * examples/python and examples/java-client run as their READMEs say, commands and printed lines alike
 * ({@link ExampleReadme}; examples/node's is run by NodeClientIT, which has Node.js and the npm install): from the
 * project's directory, against the service started with the README's own {@code make run}.
 */
class ExamplesIT {

  private static final Path PROJECT = Path.of("").toAbsolutePath();

  @Test
  void python() throws Exception {
    Assumptions.assumeTrue(onPath("python3"), "SKIPPED: python3 is not on the PATH, so examples/python was not run");
    ExampleReadme readme = ExampleReadme.of("python");
    assertTrue(readme.service().line().contains("--bridge-port 7000"), "the bridge is off by default: the README"
      + " must turn it on");
    try (ExampleReadme.Service service = readme.startService(PROJECT, List.of("--conf", TestConf.CONFIG.toString(),
      "--http-port", "0", "--tcp-port", "0", "--set", "mysql.host=off", "--set", "bridge.port=0"))) {
      int bridge = service.ports().getInteger("bridge", -1);
      assertTrue(bridge > 0, "no bridge port in " + service.ports().encode());
      readme.runCommands(PROJECT, ExampleReadme.substitutions("--port 7000", "--port " + bridge), Map.of());
    }
  }

  /**
   * On a local Maven repository that lacks the client library (the fresh ~/.m2 of a new user, beside a jar that is up
   * to date): `make install-client` must bring it, offline, before the example builds. Its `mvn` is the build's own,
   * with that repository and offline mode, through a wrapper first on the PATH, so that the README's commands run as
   * they are written.
   */
  @Test
  void javaClientOnAFreshLocalRepository() throws Exception {
    ExampleReadme readme = ExampleReadme.of("java-client");
    // make install-client builds the jar first when it is older than its sources: that clean would wipe target/ here
    Process upToDate = new ProcessBuilder("make", "-q", "target/fib-service.jar").inheritIO().start();
    assertEquals(0, upToDate.waitFor(), "target/fib-service.jar is older than its sources: run mvn verify (or make"
      + " build) first");
    Path work = Files.createDirectories(Path.of("target", "examples-it").toAbsolutePath());
    Path repo = work.resolve("m2-" + System.nanoTime());
    seedWithoutTheClientLibrary(localRepository(), repo);
    try {
      assertFalse(Files.exists(repo.resolve("dev/fibservice")), "the seeded repository has no dev/fibservice");
      Path bin = Files.createDirectories(work.resolve("bin"));
      Path mvn = bin.resolve("mvn");
      Files.writeString(mvn, "#!/bin/sh\nexec '" + realMaven() + "' -o -Dmaven.repo.local='" + repo + "' \"$@\"\n");
      Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
      Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"));

      String cluster = "examples-it-" + System.nanoTime();
      try (ExampleReadme.Service service = readme.startService(PROJECT, List.of("--conf", TestConf.CONFIG.toString(),
        "--http-port", "0", "--tcp-port", "0", "--set", "mysql.host=off", "--set", "cluster.hazelcastPort=0",
        "--set", "cluster.name=" + cluster))) {
        int hazelcast = service.ports().getInteger("hazelcast", -1);
        assertTrue(hazelcast > 0, "no Hazelcast port in " + service.ports().encode());
        readme.runCommands(PROJECT, ExampleReadme.substitutions("--members 127.0.0.1:5701",
          "--members 127.0.0.1:" + hazelcast, "--cluster-name fib-service", "--cluster-name " + cluster), env);
      }
      String version = dev.fibservice.api.Version.current();
      assertTrue(Files.isRegularFile(repo.resolve("dev/fibservice/fib-service-client/" + version + "/fib-service-client-"
        + version + ".jar")),
        "make install-client installed the library");
    } finally {
      deleteTree(repo);
    }
  }

  /** The build's local repository (failsafe passes it), else ~/.m2/repository. */
  private static Path localRepository() {
    String repo = System.getProperty("fib.maven.repo");
    if (repo != null && !repo.isBlank() && !repo.startsWith("${")) {
      return Path.of(repo);
    }
    return Path.of(System.getProperty("user.home"), ".m2", "repository");
  }

  private static String realMaven() {
    String home = System.getProperty("fib.maven.home");
    if (home != null && !home.isBlank() && !home.startsWith("${") && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
      return Path.of(home, "bin", "mvn").toString();
    }
    return "mvn";
  }

  /**
   * A copy of the local repository without dev/fibservice: jars as hard links where the file system allows (no
   * Maven writes into a jar it has), everything else copied, so that nothing Maven does here touches the real one.
   */
  private static void seedWithoutTheClientLibrary(Path from, Path to) throws IOException {
    Path skip = from.resolve("dev").resolve("fibservice");
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (dir.equals(skip)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Path target = to.resolve(from.relativize(file).toString());
        if (file.toString().endsWith(".jar")) {
          try {
            Files.createLink(target, file);
            return FileVisitResult.CONTINUE;
          } catch (IOException | UnsupportedOperationException e) {
            // another file system: a copy
          }
        }
        Files.copy(file, target);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  static boolean onPath(String program) {
    String path = System.getenv("PATH");
    return path != null && java.util.Arrays.stream(path.split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, program)));
  }
}
