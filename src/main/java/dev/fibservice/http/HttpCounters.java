package dev.fibservice.http;

import dev.fibservice.net.ConnectionLimit;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node-wide counters of the HTTP front end, shared by all its instances: open connections (under
 * http.maxConnections), requests in progress (a gauge) and the /hello page files held open.
 */
public record HttpCounters(ConnectionLimit connections, LongAdder requestsInProgress, AtomicInteger pageFiles) {

  public HttpCounters(int maxConnections) {
    this(new ConnectionLimit(maxConnections), new LongAdder(), new AtomicInteger());
  }
}
