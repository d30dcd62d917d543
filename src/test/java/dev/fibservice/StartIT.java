package dev.fibservice;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the real jar starts: the ports file it writes, the old option names it still takes, a transport it lacks. */
class StartIT {

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void thePortsFileNamesWhereEachServerListens() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("ports", Map.of(), "--http-port", "0", "--tcp-port", "0",
      "--bridge-port", "0", "--set", "mysql.host=off", "--set", "node.name=ports-it").awaitReady()) {
      JsonObject ports = node.ports();
      assertEquals("ports-it", ports.getString("node"), ports.encode());
      assertEquals(Map.of("node", "ports-it", "http", node.httpPort(), "tcp", node.tcpPort(), "bridge",
        node.bridgePort()).keySet(), ports.fieldNames(), "alone, no cluster ports: " + ports.encode());
      // each one answers its protocol
      assertEquals(200, get(node.httpPort(), "/hello").statusCode());
      try (Socket tcp = new Socket("127.0.0.1", node.tcpPort())) {
        tcp.setSoTimeout(30_000);
        tcp.getOutputStream().write("10\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("55", new BufferedReader(new InputStreamReader(tcp.getInputStream(), StandardCharsets.US_ASCII))
          .readLine());
      }
      try (Socket bridge = new Socket("127.0.0.1", node.bridgePort())) {
        bridge.setSoTimeout(30_000);
        byte[] ping = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
        DataOutputStream out = new DataOutputStream(bridge.getOutputStream());
        out.writeInt(ping.length);
        out.write(ping);
        DataInputStream in = new DataInputStream(bridge.getInputStream());
        byte[] reply = new byte[in.readInt()];
        in.readFully(reply);
        assertEquals("pong", new JsonObject(new String(reply, StandardCharsets.UTF_8)).getString("type"));
      }
      // written to a temporary file and renamed: nothing else is left beside it
      try (Stream<java.nio.file.Path> files = Files.list(node.logFile().getParent())) {
        assertFalse(files.anyMatch(f -> f.getFileName().toString().startsWith(node.logFile().getFileName() + ".ports")
          && f.toString().endsWith(".tmp")), "a temporary ports file was left");
      }
    }
  }

  @Test
  void aClusterMemberNamesItsClusterPortsToo() throws Exception {
    int hazelcast;
    hazelcast = FreePorts.outsideEphemeralRange();
    try (ServiceProcess member = ServiceProcess.start("ports-cluster", Map.of(), "--cluster", "--role", "worker",
      "--set", "cluster.name=start-it-" + System.nanoTime(), "--set", "cluster.hazelcastPort=" + hazelcast,
      "--set", "cluster.members=127.0.0.1:" + hazelcast, "--set", "mysql.host=off").awaitReady()) {
      JsonObject ports = member.ports();
      assertFalse(ports.containsKey("http"), "a worker member serves no HTTP: " + ports.encode());
      assertEquals(hazelcast, ports.getInteger("hazelcast"), ports.encode());
      for (String name : new String[] {"hazelcast", "clusterBus"}) {
        try (Socket s = new Socket("127.0.0.1", ports.getInteger(name))) {
          assertTrue(s.isConnected(), name);
        }
      }
    }
  }

  @Test
  void theOldNamesOfARenamedKeyStillWorkAndSaySo() throws Exception {
    try (ServiceProcess node = ServiceProcess.start("old-names", Map.of(), "--http-port", "0", "--tcp-port", "0",
      "--worker-instances", "3", "--set", "mysql.host=off").awaitReady()) {
      JsonObject info = new JsonObject(get(node.httpPort(), "/info").body());
      assertEquals(3, info.getJsonObject("workers").getInteger("heavy"), info.encode());
      String log = node.log();
      assertEquals(1, log.lines().filter(l -> l.contains("WARN") && l.contains("config key workerInstances (from command"
        + " line) is the old name of fib.heavyWorkers")).count(), log);
    }
    try (ServiceProcess node = ServiceProcess.start("old-env", Map.of("FIB_WORKER_INSTANCES", "2"), "--http-port", "0",
      "--tcp-port", "0", "--set", "mysql.host=off").awaitReady()) {
      assertEquals(2, new JsonObject(get(node.httpPort(), "/info").body()).getJsonObject("workers").getInteger("heavy"));
      assertTrue(node.log().contains("config key workerInstances (from environment FIB_WORKER_INSTANCES) is the old"
        + " name of fib.heavyWorkers"), node.log());
    }
  }

  /**
   * A rollback: this jar started beside a configuration file written for a later release. The later release's keys
   * (they say which release added them) are ignored with a warning naming them; a key with an earlier release that
   * does not exist is a typo, exit 2.
   */
  @Test
  void aConfigurationOfALaterReleaseStartsThisOneWithAWarning() throws Exception {
    java.nio.file.Path conf = Files.createTempFile("later-release", ".json");
    try {
      Files.writeString(conf, "{\"mysql\":{\"host\":\"off\"},\"fib\":{\"prefetchBytes@99.0.0\":67108864},"
        + "\"tracing@99.0.0\":{\"enabled\":true}}");
      try (ServiceProcess node = ServiceProcess.start("later-release", Map.of(), "--conf", conf.toString(),
        "--http-port", "0", "--tcp-port", "0", "--set", "http.compression@99.0.0=true").awaitReady()) {
        assertEquals(200, get(node.httpPort(), "/hello").statusCode());
        String log = node.log();
        for (String key : new String[] {"fib.prefetchBytes (from " + conf, "tracing.enabled (from " + conf,
          "http.compression (from command line"}) {
          assertEquals(1, log.lines().filter(l -> l.contains("WARN") && l.contains("config key " + key + ") comes with"
            + " release 99.0.0, later than this one (0.") && l.endsWith("): ignored")).count(), log);
        }
      }
      try (ServiceProcess typo = ServiceProcess.start("earlier-typo", Map.of(), "--conf", conf.toString(),
        "--set", "fib.timeotMs@0.1.0=5000")) {
        assertEquals(2, typo.awaitExit(30));
        assertTrue(typo.log().strip().startsWith("fib-service: unknown config key 'fib.timeotMs' (from command line);"
          + " it says it came with release 0.1.0, which is not later than this one"), typo.log());
      }
    } finally {
      Files.deleteIfExists(conf);
    }
  }

  @Test
  void aTransportThatCannotLoadFallsBackToNio() throws Exception {
    // Netty's switch that turns its native transports off: epoll is there, but cannot load
    try (ServiceProcess node = ServiceProcess.start("no-native", Map.of("JAVA_TOOL_OPTIONS",
      "-Dio.netty.transport.noNative=true"), "--http-port", "0", "--tcp-port", "0", "--transport", "epoll",
      "--set", "mysql.host=off").awaitReady()) {
      assertEquals("nio", new JsonObject(get(node.httpPort(), "/info").body()).getString("transport"));
      assertEquals(200, get(node.httpPort(), "/hello").statusCode());
      assertTrue(node.log().contains("transport epoll is not available"), node.log());
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
      HttpResponse.BodyHandlers.ofString());
  }
}
