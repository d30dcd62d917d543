package dev.fibservice.compute;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.math.EngineThreads;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The heavy lane's threads run at the configured lower CPU priority; the light lane's do not. */
class NicenessTest {

  @Test
  void heavyThreadsAreNicerThanLightOnes() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")) && Files.isExecutable(Path.of("/usr/bin/renice")),
      "needs Linux /proc and renice");
    FibService node = TestNodes.start(Map.of("fib.heavyNice", "7", "fib.heavyWorkers", "1"));
    try {
      var bus = node.vertx().eventBus();
      // a heavy computation (recursive n > 22) and a light one (doubling n = 10)
      bus.request("fib.compute", new JsonObject().put("n", 27).put("algorithm", "recursive")).await();
      bus.request("fib.compute", new JsonObject().put("n", 10)).await();
      Map<String, Integer> nice = threadNiceness();
      assertEquals(7, nice.get("fib-heavy-0"), nice.toString());
      assertEquals(0, nice.get("fib-light-0"), nice.toString());
    } finally {
      TestNodes.stop(node);
    }
  }

  /**
   * Renice is a process: a thread's niceness is set when the node starts, not in the first computation, which paid for
   * it on a busy machine (the cold F(10^6)). Before any request: both heavy threads niced, the engine's pool started.
   */
  @Test
  void theHeavyThreadsAreNicedAtTheStartNotInTheFirstRequest() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/task")) && Files.isExecutable(Path.of("/usr/bin/renice")),
      "needs Linux /proc and renice");
    FibService node = TestNodes.start(Map.of("fib.heavyNice", "6", "fib.heavyWorkers", "2", "fib.warmup", "false"));
    try {
      Map<String, Integer> nice = threadNiceness();
      assertEquals(6, nice.get("fib-heavy-0"), nice.toString());
      assertEquals(6, nice.get("fib-heavy-1"), nice.toString());
      if (EngineThreads.splits()) {
        // started by this node or an earlier one of this JVM (they stay): never by a request
        assertTrue(nice.keySet().stream().anyMatch(t -> t.startsWith("bigfib-worker-")), nice.toString());
      }
    } finally {
      TestNodes.stop(node);
    }
  }

  /** Thread name to niceness, for the threads of this JVM. */
  private static Map<String, Integer> threadNiceness() throws IOException {
    Map<String, Integer> nice = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String name = Files.readString(task.resolve("comm")).strip();
          String stat = Files.readString(task.resolve("stat"));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          nice.put(name, Integer.parseInt(fields[16]));
        } catch (IOException e) {
          // the thread ended meanwhile
        }
      }
    }
    return nice;
  }
}
