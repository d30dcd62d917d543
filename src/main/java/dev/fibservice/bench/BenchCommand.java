package dev.fibservice.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

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

  @Option(names = "--body", paramLabel = "BODY|@FILE",
    description = "Request body: a string, or @file to read it from a file (write --body=@file if the launcher expands"
      + " @argument-files).")
  String body;

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "Request header (repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(names = {"-c", "--concurrency"}, paramLabel = "N",
    description = "Hard cap on requests in flight, 1..100000 (default: 10; tcp: connections x pipeline).")
  String concurrency;

  @Option(names = {"-n", "--requests"}, paramLabel = "N",
    description = "Total requests (default: 1000 unless --duration is given).")
  String requests;

  @Option(names = {"-d", "--duration"}, paramLabel = "DURATION",
    description = "Run for this long instead of a request count, e.g. 500ms, 10s, 1m.")
  String duration;

  @Option(names = "--connections", paramLabel = "N",
    description = "HTTP: connection pool size (default: concurrency, or concurrency / pipeline). TCP: number of"
      + " connections (default: concurrency or 10).")
  String connections;

  @Option(names = "--pipeline", paramLabel = "D",
    description = "TCP: lines in flight per connection, 1..10000 (default: 1). HTTP: opt-in HTTP/1.1 pipelining,"
      + " D requests per connection (default: 1 = off; connections then default to concurrency / D).")
  String pipeline;

  @Option(names = "--line", paramLabel = "LINE", description = "TCP: the line sent per request (a newline is appended).")
  String line;

  @Option(names = "--no-keepalive", description = "HTTP: a new connection per request (sends Connection: close), like ab without -k.")
  boolean noKeepAlive;

  @Option(names = "--timeout", paramLabel = "DURATION",
    description = "Per request: connect timeout and response inactivity timeout (default: 10s).")
  String timeout;

  @Option(names = "--rate", paramLabel = "R",
    description = "Fixed-rate mode: R requests/s on a constant schedule; latency is measured from the intended send time"
      + " (corrected for coordinated omission) and reported uncorrected as well.")
  String rate;

  @Option(names = "--warmup", paramLabel = "DURATION", description = "Warm-up load before the measurement; its results are discarded.")
  String warmup;

  @Option(names = "--max-duration", paramLabel = "DURATION",
    description = "Hard ceiling for the whole run; requests still in flight are counted as aborted (default: 10m, max 24h).")
  String maxDuration;

  @Option(names = "--threads", paramLabel = "N",
    description = "Event loops of the load generator, 1..256 (default: available processors, at most concurrency).")
  String threads;

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
    System.exit(new CommandLine(new BenchCommand()).setExpandAtFiles(false).execute(args));
  }

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

  /** Command line → {@link BenchOptions}; every malformed value becomes a one-line {@link BenchUsageException}. */
  BenchOptions toOptions() {
    BenchOptions o = new BenchOptions().target(target).allowRemote(allowRemote).progress(!quiet && !json);
    if (method != null) {
      o.method(method);
    }
    if (body != null) {
      o.body(BenchOptions.parseBody(body));
    }
    for (String h : headers) {
      var e = BenchOptions.parseHeader(h);
      o.header(e.getKey(), e.getValue());
    }
    if (concurrency != null) {
      o.concurrency(BenchOptions.parseInt("--concurrency", concurrency, 1, BenchOptions.MAX_CONCURRENCY));
    }
    if (requests != null) {
      o.requests(BenchOptions.parseLong("--requests", requests, 1, Long.MAX_VALUE / 2));
    }
    if (duration != null) {
      o.duration(BenchOptions.parseDuration("--duration", duration));
    }
    if (connections != null) {
      o.connections(BenchOptions.parseInt("--connections", connections, 1, BenchOptions.MAX_CONNECTIONS));
    }
    if (pipeline != null) {
      o.pipeline(BenchOptions.parseInt("--pipeline", pipeline, 1, BenchOptions.MAX_PIPELINE));
    }
    if (line != null) {
      o.line(line);
    }
    o.keepAlive(!noKeepAlive);
    if (timeout != null) {
      o.timeout(BenchOptions.parseDuration("--timeout", timeout));
    }
    if (rate != null) {
      o.rate(BenchOptions.parseRate("--rate", rate));
    }
    if (warmup != null) {
      o.warmup(BenchOptions.parseDuration("--warmup", warmup));
    }
    if (maxDuration != null) {
      o.maxDuration(BenchOptions.parseDuration("--max-duration", maxDuration));
    }
    if (threads != null) {
      o.threads(BenchOptions.parseInt("--threads", threads, 1, BenchOptions.MAX_THREADS));
    }
    return o;
  }
}
