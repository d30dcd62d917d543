package dev.fibservice.db;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Test nodes with the database on, waiting until it is migrated. */
public final class DbTestNodes {

  private DbTestNodes() {
  }

  public static FibService start(String database, Map<String, ?> overrides) throws Exception {
    Map<String, Object> all = new HashMap<>(TestDatabase.settings(database));
    all.putAll(overrides);
    FibService node = TestNodes.start(all);
    awaitReady(node);
    return node;
  }

  /** Bounded wait for the migrations: a hang guard, not a speed check. */
  public static void awaitReady(FibService node) throws Exception {
    Eventually.within(Duration.ofSeconds(30), () -> node.node().database().check() == null);
    if (node.node().database().check() != null) {
      throw new IllegalStateException(node.node().database().check().getMessage());
    }
  }
}
