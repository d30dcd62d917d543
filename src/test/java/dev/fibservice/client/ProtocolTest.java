package dev.fibservice.client;

import dev.fibservice.api.Addresses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The client library speaks the service's event-bus names, and needs nothing else of the service. */
class ProtocolTest {

  @Test
  void theLibrarysNamesAreTheServicesNames() {
    assertEquals(Addresses.FIB_COMPUTE, Protocol.FIB_COMPUTE);
    assertEquals(Addresses.FIB_CANCEL, Protocol.FIB_CANCEL);
    assertEquals(Addresses.REQUEST_ID_HEADER, Protocol.REQUEST_ID_HEADER);
    assertEquals(Addresses.CANCEL_ID_HEADER, Protocol.CANCEL_ID_HEADER);
    assertEquals(Addresses.computeOn("m-1"), Protocol.computeOn("m-1"));
    assertEquals(Addresses.pingOn("m-1"), Protocol.pingOn("m-1"));
  }

  /** Its classes name no class of the service outside dev.fibservice.client (what the client jar holds). */
  @Test
  void theLibraryDependsOnNothingElseOfTheService() throws Exception {
    Path dir = Path.of("target", "classes", "dev", "fibservice", "client");
    Pattern foreign = Pattern.compile("dev/fibservice/(?!client/)[A-Za-z0-9_/$]+");
    List<String> found = new ArrayList<>();
    List<Path> classes;
    try (Stream<Path> files = Files.list(dir)) {
      classes = files.filter(f -> f.toString().endsWith(".class")).toList();
    }
    assertFalse(classes.isEmpty(), "no classes in " + dir);
    for (Path c : classes) {
      Matcher m = foreign.matcher(new String(Files.readAllBytes(c), StandardCharsets.ISO_8859_1));
      while (m.find()) {
        found.add(c.getFileName() + " -> " + m.group());
      }
    }
    assertEquals(List.of(), found);
  }
}
