package dev.fibservice.bench;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Live progress bar on stderr with the current request rate (over the last second). Reads the workers' published
 * counters from its own daemon thread; never touches the event loops.
 */
final class Progress implements AutoCloseable {

  private static final long PERIOD_MS = 200;
  private static final int WINDOW = (int) (1000 / PERIOD_MS);

  private final ProgressBar bar;
  private final List<? extends Worker> workers;
  private final ScheduledExecutorService timer;
  private final ScheduledFuture<?> task;
  private final boolean countBounded;
  private final long startNanos = System.nanoTime();
  private final long[] doneSamples = new long[WINDOW + 1];
  private final long[] timeSamples = new long[WINDOW + 1];
  private int samples;

  /** {@code max} is the number of requests, or the phase duration in milliseconds when {@code requests <= 0}. */
  Progress(String task, List<? extends Worker> workers, long requests, long durationMillis, PrintStream out) {
    this.workers = workers;
    this.countBounded = requests > 0;
    ProgressBarBuilder b = new ProgressBarBuilder()
      .setTaskName(task)
      .setStyle(ProgressBarStyle.ASCII)
      .setConsumer(new ConsoleProgressBarConsumer(out))
      .setUpdateIntervalMillis((int) PERIOD_MS)
      .hideEta();
    if (countBounded) {
      b.setInitialMax(requests);
    } else {
      b.setInitialMax(durationMillis).setUnit("s", 1000);
    }
    bar = b.build();
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-progress");
      t.setDaemon(true);
      return t;
    });
    this.task = timer.scheduleAtFixedRate(this::update, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
  }

  private void update() {
    long done = 0;
    long failed = 0;
    for (Worker w : workers) {
      done += w.progressDone.get();
      failed += w.progressFailed.get();
    }
    long now = System.nanoTime();
    // sliding window of the last second for the current rate
    if (samples == doneSamples.length) {
      System.arraycopy(doneSamples, 1, doneSamples, 0, samples - 1);
      System.arraycopy(timeSamples, 1, timeSamples, 0, samples - 1);
      samples--;
    }
    doneSamples[samples] = done;
    timeSamples[samples] = now;
    samples++;
    double rate = 0;
    if (samples > 1) {
      double secs = (now - timeSamples[0]) / 1e9;
      rate = secs > 0 ? (done - doneSamples[0]) / secs : 0;
    }
    if (countBounded) {
      bar.stepTo(done);
    } else {
      bar.stepTo(Math.min(bar.getMax(), TimeUnit.NANOSECONDS.toMillis(now - startNanos)));
    }
    String msg = String.format(Locale.ROOT, "%,.0f req/s", rate)
      + (countBounded ? "" : String.format(Locale.ROOT, ", %,d done", done))
      + (failed > 0 ? String.format(Locale.ROOT, ", %,d errors", failed) : "");
    bar.setExtraMessage(msg);
  }

  @Override
  public void close() {
    task.cancel(false);
    timer.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    update();
    bar.close();
  }
}
