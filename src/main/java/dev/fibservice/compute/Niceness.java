package dev.fibservice.compute;

import dev.fibservice.math.EngineThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the CPU priority (Linux "nice") of the thread that calls it, once per thread. Heavy maths runs
 * at a lower priority than the event loops, so a core saturated by a huge computation still serves the
 * small requests at once: the kernel preempts the maths, not the I/O. Java's own thread priorities do
 * nothing on Linux, hence renice on the thread id. Where that is not possible (another OS, no renice),
 * it logs once and the service runs as before.
 */
public final class Niceness {

  private static final Logger log = LoggerFactory.getLogger(Niceness.class);
  private static final ThreadLocal<Boolean> APPLIED = ThreadLocal.withInitial(() -> false);
  private static volatile boolean unavailable;
  /** The niceness of work nobody waits for (the engine warm-up): it runs only when nothing else wants the cores. */
  static final int LOWEST = 19;

  private Niceness() {
  }

  /**
   * Gives the engine's pool threads, which exist outside any verticle, their niceness as they start: the heavy
   * lane's for the pool requests use, {@link #LOWEST} for the warm-up's.
   */
  static void forEngine(int heavyNice) {
    EngineThreads.onStart(pool -> apply(pool == EngineThreads.Pool.LOWEST ? LOWEST : heavyNice));
  }

  /** Makes the current thread's niceness {@code nice} (0 leaves it alone). Blocking: worker threads only. */
  static void apply(int nice) {
    if (nice == 0 || unavailable || APPLIED.get()) {
      return;
    }
    APPLIED.set(true);
    try {
      String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      Process renice = new ProcessBuilder("renice", "-n", String.valueOf(nice), "-p", tid)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!renice.waitFor(5, TimeUnit.SECONDS) || renice.exitValue() != 0) {
        renice.destroy();
        throw new IOException("renice exited with " + (renice.isAlive() ? "a timeout" : renice.exitValue()));
      }
    } catch (IOException | UnsupportedOperationException e) {
      unavailable = true;
      log.info("heavy workers keep the normal CPU priority (fib.heavyNice cannot apply here: {})", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The niceness of the current thread, from /proc; 0 where that cannot be read. */
  static int current() {
    try {
      String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
      String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
      // the fields after the command name, which is in parentheses and may hold spaces
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Integer.parseInt(fields[16]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
