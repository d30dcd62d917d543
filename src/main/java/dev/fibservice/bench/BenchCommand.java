package dev.fibservice.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code bench}: the built-in load tool. Mounted as a subcommand of the service's main command:
 * {@code java -jar fib-service.jar bench http://127.0.0.1:8080/fib/30 -c 50 -d 10s}.
 *
 * <p>Exit codes: 0 the run completed (request errors are reported, not fatal), 1 every request failed, 2 bad usage or a
 * refused target.
 */
@Command(
  name = "bench",
  sortOptions = false,
  usageHelpAutoWidth = true,
  description = {
    "Load-test an HTTP or line-based TCP endpoint on loopback and print an ab/wrk-style report.",
    "",
    "  bench http://127.0.0.1:8080/fib/30 -c 50 -d 10s",
    "  bench http://127.0.0.1:8080/fib -m POST --body '{\"n\":30}' -H 'Content-Type: application/json' -n 10000",
    "  bench http://127.0.0.1:8080/fib/30 --rate 20000 -d 30s --warmup 5s --json",
    "  bench tcp://127.0.0.1:9090 --line 30 --connections 8 --pipeline 16 -d 10s",
    ""},
  exitCodeListHeading = "%nExit codes:%n",
  exitCodeList = {
    "0:the run completed (request errors are reported, not fatal)",
    "1:every request failed",
    "2:invalid option value, unsupported target or refused (non-loopback) target"})
public final class BenchCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "URL",
    description = "http://host:port/path?query or tcp://host:port (loopback only unless --allow-remote)")
  String target;

  @Option(names = {"-m", "--method"}, paramLabel = "METHOD", description = "HTTP method (default: GET).")
  String method;

  @Option(names = "--body", paramLabel = "BODY|@FILE", converter = BodyConverter.class,
    description = "Request body: a string, or @file to read it from a file (write --body=@file if the launcher expands"
      + " @argument-files).")
  Body body;

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", converter = HeaderConverter.class,
    description = "Request header (repeatable).")
  List<Map.Entry<String, String>> headers = new ArrayList<>();

  @Option(names = {"-c", "--concurrency"}, paramLabel = "N", converter = IntConverter.class,
    description = "Hard cap on requests in flight, 1..100000 (default: 10; tcp: connections x pipeline).")
  Integer concurrency;

  @Option(names = {"-n", "--requests"}, paramLabel = "N", converter = LongConverter.class,
    description = "Total requests (default: 1000 unless --duration is given).")
  Long requests;

  @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", converter = DurationConverter.class,
    description = "Run for this long instead of a request count, e.g. 500ms, 10s, 1m.")
  Duration duration;

  @Option(names = "--connections", paramLabel = "N", converter = IntConverter.class,
    description = "HTTP: connection pool size (default: concurrency, or concurrency / pipeline). TCP: number of"
      + " connections (default: concurrency or 10).")
  Integer connections;

  @Option(names = "--pipeline", paramLabel = "D", converter = IntConverter.class,
    description = "TCP: lines in flight per connection, 1..10000 (default: 1). HTTP: opt-in HTTP/1.1 pipelining,"
      + " D requests per connection (default: 1 = off; connections then default to concurrency / D).")
  Integer pipeline;

  @Option(names = "--line", paramLabel = "LINE", description = "TCP: the line sent per request (a newline is appended).")
  String line;

  @Option(names = "--no-keepalive", description = "HTTP: a new connection per request (sends Connection: close), like ab without -k.")
  boolean noKeepAlive;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
    description = "Per request: connect timeout and response inactivity timeout (default: 10s).")
  Duration timeout;

  @Option(names = "--rate", paramLabel = "R", converter = RateConverter.class,
    description = "Fixed-rate mode: R requests/s on a constant schedule; latency is measured from the intended send time"
      + " (corrected for coordinated omission) and reported uncorrected as well.")
  Double rate;

  @Option(names = "--warmup", paramLabel = "DURATION", converter = DurationConverter.class,
    description = "Warm-up load before the measurement; its results are discarded.")
  Duration warmup;

  @Option(names = "--max-duration", paramLabel = "DURATION", converter = DurationConverter.class,
    description = "Hard ceiling for the whole run; requests still in flight are counted as aborted (default: 10m, max 24h).")
  Duration maxDuration;

  @Option(names = "--threads", paramLabel = "N", converter = IntConverter.class,
    description = "Event loops of the load generator, 1..256 (default: available processors, at most concurrency).")
  Integer threads;

  @Option(names = "--json", description = "Print the report as one JSON object on stdout (nothing else on stdout).")
  boolean json;

  @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
  boolean quiet;

  @Option(names = "--allow-remote", description = "Allow targets that do not resolve to loopback (127.0.0.0/8, ::1).")
  boolean allowRemote;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  /** Runs {@code bench} on its own (the service normally mounts it as a subcommand). */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command on its own, as the service mounts it: {@code --body @file} reaches it, bad values get one line. */
  public static CommandLine commandLine() {
    return new CommandLine(new BenchCommand()).setExpandAtFiles(false).setParameterExceptionHandler(USAGE);
  }

  /** A value the command line cannot take: one line naming it, and exit code 2, as for a refused target. */
  public static final CommandLine.IParameterExceptionHandler USAGE = (ex, args) -> {
    ex.getCommandLine().getErr().println("bench: " + ex.getMessage());
    ex.getCommandLine().getErr().flush();
    return 2;
  };

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    BenchOptions options;
    try {
      options = toOptions();
    } catch (BenchUsageException e) {
      err.println("bench: " + e.getMessage());
      err.flush();
      return e.exitCode();
    }

    // with --json nothing but the report may reach stdout: route stray output (e.g. a console log appender) to stderr
    PrintStream realStdout = System.out;
    if (json) {
      System.setOut(System.err);
    }
    BenchResult result;
    try {
      result = Bench.run(options, System.err);
    } catch (BenchUsageException e) {
      err.println("bench: " + e.getMessage());
      err.flush();
      return e.exitCode();
    } finally {
      if (json) {
        System.setOut(realStdout);
      }
    }
    if (json) {
      out.println(result.toJson().encodePrettily());
    } else {
      out.print(result.toText());
    }
    out.flush();
    if (result.allFailed()) {
      err.println("bench: all " + result.requests() + " requests failed " + result.errors());
      err.flush();
      return 1;
    }
    return 0;
  }

  /** Command line → {@link BenchOptions}, which checks every range and how the options fit together. */
  BenchOptions toOptions() {
    BenchOptions o = new BenchOptions().target(target).allowRemote(allowRemote).progress(!quiet && !json)
      .keepAlive(!noKeepAlive);
    headers.forEach(h -> o.header(h.getKey(), h.getValue()));
    ifGiven(method, o::method);
    ifGiven(body, b -> o.body(b.bytes()));
    ifGiven(concurrency, o::concurrency);
    ifGiven(requests, o::requests);
    ifGiven(duration, o::duration);
    ifGiven(connections, o::connections);
    ifGiven(pipeline, o::pipeline);
    ifGiven(line, o::line);
    ifGiven(timeout, o::timeout);
    ifGiven(rate, o::rate);
    ifGiven(warmup, o::warmup);
    ifGiven(maxDuration, o::maxDuration);
    ifGiven(threads, o::threads);
    return o;
  }

  /** An option left out keeps BenchOptions' default. */
  private static <T> void ifGiven(T value, Consumer<T> set) {
    if (value != null) {
      set.accept(value);
    }
  }

  /** A request body, read from its file when given as {@code @file}. */
  record Body(byte[] bytes) {
  }

  /** Whole numbers as the options take them ({@code 10_000} too); the range is the option's, checked by BenchOptions. */
  static final class LongConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String text) {
      try {
        return Long.parseLong(text.trim().replace("_", ""));
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(BenchOptions.refused(text, "an integer"));
      }
    }
  }

  static final class IntConverter implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String text) {
      long value = new LongConverter().convert(text);
      if (value != (int) value) {
        throw new CommandLine.TypeConversionException(BenchOptions.refused(text, "an integer of at most 10 digits"));
      }
      return (int) value;
    }
  }

  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      try {
        return BenchOptions.duration(text);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(BenchOptions.refused(text, BenchOptions.DURATION_ACCEPTED));
      }
    }
  }

  static final class RateConverter implements CommandLine.ITypeConverter<Double> {
    @Override
    public Double convert(String text) {
      try {
        return Double.parseDouble(text.trim());
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(BenchOptions.refused(text, "requests per second, a number"));
      }
    }
  }

  static final class HeaderConverter implements CommandLine.ITypeConverter<Map.Entry<String, String>> {
    @Override
    public Map.Entry<String, String> convert(String text) {
      try {
        return BenchOptions.parseHeader(text);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  static final class BodyConverter implements CommandLine.ITypeConverter<Body> {
    @Override
    public Body convert(String text) {
      try {
        return new Body(BenchOptions.parseBody(text));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
