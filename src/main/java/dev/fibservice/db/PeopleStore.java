package dev.fibservice.db;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/** The people table, as JSON. Input is validated by the caller; every value is a bound parameter. */
public final class PeopleStore {

  private final Pool pool;
  private final Database database;

  public PeopleStore(Pool pool, Database database) {
    this.pool = pool;
    this.database = database;
  }

  /** A page in a stable order (insertion order). */
  public Future<JsonObject> page(int limit, int offset) {
    return database.bounded(pool.preparedQuery(Sql.PEOPLE_PAGE).execute(Tuple.of(limit, offset))
      .compose(rows -> pool.preparedQuery(Sql.PEOPLE_COUNT).execute().map(count -> {
        JsonArray people = new JsonArray();
        rows.forEach(row -> people.add(toJson(row)));
        return new JsonObject().put("people", people).put("total", count.iterator().next().getLong(0))
          .put("limit", limit).put("offset", offset);
      })));
  }

  /** The person, or null. */
  public Future<JsonObject> byName(String name) {
    return database.bounded(pool.preparedQuery(Sql.PERSON_BY_NAME).execute(Tuple.of(name)))
      .map(rows -> rows.size() == 0 ? null : toJson(rows.iterator().next()));
  }

  /** Fails with a 409 ServiceError when the name is taken. */
  public Future<Void> insert(JsonObject person) {
    return database.bounded(pool.preparedQuery(Sql.PERSON_INSERT).execute(Tuple.of(person.getString("name"),
      person.getInteger("age"), person.getString("career"), person.getString("picture")))).mapEmpty();
  }

  /** @return whether the person existed */
  public Future<Boolean> update(String name, JsonObject person) {
    return database.bounded(pool.preparedQuery(Sql.PERSON_UPDATE).execute(Tuple.of(person.getInteger("age"),
      person.getString("career"), person.getString("picture"), name))).map(PeopleStore::changed);
  }

  /** @return whether the person existed */
  public Future<Boolean> delete(String name) {
    return database.bounded(pool.preparedQuery(Sql.PERSON_DELETE).execute(Tuple.of(name))).map(PeopleStore::changed);
  }

  private static boolean changed(RowSet<Row> rows) {
    return rows.rowCount() > 0;
  }

  private static JsonObject toJson(Row row) {
    return new JsonObject()
      .put("name", row.getString("name"))
      .put("age", row.getInteger("age"))
      .put("career", row.getString("career"))
      .put("picture", row.getString("picture"));
  }
}
