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
import java.time.Duration;
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
      "--heavy-workers", "2", "--set", "mysql.host=off").awaitReady()) {
      HttpClient http = HttpClient.newHttpClient();
      List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort()
          + "/fib/38?algorithm=recursive")).build(), HttpResponse.BodyHandlers.ofString()));
      }
      Socket tcp = new Socket("127.0.0.1", node.tcpPort());
      tcp.setSoTimeout(60_000);
      tcp.getOutputStream().write("38 recursive\n".getBytes(StandardCharsets.US_ASCII));
      // SIGTERM only once the node holds all five (bounded wait): a request still unread when the signal
      // comes is one the node never accepted
      String metrics = Eventually.poll(Duration.ofSeconds(30), () -> http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body(),
        text -> text.contains("fib_in_flight{lane=\"heavy\"} 5.0"));
      assertTrue(metrics.contains("fib_in_flight{lane=\"heavy\"} 5.0"), "the five computations never ran together");

      node.terminate();

      for (CompletableFuture<HttpResponse<String>> f : inFlight) {
        HttpResponse<String> r = f.get();
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"value\":\"39088169\""), r.body());
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(tcp.getInputStream(), StandardCharsets.US_ASCII));
      assertEquals("39088169", in.readLine());
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
  void sigtermUnderLoadFailsNoAcceptedRequestAndLogsJson() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("drain-load", Map.of("FIB_LOG_FORMAT", "json"), "--http-port", "0",
      "--tcp-port", "0", "--set", "mysql.host=off").awaitReady()) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI uri = URI.create("http://127.0.0.1:" + node.httpPort() + "/fib/27?algorithm=recursive");
      java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
      List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      List<Thread> clients = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread client = new Thread(() -> {
          // bounded: at most 5000 requests per client, and it stops once the node refuses connections
          for (int i = 0; i < 5000 && !stop.get(); i++) {
            try {
              HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
              if (r.statusCode() == 200 && r.body().contains("\"value\":\"196418\"")) {
                ok.incrementAndGet();
              } else {
                failures.add(r.statusCode() + " " + r.body());
              }
            } catch (java.io.IOException e) {
              // a connection the draining node did not accept (refused, or closed before the request was read)
              refused.incrementAndGet();
              if (e instanceof ConnectException) {
                return;
              }
            } catch (InterruptedException e) {
              return;
            }
          }
        });
        client.start();
        clients.add(client);
      }
      // load is flowing: some requests have completed (bounded wait), more are in flight
      Eventually.within(Duration.ofSeconds(30), () -> ok.get() >= 20);
      int beforeSignal = ok.get();
      node.terminate();
      assertEquals(0, node.awaitExit(60));
      stop.set(true);
      for (Thread client : clients) {
        client.join(30_000);
      }
      assertTrue(beforeSignal > 0, "no request was served before the signal");
      assertEquals(List.of(), failures, "requests accepted before the signal failed");
      String log = node.log();
      String firstLine = log.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
      io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject(firstLine);
      assertTrue(json.containsKey("message") && json.containsKey("level") && json.containsKey("@timestamp"), firstLine);
      assertTrue(log.lines().anyMatch(l -> l.contains("\"message\":\"stopped\"")), "no JSON 'stopped' line");
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
