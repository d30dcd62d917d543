package dev.fibservice.bench;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;

import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * HTTP/1.1 worker: its own {@link HttpClient} (pool of {@code connections} sockets on this worker's event loop) and
 * {@code cap} reusable request slots. A slot carries one request at a time; its handlers are allocated once.
 */
final class HttpWorker extends Worker {

  private final int poolSize;
  private HttpClient client;
  private RequestOptions requestOptions;
  private Buffer body;
  private final Slot[] all;
  private final Slot[] free;
  private int freeCount;
  private final long timeoutNanos;
  private long sweepTimer = -1;

  HttpWorker(int index, BenchOptions.Plan plan, SocketAddress server, int cap, int poolSize) {
    super(index, plan, server, cap);
    this.poolSize = poolSize;
    this.timeoutNanos = plan.timeout().toNanos();
    this.all = new Slot[cap];
    this.free = new Slot[cap];
    for (int i = 0; i < cap; i++) {
      all[i] = free[i] = new Slot(i);
    }
    freeCount = cap;
  }

  @Override
  void onPhaseStart() {
    long period = Math.max(5, Math.min(500, timeoutNanos / 10_000_000));
    sweepTimer = vertx.setPeriodic(period, id -> sweepTimeouts());
  }

  @Override
  void onPhaseEnd() {
    if (sweepTimer != -1) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  /** Fails every request older than the timeout; its slot is retired (late callbacks land on the dead slot). */
  private void sweepTimeouts() {
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    boolean any = false;
    for (int i = 0; i < all.length; i++) {
      Slot slot = all[i];
      if (slot.active && now - slot.sent > timeoutNanos) {
        slot.dead = true;
        HttpClientRequest req = slot.request;
        if (req != null) {
          req.reset(0, new TimeoutException("no complete response within " + plan.timeout().toMillis() + " ms"));
        }
        Slot fresh = new Slot(i);
        all[i] = fresh;
        free[freeCount++] = fresh;
        failed(Stats.TIMEOUT);
        any = true;
      }
    }
    if (any) {
      settle();
    }
  }

  @Override
  public Future<?> start() {
    int timeoutMs = (int) Math.min(Integer.MAX_VALUE, plan.timeout().toMillis());
    HttpClientOptions options = new HttpClientOptions()
      .setProtocolVersion(HttpVersion.HTTP_1_1)
      .setKeepAlive(plan.keepAlive())
      .setPipelining(plan.pipeline() > 1)
      .setPipeliningLimit(Math.max(1, plan.pipeline()))
      .setTcpNoDelay(true)
      .setTcpQuickAck(false)
      .setConnectTimeout(timeoutMs)
      .setDecompressionSupported(false)
      .setName("bench-" + index);
    PoolOptions pool = new PoolOptions()
      .setHttp1MaxSize(poolSize)
      .setMaxWaitQueueSize(-1);
    client = vertx.httpClientBuilder().with(options).with(pool).build();

    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (Map.Entry<String, String> h : plan.headers()) {
      headers.add(h.getKey(), h.getValue());
    }
    if (!plan.keepAlive()) {
      headers.set(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    BenchOptions.Target t = plan.target();
    requestOptions = new RequestOptions()
      .setMethod(HttpMethod.valueOf(plan.method()))
      .setServer(server)                 // the already resolved and checked address: no second DNS lookup
      .setHost(t.authorityHost())        // Host header as the user wrote it
      .setPort(t.port())
      .setURI(t.requestUri())
      // waiting for a pooled connection is bounded by Vert.x; the whole request by this worker's sweep (no timer per
      // request: arming and cancelling one costs the generator a large share of its CPU)
      .setConnectTimeout(plan.timeout().toMillis())
      .setFollowRedirects(false)
      .setSslOptions(null)
      .setHeaders(headers);
    if (plan.body() != null) {
      body = Buffer.buffer(plan.body());
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    return client == null ? Future.succeededFuture() : client.close();
  }

  @Override
  boolean hasCapacity() {
    return freeCount > 0;
  }

  @Override
  void issue(long intended, long now) {
    Slot slot = free[--freeCount];
    free[freeCount] = null;
    slot.intended = intended;
    slot.sent = now;
    slot.bytes = 0;
    slot.response = null;
    slot.request = null;
    slot.active = true;
    client.request(requestOptions).onComplete(slot);
  }

  private void release(Slot slot) {
    slot.active = false;
    slot.request = null;
    HttpClientResponse r = slot.response;
    if (r != null) {
      slot.response = null;
      r.handler(null).endHandler(null).exceptionHandler(null);
    }
    free[freeCount++] = slot;
  }

  /** One request in flight at a time; every handler is allocated once per slot, not per request. */
  private final class Slot implements Handler<AsyncResult<HttpClientRequest>> {
    final int index;
    long intended;
    long sent;
    long bytes;
    boolean active;
    /** Retired after a timeout: ignores every callback of the request it carried. */
    boolean dead;
    HttpClientRequest request;
    HttpClientResponse response;

    private final Handler<AsyncResult<HttpClientResponse>> onResponse = this::onResponse;
    private final Handler<Buffer> onData = buf -> bytes += buf.length();
    private final Handler<Void> onEnd = v -> onEnd();
    private final Handler<Throwable> onError = this::onFailure;
    private final BiConsumer<String, String> headerSize = (name, value) -> bytes += name.length() + value.length() + 4;

    Slot(int index) {
      this.index = index;
    }

    @Override
    public void handle(AsyncResult<HttpClientRequest> ar) {
      if (stopped || !active || dead) {
        if (dead && ar.succeeded()) {
          ar.result().reset();   // timed out while waiting for a connection: give the connection back
        }
        return;
      }
      if (ar.failed()) {
        onFailure(ar.cause());
        return;
      }
      HttpClientRequest req = ar.result();
      request = req;
      Future<HttpClientResponse> fut = body == null ? req.send() : req.send(body);
      fut.onComplete(onResponse);
    }

    private void onResponse(AsyncResult<HttpClientResponse> ar) {
      if (stopped || !active || dead) {
        return;
      }
      if (ar.failed()) {
        onFailure(ar.cause());
        return;
      }
      HttpClientResponse r = ar.result();
      response = r;
      // status line + headers + blank line, as close as the decoded head lets us count
      String message = r.statusMessage();
      bytes += 9 + 3 + 1 + (message == null ? 0 : message.length()) + 2 + 2;
      r.headers().forEach(headerSize);
      r.exceptionHandler(onError);
      r.handler(onData);
      r.endHandler(onEnd);
    }

    private void onEnd() {
      if (stopped || !active || dead) {
        return;
      }
      long now = System.nanoTime();
      int status = response.statusCode();
      long b = bytes;
      release(this);
      if (status >= 400) {
        failedWithLatency(intended, sent, b, now, status);
      } else {
        succeeded(intended, sent, b, now);
      }
      settle();
    }

    private void onFailure(Throwable t) {
      if (stopped || !active || dead) {
        return;
      }
      release(this);
      failed(Stats.classify(t));
      settle();
    }
  }
}
