package dev.fibservice;

import com.code_intelligence.jazzer.api.BugDetectors;
import dev.fibservice.db.DbTestNodes;

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
}
