package dev.fibservice.db;

import dev.fibservice.config.Settings;

import java.nio.file.Path;

/**
 * The embedded MariaDB as a process of its own, for a cluster ({@code java -jar fib-service.jar db}): started from the
 * same keys the members read (mysql.port, mysql.dataDir, mysql.user), supervised (started again when it dies), on
 * 127.0.0.1 only, its password in its data directory, where members on this host read it.
 */
public final class DatabaseProcess {

  private final EmbeddedMariaDb server;

  private DatabaseProcess(EmbeddedMariaDb server) {
    this.server = server;
  }

  /** Whether the embedded MariaDB is here (its jars in lib/ beside the fat jar). */
  public static boolean available() {
    return Database.embeddedAvailable();
  }

  /** Installs (first time) and starts the server. Blocking; throws with the server's own words when it cannot. */
  public static DatabaseProcess start(Settings settings) throws Exception {
    EmbeddedMariaDb server = EmbeddedMariaDb.start(dataDir(settings), settings.getInt(Settings.MYSQL_PORT),
      settings.getString(Settings.MYSQL_USER));
    server.supervise();
    return new DatabaseProcess(server);
  }

  private static Path dataDir(Settings settings) {
    return Path.of(settings.getString(Settings.MYSQL_DATA_DIR)).toAbsolutePath().normalize();
  }

  public int port() {
    return server.port();
  }

  /** The file holding the password of mysql.user: what members on this host read (their mysql.dataDir). */
  public static Path passwordFile(Settings settings) {
    return dataDir(settings).resolve(EmbeddedMariaDb.PASSWORD_FILE);
  }

  /** Stops the server (and its supervision). Blocking. */
  public void stop() {
    server.stop();
  }
}
