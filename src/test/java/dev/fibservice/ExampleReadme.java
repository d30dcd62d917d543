package dev.fibservice;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands of an example's README.md, run as a reader would type them. In its {@code sh} blocks a line that starts
 * with {@code $ } is a command (a trailing backslash continues it), the lines under it up to the next command are
 * what it prints ({@code ...} stands for anything: ids, timings, host names), and a comment {@code # exit N} at its
 * end says it exits with N. {@code make run ...} starts the service in the background (the reader's first terminal);
 * {@code cd DIR && ...} moves the later commands to DIR, as in one terminal.
 *
 * <p>What cannot be the same on a test machine is changed, and only that: the literal values the README uses for
 * ports and names are replaced ({@code substitutions}), the service gets free ports, no database, the tests' own
 * configuration and a ports file ({@code isolation}), and make never rebuilds the jar that {@code mvn verify} built.
 */
public final class ExampleReadme {

  private static final Pattern EXIT = Pattern.compile("\\s+#\\s*exit (\\d+)\\s*$");

  /** One command, what it prints (may be empty: not checked) and the exit code it ends with. */
  public record Command(String line, List<String> output, int exit) {
  }

  private final Path file;
  private final List<Command> commands;

  private ExampleReadme(Path file, List<Command> commands) {
    this.file = file;
    this.commands = commands;
  }

  /** examples/NAME/README.md of the checkout. */
  public static ExampleReadme of(String example) throws IOException {
    Path file = Path.of("examples", example, "README.md");
    return new ExampleReadme(file, parse(Files.readString(file)));
  }

  static List<Command> parse(String markdown) {
    List<Command> commands = new ArrayList<>();
    boolean inSh = false;
    String command = null;
    List<String> output = new ArrayList<>();
    for (String line : markdown.split("\n", -1)) {
      if (!inSh) {
        inSh = line.strip().equals("```sh");
        continue;
      }
      boolean end = line.strip().equals("```");
      if ((end || line.startsWith("$ ")) && command != null) {
        commands.add(command(command, output));
        command = null;
        output = new ArrayList<>();
      }
      if (end) {
        inSh = false;
      } else if (command != null && command.endsWith("\\") && output.isEmpty()) {
        command = command.substring(0, command.length() - 1).stripTrailing() + " " + line.strip();
      } else if (line.startsWith("$ ")) {
        command = line.substring(2).strip();
      } else if (command != null && !line.isBlank()) {
        output.add(line.strip());
      }
    }
    return commands;
  }

  private static Command command(String line, List<String> output) {
    Matcher exit = EXIT.matcher(line);
    int code = exit.find() ? Integer.parseInt(exit.group(1)) : 0;
    return new Command(exit.replaceFirst(""), List.copyOf(output), code);
  }

  public List<Command> commands() {
    return commands;
  }

  /** The one {@code make run} command: the service the other commands talk to. */
  public Command service() {
    List<Command> runs = commands.stream().filter(c -> c.line().startsWith("make run")).toList();
    assertEquals(1, runs.size(), file + ": one `make run` command");
    return runs.get(0);
  }

  /**
   * Starts the README's {@code make run} in {@code project}, with {@code isolation} appended to its ARGS (it gets
   * {@code --ports-file} too); waits until the service is ready.
   */
  public Service startService(Path project, List<String> isolation) throws Exception {
    String line = service().line();
    Matcher m = Pattern.compile("^make run(?: ARGS=\"([^\"]*)\")?$").matcher(line);
    assertTrue(m.matches(), file + ": `" + line + "` is not of the form make run [ARGS=\"...\"]");
    Path logs = Files.createDirectories(Path.of("target", "it-logs").toAbsolutePath());
    Path log = logs.resolve("example-" + project.getFileName() + "-" + System.nanoTime() + ".log");
    Path ports = log.resolveSibling(log.getFileName() + ".ports.json");
    List<String> args = new ArrayList<>();
    if (m.group(1) != null) {
      args.add(m.group(1));
    }
    args.addAll(isolation);
    args.addAll(List.of("--ports-file", ports.toString()));
    // -o: the jar `mvn verify` built is used as it is, never rebuilt (a clean there would wipe target/ mid-test)
    List<String> make = List.of("make", "-o", "target/fib-service.jar", "run", "ARGS=" + String.join(" ", args));
    ProcessBuilder pb = new ProcessBuilder(make).directory(project.toFile()).redirectErrorStream(true)
      .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
    Service service = new Service(pb.start(), log);
    Eventually.await("`" + line + "` to be ready", Duration.ofSeconds(90), () -> {
      if (!service.make.isAlive()) {
        throw new AssertionError("`" + String.join(" ", make) + "` exited:\n" + Files.readString(log));
      }
      return Files.exists(ports);
    }, () -> service.log());
    service.ports = new JsonObject(Files.readString(ports));
    return service;
  }

  /**
   * Runs every command but {@code make run}, in order, from {@code project}: each with the substitutions made, in
   * {@code sh}, with {@code env} added; checks its exit code and, where the README shows one, its output.
   */
  public void runCommands(Path project, Map<String, String> substitutions, Map<String, String> env) throws Exception {
    Path dir = project;
    for (Command c : commands) {
      if (c.line().startsWith("make run")) {
        continue;
      }
      String line = c.line();
      for (Map.Entry<String, String> s : substitutions.entrySet()) {
        line = line.replace(s.getKey(), s.getValue());
      }
      Matcher cd = Pattern.compile("^cd (\\S+)(?: && (.*))?$").matcher(line);
      if (cd.matches()) {
        dir = dir.resolve(cd.group(1)).normalize();
        if (cd.group(2) == null) {
          continue;
        }
        line = cd.group(2);
      }
      Result r = run(dir, line, env);
      assertEquals(c.exit(), r.exit, file + ": `" + c.line() + "` (as `" + line + "` in " + dir + ") exited with "
        + r.exit + ":\n" + r.output);
      if (!c.output().isEmpty()) {
        assertTrue(printed(c.output(), r.output), file + ": `" + c.line() + "` printed\n" + r.output
          + "\nwhere the README shows\n" + String.join("\n", c.output()));
      }
    }
  }

  /** Whether the output is the README's lines, line for line, {@code ...} standing for any text. */
  static boolean printed(List<String> readme, String actual) {
    List<String> lines = actual.strip().lines().map(String::strip).toList();
    if (lines.size() != readme.size()) {
      return false;
    }
    for (int i = 0; i < lines.size(); i++) {
      StringBuilder regex = new StringBuilder();
      for (String part : readme.get(i).split("\\.\\.\\.", -1)) {
        if (regex.length() > 0) {
          regex.append(".*");
        }
        regex.append(Pattern.quote(part));
      }
      if (!lines.get(i).matches(regex.toString())) {
        return false;
      }
    }
    return true;
  }

  private record Result(int exit, String output) {
  }

  /** One command in sh, its output and error merged; killed after 5 minutes (npm ci, a Maven build at most). */
  private static Result run(Path dir, String line, Map<String, String> env) throws Exception {
    Path out = Files.createTempFile("fib-example", ".out");
    try {
      ProcessBuilder pb = new ProcessBuilder("sh", "-c", line).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(out.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("FIB_"));
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError("`" + line + "` did not finish within 5 minutes:\n" + Files.readString(out));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The service that {@code make run} started: make and the JVM under it. */
  public static final class Service implements AutoCloseable {

    private final Process make;
    private final Path log;
    private JsonObject ports;

    private Service(Process make, Path log) {
      this.make = make;
      this.log = log;
    }

    /** The ports file's JSON (http, tcp, bridge, hazelcast, ...). */
    public JsonObject ports() {
      return ports;
    }

    String log() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        return "(its log " + log + " cannot be read: " + e + ")";
      }
    }

    /** SIGTERM to the JVM under make (make passes no signal on), then make; SIGKILL for what is left after 40 s. */
    @Override
    public void close() throws Exception {
      List<ProcessHandle> all = new ArrayList<>(make.descendants().toList());
      all.add(make.toHandle());
      all.forEach(ProcessHandle::destroy);
      for (ProcessHandle p : all) {
        try {
          p.onExit().get(40, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          p.destroyForcibly();
        }
      }
    }
  }

  /** Substitutions in the order given. */
  public static Map<String, String> substitutions(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }
}
