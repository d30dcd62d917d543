package dev.fibservice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The jar of an earlier release, for the tests that run it beside this build (its job runner against this schema, a
 * cluster upgraded from it and back), built once for all of them.
 * Built once per machine and release commit with {@code src/main/scripts/release-jar.sh} (what {@code make release-jar}
 * runs) into {@code ~/.cache/fib-service/releases/<tag>-<commit>/}, since a release's jar never changes; the system
 * property {@code fib.previousJar} names a jar to use instead.
 */
public final class PreviousRelease {

  private PreviousRelease() {
  }

  /** The jar of release {@code tag} (such as v0.2.0), building it first when this machine has none yet. */
  public static synchronized Path jar(String tag) throws Exception {
    String given = System.getProperty("fib.previousJar");
    if (given != null && !given.isBlank()) {
      return Path.of(given).toAbsolutePath();
    }
    String commit = commit(tag);
    Path dir = Path.of(System.getProperty("user.home"), ".cache", "fib-service", "releases",
      tag + "-" + commit.substring(0, 7));
    Path jar = dir.resolve("fib-service.jar");
    // lib/ may link to the target/lib of the checkout that built it, since gone: then it is built again
    if (Files.exists(jar) && Files.isDirectory(dir.resolve("lib"))) {
      return jar;
    }
    Path log = Path.of("target", "release-jar-" + tag + ".log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    Process build = new ProcessBuilder("src/main/scripts/release-jar.sh", tag, dir.toString())
      .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!build.waitFor(15, TimeUnit.MINUTES)) {
      build.destroyForcibly();
      throw new IllegalStateException("building the " + tag + " jar took over 15 minutes; see " + log);
    }
    if (build.exitValue() != 0 || !Files.exists(jar)) {
      throw new IllegalStateException("could not build the " + tag + " jar (make release-jar TAG=" + tag + " OUT=" + dir
        + ", or -Dfib.previousJar=JAR):\n" + Files.readString(log));
    }
    return jar;
  }

  /** The commit of the release: its tag in this clone, else its line in RELEASES. */
  static String commit(String tag) throws IOException, InterruptedException {
    Process git = new ProcessBuilder("git", "rev-parse", "-q", "--verify", "refs/tags/" + tag + "^{commit}")
      .redirectErrorStream(true).start();
    String out = new String(git.getInputStream().readAllBytes()).trim();
    if (git.waitFor() == 0 && out.matches("[0-9a-f]{40}")) {
      return out;
    }
    List<String> lines = Files.readAllLines(Path.of("RELEASES"));
    for (String line : lines) {
      String[] parts = line.trim().split("\\s+");
      if (parts.length >= 2 && parts[0].equals(tag)) {
        return parts[1];
      }
    }
    throw new IllegalStateException("release " + tag + " has no tag in this clone and no line in RELEASES: build its"
      + " jar with make release-jar TAG=" + tag + " OUT=DIR (from its commit) and pass -Dfib.previousJar=DIR/fib-service.jar");
  }
}
