package dev.fibservice;

import dev.fibservice.bench.BenchCommand;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Logging;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** The command line: {@code java -jar fib-service.jar [options]} starts the service. */
@Command(name = "fib-service", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
  subcommands = {BenchCommand.class, DbCommand.class},
  sortOptions = false, usageHelpAutoWidth = true,
  description = "Fibonacci over HTTP, TCP and the event bus, without ever blocking an event loop.",
  footer = {"", "Precedence: flag > environment (FIB_*) > config file > built-in default.",
    "Exit codes: 0 stopped cleanly, 1 failed at start, 2 bad command line or configuration."})
public final class Main implements Callable<Integer> {

  /** Exit code for a bad flag or configuration value. */
  static final int EXIT_CONFIG = 2;

  private static final Path DEFAULT_CONF = Path.of("conf", "config.json");

  @Option(names = "--conf", paramLabel = "FILE",
    description = "JSON config file (default: conf/config.json when it exists)")
  Path conf;

  @Option(names = "--host", description = "bind address for HTTP and TCP (default 127.0.0.1)")
  String host;

  @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP port, 0 = any free port (default 8080)")
  String httpPort;

  @Option(names = "--tcp-port", paramLabel = "PORT", description = "TCP port, 0 = any free port (default 25000)")
  String tcpPort;

  @Option(names = "--instances", paramLabel = "N", description = "HTTP and TCP verticle instances (default: cores)")
  String instances;

  @Option(names = "--heavy-workers", paramLabel = "N",
    description = "Fibonacci workers of the heavy lane (default: cores)")
  String heavyWorkers;

  @Option(names = "--worker-instances", paramLabel = "N", description = "old name of --heavy-workers (deprecated)")
  String workerInstances;

  @Option(names = "--transport", paramLabel = "NAME", description = "auto, epoll, io_uring or nio (default auto)")
  String transport;

  @Option(names = "--log-format", paramLabel = "FORMAT", description = "text or json (default text)")
  String logFormat;
  @Option(names = "--cluster", description = "join a Hazelcast cluster (conf/cluster.xml) and spread over its members")
  boolean cluster;

  @Option(names = "--role", paramLabel = "ROLE",
    description = "with --cluster: all (default), http (front ends only) or worker (computations only)")
  String role;

  @Option(names = "--cluster-config", paramLabel = "FILE", description = "Hazelcast XML (default conf/cluster.xml)")
  String clusterConfig;

  @Option(names = "--cluster-host", paramLabel = "HOST", description = "address Hazelcast and the event bus bind to")
  String clusterHost;

  @Option(names = "--cluster-public-host", paramLabel = "HOST",
    description = "address other members reach this one at (NAT, containers)")
  String clusterPublicHost;

  @Option(names = "--bridge-port", paramLabel = "PORT",
    description = "turn on the TCP event-bus bridge on this port, 0 = any free port (default: off)")
  String bridgePort;

  @Option(names = "--ports-file", paramLabel = "FILE",
    description = "once ready, write the ports this node listens on to FILE, as one JSON object")
  Path portsFile;

  @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
    description = "set any config key, e.g. --set fib.timeoutMs=5000 (repeatable)")
  Map<String, String> sets = new LinkedHashMap<>();

  public static void main(String[] args) {
    System.exit(commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args));
  }

  /** The command line with its subcommands, writing to the given streams. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    // `bench --body @file` means the file's bytes, not picocli's own argument files
    cli.setExpandAtFiles(false);
    cli.setOut(out);
    cli.setErr(err);
    cli.setParameterExceptionHandler((ex, a) -> {
      // a value bench's own converters refused: said as bench says it
      if (ex.getCommandLine().getCommand() instanceof BenchCommand && ex.getCause() instanceof TypeConversionException) {
        return BenchCommand.USAGE.handleParseException(ex, a);
      }
      ex.getCommandLine().getErr().println("fib-service: " + ex.getMessage() + " (see --help)");
      return EXIT_CONFIG;
    });
    return cli;
  }

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Settings settings;
    try {
      settings = settings(System.getenv());
    } catch (ConfigException e) {
      spec.commandLine().getErr().println("fib-service: " + e.getMessage());
      return EXIT_CONFIG;
    }
    Logging.configure(settings.getString(Settings.LOG_FORMAT));
    Logger log = LoggerFactory.getLogger(Main.class);
    FibService service;
    try {
      service = FibService.start(settings).await();
    } catch (ConfigException e) {
      // found while starting (a file a key names, the cluster configuration): still the user's to fix
      spec.commandLine().getErr().println("fib-service: " + e.getMessage());
      return EXIT_CONFIG;
    } catch (Exception e) {
      log.error("start-up failed: {}", e.getMessage(), e);
      return 1;
    }
    if (portsFile != null) {
      try {
        writeAtomically(portsFile, service.ports().encode() + "\n");
      } catch (IOException | RuntimeException e) {
        log.error("cannot write --ports-file {} ({}); stopping", portsFile, e.toString());
        service.stop();
        return 1;
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Signals.onTerminate(() -> {
      try {
        service.stop();
      } catch (RuntimeException e) {
        log.warn("graceful stop did not complete: {}", e.toString());
      } finally {
        stopped.countDown();
      }
    });
    stopped.await();
    return 0;
  }

  /** Writes a file that whoever reads it sees whole or not at all: a temporary file beside it, renamed. */
  static void writeAtomically(Path file, String text) throws IOException {
    Path dir = Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      Files.writeString(temp, text);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** Flags, environment and file, merged by precedence and validated. */
  Settings settings(Map<String, String> env) {
    Map<String, String> flags = new LinkedHashMap<>(sets);
    putIf(flags, Settings.HOST.name(), host);
    putIf(flags, Settings.HTTP_PORT.name(), httpPort);
    putIf(flags, Settings.TCP_PORT.name(), tcpPort);
    putIf(flags, Settings.INSTANCES.name(), instances);
    // the old flag goes in under the key's old name: the settings then say it is deprecated
    putIf(flags, Settings.FIB_HEAVY_WORKERS.aliases().get(0), workerInstances);
    putIf(flags, Settings.FIB_HEAVY_WORKERS.name(), heavyWorkers);
    putIf(flags, Settings.TRANSPORT.name(), transport);
    putIf(flags, Settings.LOG_FORMAT.name(), logFormat);
    putIf(flags, Settings.CLUSTER_ENABLED.name(), cluster ? "true" : null);
    putIf(flags, Settings.CLUSTER_ROLE.name(), role);
    putIf(flags, Settings.CLUSTER_CONFIG.name(), clusterConfig);
    putIf(flags, Settings.CLUSTER_HOST.name(), clusterHost);
    putIf(flags, Settings.CLUSTER_PUBLIC_HOST.name(), clusterPublicHost);
    putIf(flags, Settings.BRIDGE_PORT.name(), bridgePort);
    putIf(flags, Settings.BRIDGE_ENABLED.name(), bridgePort != null ? "true" : null);
    Path file = conf != null ? conf : DEFAULT_CONF;
    Settings settings = Settings.load(file, conf != null, env, flags);
    if (!settings.getBoolean(Settings.CLUSTER_ENABLED) && !"all".equals(settings.getString(Settings.CLUSTER_ROLE))) {
      // a lone http node would answer every computation with 503; a lone worker would serve nobody
      throw new ConfigException("cluster.role: '" + settings.getString(Settings.CLUSTER_ROLE) + "' needs --cluster"
        + " (cluster.enabled=true); without a cluster a node runs everything");
    }
    return settings;
  }

  private static void putIf(Map<String, String> flags, String key, String value) {
    if (value != null) {
      flags.put(key, value);
    }
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"fib-service " + Node.currentVersion() + " (Vert.x " + Node.vertxVersion() + ", Java "
        + Runtime.version() + ")"};
    }
  }
}
