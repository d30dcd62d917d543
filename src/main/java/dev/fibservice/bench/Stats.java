package dev.fibservice.bench;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Counters and latency histograms of one worker. Written only from the worker's event loop; merged after the run.
 * Latencies are recorded in microseconds.
 */
final class Stats {

  /** Highest trackable latency: one hour, in microseconds. */
  static final long HIGHEST_MICROS = 3_600_000_000L;

  static final int CONNECT = 0;
  static final int TIMEOUT = 1;
  static final int READ_RESET = 2;
  static final int REPLY = 3;
  static final int OTHER = 4;
  static final int ABORTED = 5;
  static final String[] KIND_NAMES = {"connect", "timeout", "read/reset", "reply", "other", "aborted"};

  final Histogram latency = newHistogram();          // corrected (from the intended send time) in --rate mode
  final Histogram uncorrected = newHistogram();      // from the actual send time; == latency in closed-loop mode
  final long[] errors = new long[KIND_NAMES.length];
  final long[] statusErrors = new long[1000];
  long requests;
  long completed;
  long bytes;

  static Histogram newHistogram() {
    return new Histogram(1, HIGHEST_MICROS, 3);
  }

  void reset() {
    latency.reset();
    uncorrected.reset();
    java.util.Arrays.fill(errors, 0);
    java.util.Arrays.fill(statusErrors, 0);
    requests = completed = bytes = 0;
  }

  /** A response arrived (success or not) at {@code now}. */
  void recordLatency(long intended, long sent, long now) {
    latency.recordValue(clamp((now - intended) / 1000));
    uncorrected.recordValue(clamp((now - sent) / 1000));
  }

  private static long clamp(long micros) {
    return micros < 1 ? 1 : Math.min(micros, HIGHEST_MICROS);
  }

  void statusError(int status) {
    statusErrors[status >= 0 && status < statusErrors.length ? status : 0]++;
  }

  long errorCount() {
    long n = 0;
    for (long e : errors) {
      n += e;
    }
    for (long e : statusErrors) {
      n += e;
    }
    return n;
  }

  void add(Stats o) {
    latency.add(o.latency);
    uncorrected.add(o.uncorrected);
    for (int i = 0; i < errors.length; i++) {
      errors[i] += o.errors[i];
    }
    for (int i = 0; i < statusErrors.length; i++) {
      statusErrors[i] += o.statusErrors[i];
    }
    requests += o.requests;
    completed += o.completed;
    bytes += o.bytes;
  }

  Stats copy() {
    Stats s = new Stats();
    s.add(this);
    return s;
  }

  /** Error kind → count, non-zero kinds only, status errors as {@code "status 500"}. */
  Map<String, Long> errorMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < errors.length; i++) {
      if (i == ABORTED) {
        continue;
      }
      if (errors[i] > 0) {
        m.put(KIND_NAMES[i], errors[i]);
      }
    }
    for (int s = 0; s < statusErrors.length; s++) {
      if (statusErrors[s] > 0) {
        m.put("status " + s, statusErrors[s]);
      }
    }
    if (errors[ABORTED] > 0) {
      m.put(KIND_NAMES[ABORTED], errors[ABORTED]);
    }
    return m;
  }

  /** Maps a request failure to an error kind. */
  static int classify(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ConnectException || c instanceof ConnectTimeoutException || c instanceof NoRouteToHostException
        || c instanceof UnknownHostException || c instanceof PortUnreachableException) {
        return CONNECT;
      }
      if (c instanceof TimeoutException) {
        return TIMEOUT;
      }
      if (c instanceof HttpClosedException || c instanceof StreamResetException || c instanceof ClosedChannelException
        || c instanceof IOException) {
        return READ_RESET;
      }
      String msg = c.getMessage();
      if (msg != null && (msg.contains("Connection was closed") || msg.contains("Connection reset"))) {
        return READ_RESET;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return OTHER;
  }
}
