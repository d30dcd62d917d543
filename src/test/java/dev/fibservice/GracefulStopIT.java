package dev.fibservice;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real jar, stopped by SIGTERM while it works: in-flight requests finish, then it exits 0. */
class GracefulStopIT {

  @Test
  void sigtermFinishesInFlightWorkAndExitsZero() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("graceful", Map.of(), "--http-port", "0", "--tcp-port", "0",
      "--worker-instances", "2").awaitReady()) {
      HttpClient http = HttpClient.newHttpClient();
      List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort()
          + "/fib/36?algorithm=recursive")).build(), HttpResponse.BodyHandlers.ofString()));
      }
      Socket tcp = new Socket("127.0.0.1", node.tcpPort());
      tcp.setSoTimeout(60_000);
      tcp.getOutputStream().write("36 recursive\n".getBytes(StandardCharsets.US_ASCII));
      Thread.sleep(300);

      node.terminate();

      for (CompletableFuture<HttpResponse<String>> f : inFlight) {
        HttpResponse<String> r = f.get();
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"value\":\"14930352\""), r.body());
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(tcp.getInputStream(), StandardCharsets.US_ASCII));
      assertEquals("14930352", in.readLine());
      tcp.close();
      assertEquals(0, node.awaitExit(30));
      String log = node.log();
      assertTrue(log.contains("stopping: draining in-flight requests"), log);
      assertTrue(log.contains("stopped"), log);
      assertFalse(log.contains("has been blocked"), log);
      assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", node.httpPort()).close());
    }
  }

  @Test
  void badConfigurationExitsTwoWithOneLine() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("badconf", Map.of("FIB_HTTP_PORT", "70000"))) {
      assertEquals(2, node.awaitExit(30));
      String log = node.log().strip();
      assertEquals("fib-service: http.port: '70000' is not accepted (from environment FIB_HTTP_PORT); expected an"
        + " integer from 0 to 65535", log);
    }
  }
}
