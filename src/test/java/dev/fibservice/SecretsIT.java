package dev.fibservice;

import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real jar, given a database password in its environment or on its command line, never prints it: not in its
 * start-up lines, not while it fails to reach that database, not in /info or /health/ready.
 */
class SecretsIT {

  private static final String FROM_ENV = "S3cret-env-7f3a";
  private static final String FROM_FLAG = "S3cret-flag-91c2";

  @Test
  void aPasswordFromTheEnvironmentIsPrintedNowhere() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("secret-env", Map.of("FIB_MYSQL_PASSWORD", FROM_ENV),
      args()).awaitReady()) {
      assertNowhere(node, FROM_ENV, "environment FIB_MYSQL_PASSWORD");
    }
  }

  @Test
  void aPasswordFromAFlagIsPrintedNowhere() throws Exception {
    // the environment's too: the flag wins, and neither may show
    try (ServiceProcess node = ServiceProcess.start("secret-flag", Map.of("FIB_MYSQL_PASSWORD", FROM_ENV),
      args("--set", "mysql.password=" + FROM_FLAG)).awaitReady()) {
      assertNowhere(node, FROM_FLAG, "command line");
      assertFalse(node.log().contains(FROM_ENV), node.log());
    }
  }

  /** A MySQL server address where nothing listens: the node keeps trying (and logging) with the password. */
  private static String[] args(String... more) throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String[] base = {"--http-port", "0", "--tcp-port", "0", "--set", "mysql.host=127.0.0.1", "--set",
      "mysql.port=" + closed, "--set", "mysql.user=fib"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  private static void assertNowhere(ServiceProcess node, String secret, String source) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (String path : new String[] {"/info", "/health/ready", "/db", "/people"}) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
        .build(), HttpResponse.BodyHandlers.ofString());
      assertFalse(r.body().contains(secret), path + ": " + r.body());
      assertFalse(r.headers().toString().contains(secret), path);
    }
    // let it fail to connect a few times, so those lines are in the log too
    Eventually.within(Duration.ofSeconds(10), () -> node.log().contains("not ready"));
    String log = node.log();
    assertTrue(log.contains("config mysql.password=*** (" + source + ")"), log);
    assertFalse(log.contains(secret), log);
    node.terminate();
    assertEquals(0, node.awaitExit(30));
    assertFalse(node.log().contains(secret), node.log());
  }
}
