package dev.fibservice.db;

import java.nio.file.Path;
import java.util.Map;

/**
 * One real embedded MariaDB for the whole test JVM (started on first use, on a free port, data under
 * target/), which test nodes reach as an external MySQL server, with its root password.
 */
public final class TestDatabase {

  private static EmbeddedMariaDb shared;

  private TestDatabase() {
  }

  public static synchronized int port() throws Exception {
    if (shared == null) {
      Path dir = Path.of("target", "test-mariadb-" + ProcessHandle.current().pid(), "data");
      shared = EmbeddedMariaDb.start(dir, 0, "root");
      Runtime.getRuntime().addShutdownHook(new Thread(shared::stop));
    }
    return shared.port();
  }

  /** The password of the shared server's root account. */
  public static synchronized String password() throws Exception {
    port();
    return shared.password();
  }

  /** Node settings that use the shared server with a database of this name (created by the node). */
  public static Map<String, String> settings(String database) throws Exception {
    return Map.of("mysql.host", "127.0.0.1", "mysql.port", String.valueOf(port()), "mysql.database", database,
      "mysql.password", password());
  }
}
