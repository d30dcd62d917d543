package dev.fibservice.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tracing.* keys: a decimal ratio in its range, an endpoint that is an HTTP URL, an exporter by name. */
class TracingKeysTest {

  @TempDir
  Path dir;

  @Test
  void decimalKeysTakeFractionsInTheirRange() throws Exception {
    assertEquals(1.0, Settings.defaults().getDouble(Settings.TRACING_SAMPLE_RATIO));
    assertEquals(0.25, Settings.load(null, false, Map.of("FIB_TRACING_SAMPLE_RATIO", "0.25"), Map.of())
      .getDouble(Settings.TRACING_SAMPLE_RATIO));
    assertEquals(0.0, Settings.load(null, false, Map.of(), Map.of("tracing.sampleRatio", "0"))
      .getDouble(Settings.TRACING_SAMPLE_RATIO));
    Path file = write("{\"tracing\":{\"sampleRatio\":0.1}}");
    assertEquals(0.1, Settings.load(file, true, Map.of(), Map.of()).getDouble(Settings.TRACING_SAMPLE_RATIO));
    assertBad("tracing.sampleRatio: '1.5' is not accepted (from command line); expected a number from 0 to 1",
      null, Map.of(), Map.of("tracing.sampleRatio", "1.5"));
    assertBad("tracing.sampleRatio: '-0.1' is not accepted", null, Map.of(), Map.of("tracing.sampleRatio", "-0.1"));
    assertBad("tracing.sampleRatio: 'half' is not accepted", null, Map.of(), Map.of("tracing.sampleRatio", "half"));
    Path quoted = write("{\"tracing\":{\"sampleRatio\":\"0.5\"}}");
    assertBad("tracing.sampleRatio: '0.5' is not accepted (from " + quoted + "); expected a number from 0 to 1 as a"
      + " JSON number", quoted, Map.of(), Map.of());
  }

  @Test
  void aTracingEndpointMustBeAnHttpUrl() {
    assertEquals("http://127.0.0.1:9411/api/v2/spans", Settings.load(null, false, Map.of(),
      Map.of("tracing.endpoint", "http://127.0.0.1:9411/api/v2/spans")).getString(Settings.TRACING_ENDPOINT));
    assertBad("tracing.endpoint: '127.0.0.1:9411' is not accepted (from command line); expected auto or an http://"
      + " or https:// URL", null, Map.of(), Map.of("tracing.endpoint", "127.0.0.1:9411"));
    assertBad("tracing.exporter: 'jaeger' is not accepted (from command line); expected one of off, otlp, zipkin",
      null, Map.of(), Map.of("tracing.exporter", "jaeger"));
  }

  private Path write(String json) throws Exception {
    Path file = Files.createTempFile(dir, "conf", ".json");
    Files.writeString(file, json);
    return file;
  }

  private static void assertBad(String expected, Path file, Map<String, String> env, Map<String, String> flags) {
    ConfigException e = assertThrows(ConfigException.class, () -> Settings.load(file, true, env, flags));
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should contain '" + expected + "'");
    assertTrue(!e.getMessage().contains("\n"), "one line");
  }
}
