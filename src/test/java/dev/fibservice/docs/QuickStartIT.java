package dev.fibservice.docs;

import dev.fibservice.Eventually;
import dev.fibservice.ServiceProcess;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's quick start, run as a newcomer would, in a directory of its own that holds a copy of the packaged jar
 * and its lib/ (never the checkout's data/ or conf/: the built-in defaults apply): every command of the blocks marked
 * {@code <!-- quick-start}, with the output the README shows. {@code make run} runs the Makefile's own run recipe,
 * with the port overrides the README shows added (free ports, so that it never meets a service on 8080, 25000 or
 * 3306); later commands get the ports the node took instead of 8080 and 25000. How a block is read: docs/testing.md.
 */
class QuickStartIT {

  private static final String MARKER = "<!-- quick-start";
  /** A marker that asks for the service to be stopped (as the README says: Ctrl-C or SIGTERM) before its block. */
  private static final String STOPPED = "service stopped";
  /** What the test adds to `make run`: the overrides of the README's "a port is taken". */
  private static final String PORT_OVERRIDES = "--http-port 0 --tcp-port 0 --set mysql.port=0";
  /** {@code <word>} in an output line stands for any text, except the tags of the HTML the service writes. */
  private static final Pattern PLACEHOLDER = Pattern.compile("<([a-z][a-z-]*)>");
  private static final Set<String> HTML_TAGS = Set.of("html", "head", "title", "body");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private Path dir;
  private Process service;

  @Test
  void theReadmesQuickStartRunsAsPrinted() throws Exception {
    List<Markdown.Block> blocks = Markdown.markedBlocks(Markdown.read(Path.of("README.md")), MARKER);
    assertFalse(blocks.isEmpty(), "README.md has no block marked " + MARKER + " -->");
    dir = Path.of("target", "quickstart-" + System.nanoTime()).toAbsolutePath();
    copyJarAndLib(dir);
    Path portsFile = dir.resolve("ports.json");
    Path serviceLog = dir.resolve("service.log");
    JsonObject ports = null;
    int commands = 0;
    for (Markdown.Block block : blocks) {
      if (block.marker().contains(STOPPED) && service != null) {
        stopAsTheReadmeSays(serviceLog);
      }
      for (Command command : commands(block)) {
        commands++;
        String where = "README.md:" + command.line() + ": $ " + command.text();
        if (command.text().startsWith("make ")) {
          assertTrue(service == null, where + ": a second service while the first still runs");
          service = startAsTheMakefileSays(command.text(), where, portsFile, serviceLog);
          ports = awaitPorts(portsFile, serviceLog);
          assertTrue(command.output().isEmpty(), where + ": the service's output is its log, not checked");
          continue;
        }
        String text = command.text();
        if (ports != null) {
          text = text.replaceAll("\\b8080\\b", String.valueOf(ports.getInteger("http")))
            .replaceAll("\\b25000\\b", String.valueOf(ports.getInteger("tcp")));
        }
        run(where, text, command.output());
      }
    }
    assertTrue(commands >= 4, "only " + commands + " commands in the quick start: is the marker still there?");
    if (service != null) {
      stopAsTheReadmeSays(serviceLog);
    }
    assertFalse(Files.exists(dir.resolve("data")), "the quick start ends by starting over: data/ should be gone");
  }

  /** The commands of a block: lines starting with "$ ", each with the lines after it up to the next as output. */
  private static List<Command> commands(Markdown.Block block) {
    List<Command> commands = new ArrayList<>();
    for (int i = 0; i < block.lines().size(); i++) {
      String line = block.lines().get(i);
      if (line.startsWith("$ ")) {
        commands.add(new Command(line.substring(2), new ArrayList<>(), block.firstLine() + i));
      } else if (commands.isEmpty()) {
        fail("README.md:" + (block.firstLine() + i) + ": a quick-start block must start with a command ($ ...)");
      } else {
        commands.get(commands.size() - 1).output().add(line);
      }
    }
    return commands;
  }

  private record Command(String text, List<String> output, int line) {
  }

  /** jar and lib/ as `make build` leaves them under target/: lib/'s big files hard-linked where the disk allows. */
  private static void copyJarAndLib(Path dir) throws IOException {
    Path jar = ServiceProcess.jar();
    Path lib = jar.resolveSibling("lib");
    assertTrue(Files.isDirectory(lib), lib + " is missing: the quick start needs the jar and its lib/ (make build)");
    Path target = Files.createDirectories(dir.resolve("target"));
    Files.copy(jar, target.resolve("fib-service.jar"));
    Path libCopy = Files.createDirectories(target.resolve("lib"));
    try (Stream<Path> files = Files.list(lib)) {
      for (Path file : files.toList()) {
        try {
          Files.createLink(libCopy.resolve(file.getFileName()), file);
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(file, libCopy.resolve(file.getFileName()));
        }
      }
    }
  }

  /**
   * `make run [ARGS="..."]` as the Makefile runs it: its run recipe with $(JAR) and $(ARGS) filled in (the jar already
   * built, as `run`'s prerequisite would have it), in the background.
   */
  private Process startAsTheMakefileSays(String command, String where, Path portsFile, Path log) throws IOException {
    Matcher make = Pattern.compile("make run(?: ARGS=\"([^\"]*)\")?").matcher(command);
    assertTrue(make.matches(), where + ": the test runs `make run [ARGS=\"...\"]` only");
    String makefile = Markdown.read(Path.of("Makefile"));
    Matcher jar = Pattern.compile("(?m)^JAR := (\\S+)$").matcher(makefile);
    assertTrue(jar.find(), "the Makefile lacks JAR := ...");
    Matcher recipe = Pattern.compile("(?m)^run: \\$\\(JAR\\)\\n\\t(.+)$").matcher(makefile);
    assertTrue(recipe.find(), "the Makefile's run target is not `run: $(JAR)` and one recipe line");
    assertEquals("java -jar $(JAR) $(ARGS)", recipe.group(1), "the Makefile's run recipe, which README.md's quick"
      + " start and this test take as `java -jar target/fib-service.jar` and the ARGS");
    String args = (make.group(1) == null ? "" : make.group(1) + " ") + PORT_OVERRIDES + " --ports-file " + portsFile;
    String line = recipe.group(1).replace("$(JAR)", jar.group(1)).replace("$(ARGS)", args);
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "exec " + line).directory(dir.toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    environment(pb);
    return pb.start();
  }

  private JsonObject awaitPorts(Path portsFile, Path log) throws Exception {
    Eventually.await("the quick start's service to write its ports file", Duration.ofSeconds(120), () -> {
      if (Files.exists(portsFile)) {
        return true;
      }
      if (!service.isAlive()) {
        throw new IllegalStateException("the service exited with " + service.exitValue() + " before ready:\n"
          + Files.readString(log));
      }
      return false;
    }, () -> "\n" + read(log));
    return new JsonObject(Files.readString(portsFile));
  }

  /** Ctrl-C or SIGTERM, as the README says: the node drains, says `stopped` and exits 0. */
  private void stopAsTheReadmeSays(Path log) throws Exception {
    service.destroy();
    assertTrue(service.waitFor(60, TimeUnit.SECONDS), "the service did not stop within 60 s of SIGTERM:\n" + read(log));
    assertEquals(0, service.exitValue(), "exit code after SIGTERM:\n" + read(log));
    assertTrue(read(log).contains(" - stopped"), "no `stopped` line after SIGTERM:\n" + read(log));
    assertTrue(Files.isDirectory(dir.resolve("data/mariadb")), "the embedded MariaDB's data should be in the quick"
      + " start's own directory, " + dir.resolve("data/mariadb") + ":\n" + read(log));
    service = null;
  }

  /** Runs one command with bash in the quick start's directory; exit code 0, and the output shown, if any. */
  private void run(String where, String command, List<String> expected) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(dir.toFile());
    environment(pb);
    Path out = dir.resolve("command.out");
    Path err = dir.resolve("command.err");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(where + ": still running after " + COMMAND_TIMEOUT.toSeconds() + " s");
    }
    String stdout = Files.readString(out, StandardCharsets.UTF_8);
    String context = where + "\n(run as: " + command + ")\nstdout:\n" + stdout + "stderr:\n" + read(err);
    assertEquals(0, p.exitValue(), "exit code of " + context);
    if (expected.isEmpty()) {
      return;
    }
    List<String> got = stdout.lines().map(String::stripTrailing).toList();
    assertEquals(expected.size(), got.size(), "the number of output lines, README.md shows\n"
      + String.join("\n", expected) + "\nfor " + context);
    for (int i = 0; i < expected.size(); i++) {
      assertTrue(matches(expected.get(i).stripTrailing(), got.get(i)), "output line " + (i + 1) + ": README.md shows\n"
        + expected.get(i) + "\nbut the command printed\n" + got.get(i) + "\nfor " + context);
    }
  }

  /** An output line as the README shows it, {@code <word>} placeholders standing for any text. */
  static boolean matches(String shown, String actual) {
    StringBuilder regex = new StringBuilder();
    Matcher m = PLACEHOLDER.matcher(shown);
    int at = 0;
    while (m.find()) {
      if (HTML_TAGS.contains(m.group(1))) {
        continue;
      }
      regex.append(Pattern.quote(shown.substring(at, m.start()))).append(".+?");
      at = m.end();
    }
    regex.append(Pattern.quote(shown.substring(at)));
    return Pattern.matches(regex.toString(), actual);
  }

  /** No FIB_* variable of ours leaks in (a tuned environment cannot matter); this JVM's java first on the PATH. */
  private static void environment(ProcessBuilder pb) {
    pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + pb.environment().get("PATH"));
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "(no " + file + ")";
    } catch (IOException e) {
      return "(" + file + " cannot be read: " + e + ")";
    }
  }

  /** Stops what still runs; keeps the service's log under target/it-logs/, removes the rest (data/ is ~400 MB). */
  @AfterEach
  void cleanUp() throws Exception {
    if (service != null && service.isAlive()) {
      service.destroy();
      if (!service.waitFor(40, TimeUnit.SECONDS)) {
        service.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    Path log = dir.resolve("service.log");
    if (Files.exists(log)) {
      Path keep = Files.createDirectories(Path.of("target", "it-logs")).resolve(dir.getFileName() + ".log");
      Files.copy(log, keep);
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
