package dev.fibservice;

import com.code_intelligence.jazzer.api.BugDetectors;
import dev.fibservice.db.DbTestNodes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The node the wire fuzz tests talk to over loopback sockets: HTTP, TCP, the TCP bridge and SockJS on free ports, the
 * database on where a test names one (the tests' shared MariaDB, a database of the test's own), small limits so that every valid request is
 * computed in microseconds and the fuzzer's inputs reach every limit, and short body and header timeouts so that an
 * unfinished request ends soon with its documented answer.
 */
public final class FuzzNode {

  /** fib.maxN.* of the node: a request within them is cheap. */
  public static final int MAX_RECURSIVE = 20;
  public static final int MAX_ITERATIVE = 2000;
  public static final int MAX_DOUBLING = 5000;

  /**
   * Why a fuzz test class against a node is {@link NoBlockedEventLoops.Exempt}: Jazzer's agent instruments each class
   * when it is first loaded, on the thread that loads it, often an event loop, which a busy machine then reports
   * blocked for seconds.
   */
  public static final String INSTRUMENTED = "Jazzer instruments classes as event loops load them";

  private FuzzNode() {
  }

  /**
   * Lets connections to loopback through Jazzer's SSRF detector, which refuses every connection while fuzzing: the
   * tests connect to the node there, and the node to its database. Call it first thing in a fuzz test (the detector
   * exists once Jazzer has started); where Jazzer runs without its hooks (the corpora in `make test`) there is none.
   */
  public static void allowLoopback() {
    try {
      BugDetectors.allowNetworkConnections((host, port) -> host.equals("localhost") || host.startsWith("127.")
        || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1"));
    } catch (IllegalStateException e) {
      // no detector to configure
    }
  }

  /** A node with a database of this name, or with the database off (null). */
  public static FibService start(String database) throws Exception {
    Map<String, Object> settings = new HashMap<>();
    settings.put("fib.warmup", "false");
    settings.put("fib.maxN.recursive", String.valueOf(MAX_RECURSIVE));
    settings.put("fib.maxN.iterative", String.valueOf(MAX_ITERATIVE));
    settings.put("fib.maxN.doubling", String.valueOf(MAX_DOUBLING));
    settings.put("http.maxUriBytes", "256");
    settings.put("http.maxHeaderBytes", "1024");
    settings.put("http.maxBodyBytes", "1024");
    settings.put("http.bodyTimeoutMs", "300");
    settings.put("http.headerTimeoutMs", "300");
    settings.put("bridge.enabled", "true");
    settings.put("bridge.port", "0");
    settings.put("bridge.maxFrameBytes", "256");
    return database == null ? TestNodes.start(settings) : DbTestNodes.start(database, settings);
  }

  /**
   * What a client that sends {@code stream} to 127.0.0.1:{@code port} in pieces of the sizes {@code splits} says (the
   * rest at once), then half-closes, gets back until the server closes. A server that stops reading (it ended the
   * session) or resets the connection after its last answer ends the sending or the reading, keeping what came; one
   * that does not close within 15 s fails the test: a hang.
   */
  public static byte[] exchange(int port, byte[] stream, int[] splits) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      try {
        int at = 0;
        for (int i = 0; at < stream.length; i++) {
          int size = i < splits.length ? Math.min(splits[i], stream.length - at) : stream.length - at;
          out.write(stream, at, size);
          out.flush();
          at += size;
        }
        socket.shutdownOutput();
      } catch (IOException e) {
        // the server closed after an answer that ends the connection; what it sent is read below
      }
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          answer.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no close within 15 s (a hang); " + answer.size() + " bytes came: "
          + answer.toString(StandardCharsets.ISO_8859_1));
      } catch (SocketException e) {
        // a reset after the server closed with input unread: the answers before it stand
      }
      return answer.toByteArray();
    }
  }
}
