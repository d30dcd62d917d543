package dev.fibservice.db;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.mysqlclient.MySQLConnectOptions;
import io.vertx.mysqlclient.MySQLConnection;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The migrations on a database an older version left: what they change, and what they keep. */
class MigrationsTest {

  @Test
  void peopleNamesOfAnOlderSchemaCompareExactlyOnceMigrated() throws Exception {
    Vertx vertx = Vertx.vertx();
    FibService node = null;
    MySQLConnection conn = MySQLConnection.connect(vertx, new MySQLConnectOptions().setHost("127.0.0.1")
      .setPort(TestDatabase.port()).setUser("root").setPassword(TestDatabase.password())).await();
    try {
      // the schema as version 3 left it, with a person in it
      conn.query("DROP DATABASE IF EXISTS people_v3").execute().await();
      conn.query("CREATE DATABASE people_v3 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin").execute().await();
      conn.query("USE people_v3").execute().await();
      conn.query(Sql.CREATE_SCHEMA_VERSION).execute().await();
      for (Sql.Migration m : Sql.MIGRATIONS) {
        if (m.version() <= 3) {
          for (String statement : m.statements()) {
            conn.query(statement).execute().await();
          }
          conn.preparedQuery(Sql.SCHEMA_VERSION_INSERT).execute(Tuple.of(m.version(), m.description())).await();
        }
      }
      conn.query("INSERT INTO people (name, age, career) VALUES ('Ada', 36, 'engineer')").execute().await();
      DatabaseException padded = assertThrows(DatabaseException.class,
        () -> conn.query("INSERT INTO people (name, age) VALUES ('Ada ', 1)").execute().await());
      assertEquals(1062, padded.getErrorCode(), "under utf8mb4_bin 'Ada ' was a duplicate of 'Ada'");

      node = DbTestNodes.start("people_v3", Map.of());
      Row column = conn.query("SELECT COLLATION_NAME, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
        + " 'people_v3' AND TABLE_NAME = 'people' AND COLUMN_NAME = 'name'").execute().await().iterator().next();
      assertEquals("utf8mb4_nopad_bin", column.getString(0));
      assertEquals("NO", column.getString(1));
      Row key = conn.query("SELECT NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA ="
        + " 'people_v3' AND TABLE_NAME = 'people' AND INDEX_NAME = 'uk_people_name'").execute().await().iterator().next();
      assertEquals(0, key.getInteger(0), "the unique key on name is kept");
      assertEquals("name", key.getString(1));

      WebClient client = TestNodes.client(vertx, node);
      JsonObject ada = client.get("/people/Ada").send().await().bodyAsJsonObject().getJsonObject("result");
      assertEquals(36, ada.getInteger("age"));
      assertEquals(201, client.post("/people").sendJsonObject(new JsonObject().put("name", "Ada ").put("age", 1)).await()
        .statusCode());
      assertEquals(409, client.post("/people").sendJsonObject(new JsonObject().put("name", "Ada").put("age", 1)).await()
        .statusCode());
      assertEquals(2L, conn.query("SELECT COUNT(*) FROM people WHERE name LIKE 'Ada%'").execute().await().iterator()
        .next().getLong(0));
      assertEquals(1L, conn.query("SELECT COUNT(*) FROM schema_version WHERE version = 4").execute().await().iterator()
        .next().getLong(0));
    } finally {
      conn.close().await();
      vertx.close().await();
      TestNodes.stop(node);
    }
  }
}
