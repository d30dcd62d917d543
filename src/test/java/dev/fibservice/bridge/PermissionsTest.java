package dev.fibservice.bridge;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one permission table of both bridges: deny by default, and docs/clients.md's table made of the same rows. */
class PermissionsTest {

  @Test
  void theDocsTableIsTheTable() throws Exception {
    String doc = Files.readString(Path.of("docs", "clients.md"));
    int header = doc.indexOf("| address | a client may | what it does |");
    assertTrue(header >= 0, "docs/clients.md lacks the bridges' permission table");
    assertEquals(header, doc.lastIndexOf("| address | a client may | what it does |"), "documented once");
    String table = doc.substring(header, doc.indexOf("\n\n", header));
    for (Permissions.Rule rule : Permissions.RULES) {
      assertTrue(table.contains(rule.docRow()), "docs/clients.md's permission table lacks " + rule.docRow());
    }
    assertEquals(Permissions.RULES.size() + 2, table.split("\n").length, "no rows the table lacks:\n" + table);
  }

  @Test
  void whatIsNotInTheTableIsRefused() {
    assertNotNull(Permissions.find("fib.compute", Permissions.Kind.SEND));
    assertNull(Permissions.find("fib.compute", Permissions.Kind.PUBLISH));
    assertNull(Permissions.find("fib.compute", Permissions.Kind.REGISTER));
    assertNull(Permissions.find("fib.worker.heavy", Permissions.Kind.SEND));
    assertNull(Permissions.find("fib.stats", Permissions.Kind.SEND));
    assertNull(Permissions.find("jobs.cancelled", Permissions.Kind.REGISTER));
    assertNull(Permissions.find(null, Permissions.Kind.SEND));
    assertTrue(Permissions.find("jobs.submit", Permissions.Kind.SEND).write(), "jobs.submit is a write");
  }
}
