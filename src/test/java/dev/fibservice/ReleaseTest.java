package dev.fibservice;

import dev.fibservice.api.Version;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The release line (docs/releasing.md): one version everywhere it is said, RELEASES naming each release's commit in
 * order, and release-jar.sh refusing clearly what it cannot build (an unknown release, a shallow clone).
 */
class ReleaseTest {

  private static final Pattern POM_VERSION = Pattern.compile("<artifactId>fib-service</artifactId>\\s*<version>([^<]+)"
    + "</version>");
  private static final Pattern RELEASE_LINE = Pattern.compile("(v(\\d+\\.\\d+\\.\\d+)) ([0-9a-f]{40}) (\\d{4}-\\d\\d-\\d\\d)");

  @TempDir
  Path dir;

  @Test
  void oneVersionEverywhere() throws Exception {
    Matcher pom = POM_VERSION.matcher(Files.readString(Path.of("pom.xml")));
    assertTrue(pom.find(), "pom.xml has no version");
    String version = pom.group(1);
    assertEquals(version, Version.current(), "the version resource (Maven fills it in) says another version");
    assertEquals(version, Node.currentVersion(), "/info and --version");
    // where the docs and examples name the jar's image or the client library, they name this version
    Pattern named = Pattern.compile("(?:fib-service:|fib-service-client:|fib-service-client</artifactId>\\s*<version>)"
      + "(\\d+\\.\\d+\\.\\d+)");
    List<String> wrong = new ArrayList<>();
    List<Path> files = new ArrayList<>(List.of(Path.of("README.md")));
    for (String tree : List.of("docs", "examples")) {
      if (Files.isDirectory(Path.of(tree))) {
        try (Stream<Path> walk = Files.walk(Path.of(tree))) {
          walk.filter(p -> p.toString().matches(".*\\.(md|xml|yaml|yml)$|.*Dockerfile$"))
            .filter(p -> !p.toString().contains("node_modules") && !p.toString().contains("/target/")).forEach(files::add);
        }
      }
    }
    for (Path file : files) {
      Matcher m = named.matcher(Files.readString(file));
      while (m.find()) {
        if (!m.group(1).equals(version)) {
          wrong.add(file + ": " + m.group());
        }
      }
    }
    assertEquals(List.of(), wrong, "these name another version than the pom's " + version);
  }

  @Test
  void versionsAreOrderedAsReleases() {
    assertTrue(Version.compare("0.1.0", "0.2.0") < 0);
    assertTrue(Version.compare("0.2.0", "0.10.0") < 0, "numbers, not text");
    assertTrue(Version.compare("1.0.0", "0.99.99") > 0);
    assertTrue(Version.compare("0.3.0-SNAPSHOT", "0.3.0") < 0, "a pre-release comes before its release");
    assertTrue(Version.compare("0.3.0-SNAPSHOT", "0.2.0") > 0);
    assertTrue(Version.compare("dev", "99.0.0") > 0, "classes built without Maven are newer than any release");
    assertEquals(0, Version.compare("0.2.0", "0.2.0"));
    assertTrue(Version.isRelease("0.2.0") && !Version.isRelease("0.2") && !Version.isRelease("v0.2.0"));
  }

  /** Each line of RELEASES names an earlier release (or this one, once tagged) and its commit, oldest first. */
  @Test
  void releasesNameEachReleasesCommitInOrder() throws Exception {
    List<String> lines = Files.readAllLines(Path.of("RELEASES")).stream()
      .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    assertTrue(!lines.isEmpty(), "RELEASES lists no release");
    String previous = null;
    for (String line : lines) {
      Matcher m = RELEASE_LINE.matcher(line);
      assertTrue(m.matches(), "RELEASES: '" + line + "' is not 'vX.Y.Z <40-hex commit> <YYYY-MM-DD>'");
      assertTrue(Version.compare(m.group(2), Version.current()) <= 0, line + ": a release after this build's "
        + Version.current());
      if (previous != null) {
        assertTrue(Version.compare(previous, m.group(2)) < 0, "RELEASES is not in release order at " + line);
      }
      previous = m.group(2);
      if (!"true".equals(git("rev-parse", "--is-shallow-repository"))) {
        assertTrue(git("merge-base", "--is-ancestor", m.group(3), "HEAD") != null,
          line + ": the commit is not in this branch's history");
      }
      String tagged = git("rev-parse", "-q", "--verify", "refs/tags/" + m.group(1) + "^{commit}");
      assertTrue(tagged == null || tagged.equals(m.group(3)), line + ": the tag names " + tagged);
    }
  }

  @Test
  void releaseJarRefusesAnUnknownRelease() throws Exception {
    Run run = script(Path.of("").toAbsolutePath(), "v9.9.9", dir.resolve("out").toString());
    assertEquals(1, run.exit, run.output);
    assertTrue(run.output.contains("no tag v9.9.9 in this clone and no line for it in RELEASES (known: v0.1.0"),
      run.output);
    run = script(Path.of("").toAbsolutePath(), "latest", dir.resolve("out").toString());
    assertEquals(1, run.exit, run.output);
    assertTrue(run.output.contains("'latest' is not a release tag"), run.output);
  }

  /** CI may clone one commit deep: the script says so and how to deepen it, instead of failing somewhere in git. */
  @Test
  void releaseJarSaysWhenTheCloneIsTooShallow() throws Exception {
    Path clone = dir.resolve("shallow");
    Process p = new ProcessBuilder("git", "clone", "-q", "--depth", "1", "--no-local",
      "file://" + Path.of(git("rev-parse", "--show-toplevel")), clone.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
    // this checkout's RELEASES and script, committed or not
    Path script = clone.resolve("src/main/scripts/release-jar.sh");
    Files.createDirectories(script.getParent());
    Files.copy(Path.of("src/main/scripts/release-jar.sh"), script, StandardCopyOption.REPLACE_EXISTING,
      StandardCopyOption.COPY_ATTRIBUTES);
    Files.copy(Path.of("RELEASES"), clone.resolve("RELEASES"), StandardCopyOption.REPLACE_EXISTING);
    String first = Files.readAllLines(Path.of("RELEASES")).stream().filter(l -> l.startsWith("v")).findFirst()
      .orElseThrow();
    Run run = script(clone, first.split(" ")[0], dir.resolve("out").toString());
    assertEquals(1, run.exit, run.output);
    assertTrue(run.output.contains("which this shallow clone does not have: deepen it first (git fetch --unshallow"),
      run.output);
  }

  private record Run(int exit, String output) {
  }

  private static Run script(Path checkout, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(checkout.resolve("src/main/scripts/release-jar.sh").toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(checkout.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "release-jar.sh did not end: " + out);
    return new Run(p.exitValue(), out);
  }

  /** Its output, or null when it exits non-zero (not an ancestor, no such tag). */
  private static String git(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("git"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor(30, TimeUnit.SECONDS);
    return p.exitValue() == 0 ? out : null;
  }
}
