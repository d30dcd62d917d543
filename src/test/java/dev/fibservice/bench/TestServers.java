package dev.fibservice.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.parsetools.RecordParser;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loopback servers for the tests, on port 0, with server-side counters.
 *
 * <p>HTTP routes: {@code /hello} (200 after a 1 ms timer, so requests overlap), {@code /fail} (500), {@code /flaky}
 * (every 2nd request 500), {@code /hang} (never answers), {@code /hang-first} (the first two never answer), {@code /echo} (checks method, body and an {@code X-Test}
 * header; 400 if anything differs).
 *
 * <p>TCP: one reply line per request line, in order, each delayed by 1 ms; the reply to every 5th line of a connection
 * is {@code [Error] ...}.
 */
final class TestServers implements AutoCloseable {

  final Vertx vertx = Vertx.vertx();
  final AtomicInteger httpRequests = new AtomicInteger();
  final AtomicInteger httpConnections = new AtomicInteger();
  final AtomicInteger connectionCloseHeaders = new AtomicInteger();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  final AtomicInteger flaky = new AtomicInteger();

  final AtomicInteger tcpConnections = new AtomicInteger();
  final AtomicLong tcpLines = new AtomicLong();
  final AtomicLong tcpErrorReplies = new AtomicLong();
  final AtomicInteger tcpMaxPending = new AtomicInteger();

  volatile String expectedBody;

  private HttpServer http;
  private NetServer tcp;

  TestServers start() throws Exception {
    http = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
      .connectionHandler(c -> httpConnections.incrementAndGet())
      .requestHandler(this::handle);
    http.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    tcp = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0))
      .connectHandler(socket -> {
        tcpConnections.incrementAndGet();
        int[] seq = {0};
        int[] pending = {0};
        socket.handler(RecordParser.newDelimited("\n", line -> {
          tcpLines.incrementAndGet();
          int n = ++seq[0];
          pending[0]++;
          tcpMaxPending.accumulateAndGet(pending[0], Math::max);
          String reply;
          if (n % 5 == 0) {
            tcpErrorReplies.incrementAndGet();
            reply = "[Error] line " + n + " rejected\n";
          } else {
            reply = "ok " + n + " " + line.toString() + "\n";
          }
          vertx.setTimer(1, id -> {
            pending[0]--;
            socket.write(reply);
          });
        }));
      });
    tcp.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return this;
  }

  private void handle(HttpServerRequest req) {
    httpRequests.incrementAndGet();
    if ("close".equalsIgnoreCase(req.getHeader("Connection"))) {
      connectionCloseHeaders.incrementAndGet();
    }
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    switch (req.path()) {
      case "/hello":
        vertx.setTimer(1, id -> respond(req, 200, "hello"));
        break;
      case "/fail":
        respond(req, 500, "boom");
        break;
      case "/flaky":
        respond(req, flaky.incrementAndGet() % 2 == 0 ? 500 : 200, "maybe");
        break;
      case "/hang":
        break;
      case "/hang-first":
        if (flaky.incrementAndGet() > 2) {
          respond(req, 200, "late but fine");
        }
        break;
      case "/echo":
        req.body().onSuccess(body -> {
          boolean ok = req.method().name().equals("POST")
            && body.toString().equals(expectedBody)
            && "yes".equals(req.getHeader("X-Test"));
          respond(req, ok ? 200 : 400, ok ? "ok" : "mismatch");
        });
        break;
      default:
        respond(req, 404, "not found");
    }
  }

  private void respond(HttpServerRequest req, int status, String body) {
    inFlight.decrementAndGet();
    req.response().setStatusCode(status).end(Buffer.buffer(body));
  }

  int httpPort() {
    return http.actualPort();
  }

  int tcpPort() {
    return tcp.actualPort();
  }

  String url(String path) {
    return "http://127.0.0.1:" + httpPort() + path;
  }

  void resetCounters() {
    httpRequests.set(0);
    httpConnections.set(0);
    connectionCloseHeaders.set(0);
    inFlight.set(0);
    maxInFlight.set(0);
    flaky.set(0);
    tcpConnections.set(0);
    tcpLines.set(0);
    tcpErrorReplies.set(0);
    tcpMaxPending.set(0);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
