package dev.fibservice;

import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.db.DatabaseProcess;
import dev.fibservice.ops.Logging;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code db}: the embedded MariaDB alone, as the database of a cluster, a process of its own that outlives the members
 * (they are replaced one by one; it is not). It reads the keys the members read (mysql.port, mysql.dataDir,
 * mysql.user; --conf, FIB_*, --set as for the service), prints where it listens and where its password is, and stops
 * cleanly on SIGTERM.
 */
@Command(name = "db", sortOptions = false, usageHelpAutoWidth = true, mixinStandardHelpOptions = true,
  description = {"Run the embedded MariaDB alone: the database a cluster's members share (they set mysql.port to its"
    + " port; with mysql.host \"embedded\", a cluster member reaches it instead of starting one).", "",
    "  java -jar target/fib-service.jar db --port 3306",
    "  java -jar target/fib-service.jar --ports-file run/db.json db --port 0 --data-dir data/mariadb", ""},
  footer = {"", "Exit codes: 0 stopped cleanly, 1 failed at start, 2 bad command line or configuration."})
final class DbCommand implements Callable<Integer> {

  @ParentCommand
  Main main;

  @Spec
  CommandSpec spec;

  @Option(names = "--port", paramLabel = "PORT", description = "port on 127.0.0.1 (mysql.port), 0 = any free port"
    + " (default 3306)")
  String port;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "its data (mysql.dataDir, default data/mariadb);"
    + " the password file is created there at the first start")
  String dataDir;

  @Override
  public Integer call() throws Exception {
    if (port != null) {
      main.sets.put(Settings.MYSQL_PORT.name(), port);
    }
    if (dataDir != null) {
      main.sets.put(Settings.MYSQL_DATA_DIR.name(), dataDir);
    }
    Settings settings;
    try {
      settings = main.settings(System.getenv());
    } catch (ConfigException e) {
      spec.commandLine().getErr().println("fib-service db: " + e.getMessage());
      return Main.EXIT_CONFIG;
    }
    Logging.configure(settings.getString(Settings.LOG_FORMAT));
    Logger log = LoggerFactory.getLogger(DbCommand.class);
    settings.deprecations().forEach(log::warn);
    settings.ignored().forEach(log::warn);
    if (!DatabaseProcess.available()) {
      log.error("the embedded MariaDB is not here: it sits in lib/ beside the jar after `make build`");
      return 1;
    }
    DatabaseProcess db;
    try {
      db = DatabaseProcess.start(settings);
    } catch (Exception e) {
      log.error("the embedded MariaDB did not start: {}", e.getMessage(), e);
      return 1;
    }
    Path passwordFile = DatabaseProcess.passwordFile(settings);
    log.info("database ready: MariaDB on 127.0.0.1:{}, account '{}', password in {}; cluster members on this host"
        + " reach it with --set mysql.port={} (mysql.host \"embedded\", the same mysql.dataDir), from elsewhere with"
        + " mysql.host, mysql.port and mysql.passwordFile", db.port(), settings.getString(Settings.MYSQL_USER),
      passwordFile, db.port());
    if (main.portsFile != null) {
      try {
        Main.writeAtomically(main.portsFile, new JsonObject().put("mysql", db.port())
          .put("passwordFile", passwordFile.toString()).encode() + "\n");
      } catch (IOException | RuntimeException e) {
        log.error("cannot write --ports-file {} ({}); stopping", main.portsFile, e.toString());
        db.stop();
        return 1;
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Signals.onTerminate(() -> {
      log.info("stopping the database");
      try {
        db.stop();
      } finally {
        log.info("stopped");
        stopped.countDown();
      }
    });
    stopped.await();
    return 0;
  }
}
