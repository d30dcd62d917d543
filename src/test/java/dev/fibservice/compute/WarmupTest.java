package dev.fibservice.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.math.EngineThreads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WarmupTest {

  @Test
  void runsItsScheduleOnTheLowestPriorityThreads() {
    Set<String> threads = ConcurrentHashMap.newKeySet();
    Set<Integer> nice = ConcurrentHashMap.newKeySet();
    int[] schedule = {60_000, 200_000, 200_000};
    // as a computing node does at start
    Niceness.forEngine(10);
    Warmup.Report report = Warmup.run(schedule, 120_000, () -> {
      threads.add(Thread.currentThread().getName());
      nice.add(Niceness.current());
    });
    assertEquals(3, report.runs(), report.toString());
    assertTrue(report.complete(), report.toString());
    if (EngineThreads.splits()) {
      assertTrue(threads.stream().allMatch(t -> t.startsWith("bigfib-warmup-")), threads.toString());
      if (Files.isExecutable(Path.of("/usr/bin/renice")) && Files.isDirectory(Path.of("/proc/self/task"))) {
        assertEquals(Set.of(Niceness.LOWEST), nice, "niceness of the warm-up's threads");
      }
    }
  }

  @Test
  void aPassedDeadlineEndsItQuietly() {
    Warmup.Report report = Warmup.run(Warmup.SCHEDULE, 0, () -> { });
    assertEquals(0, report.runs());
    assertEquals(Warmup.SCHEDULE.length, report.scheduled());
    assertFalse(report.complete());
  }

  @Test
  void aNodeWarmsTheEngineUpUnlessTurnedOff() throws Exception {
    FibService off = TestNodes.start(Map.of("fib.warmup", "false"));
    try {
      assertNull(off.warmup(), "fib.warmup=false: no warm-up");
    } finally {
      TestNodes.stop(off);
    }
    // the longest wait: both warm-ups end within their own 30 s deadline, so the start always waits them out here
    FibService on = TestNodes.start(Map.of("fib.warmup", "true", "fib.warmupWaitMs", "60000"));
    try {
      Warmup warmup = on.warmup();
      assertNotNull(warmup, "fib.warmup=true: a warm-up");
      assertSame(Warmup.start(), warmup, "one warm-up per JVM");
      assertTrue(warmup.done().isDone(), "the start waited for the engine's warm-up (fib.warmupWaitMs)");
      assertTrue(on.responseWarmup().isComplete(), "the start waited for the node's big-response warm-up");
      Warmup.Report report = warmup.done().get(120, TimeUnit.SECONDS); // hang guard only
      assertTrue(report.runs() > 0, report.toString());
    } finally {
      TestNodes.stop(on);
    }
  }
}
