package dev.fibservice.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;

/** Applies {@link Sql#MIGRATIONS} in order, each once, recorded in schema_version, under a named lock. */
final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {
  }

  /** @return the schema version after applying what was missing */
  static Future<Integer> apply(SqlConnection conn) {
    return conn.query(Sql.MIGRATION_LOCK).execute()
      .compose(lock -> conn.query(Sql.CREATE_SCHEMA_VERSION).execute())
      .compose(v -> conn.query(Sql.SCHEMA_VERSIONS).execute())
      .compose(rows -> applyMissing(conn, Database.versions(rows)))
      .eventually(() -> conn.query(Sql.MIGRATION_UNLOCK).execute());
  }

  private static Future<Integer> applyMissing(SqlConnection conn, Set<Integer> applied) {
    Future<Void> chain = Future.succeededFuture();
    int latest = 0;
    for (Sql.Migration m : Sql.MIGRATIONS) {
      latest = Math.max(latest, m.version());
      if (applied.contains(m.version())) {
        continue;
      }
      for (String statement : m.statements()) {
        chain = chain.compose(v -> conn.query(statement).execute().mapEmpty());
      }
      chain = chain.compose(v -> Database.run(conn, Sql.SCHEMA_VERSION_INSERT, Tuple.of(m.version(), m.description())))
        .onSuccess(v -> log.info("applied migration {}: {}", m.version(), m.description()));
    }
    int version = latest;
    return chain.map(v -> version);
  }
}
