package dev.fibservice;

import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Runs a graceful stop on SIGTERM or SIGINT, then exits 0. A plain shutdown hook cannot do that: the
 * JVM would exit 143 after it. Where signals cannot be handled, a shutdown hook is the fallback.
 */
final class Signals {

  private Signals() {
  }

  static void onTerminate(Runnable stop) {
    Runnable once = new Runnable() {
      private boolean ran;

      @Override
      public synchronized void run() {
        if (!ran) {
          ran = true;
          stop.run();
        }
      }
    };
    try {
      for (String name : new String[] {"TERM", "INT"}) {
        Signal.handle(new Signal(name), s -> new Thread(once, "fib-shutdown").start());
      }
    } catch (IllegalArgumentException e) {
      LoggerFactory.getLogger(Signals.class).warn("cannot handle signals here ({}); using a shutdown hook", e.getMessage());
      Runtime.getRuntime().addShutdownHook(new Thread(once, "fib-shutdown"));
    }
  }
}
