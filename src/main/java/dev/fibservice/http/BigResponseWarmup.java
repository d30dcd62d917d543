package dev.fibservice.http;

import dev.fibservice.compute.CachedResult;
import dev.fibservice.compute.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.ext.web.Router;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A bounded warm-up, at start, of the way a big result leaves the node: a few exchanges over loopback with a server of
 * its own (port 0, never the node's), whose route asks for a result of F(10^6)'s size over the event bus and sends it
 * as JSON or text, as {@code GET /fib/n} does. Class loading and the JIT of the router, the reply, the big body's
 * encoding and its write then happen here, not in the first client's request. Nothing of it reaches the node's
 * counters or metrics. Its work on the event loops is a few milliseconds once compiled; the rounds bound it, a
 * deadline ends it on a machine too busy to run it.
 */
public final class BigResponseWarmup {

  /** Exchanges, alternately JSON and text. */
  public static final int ROUNDS = 16;
  /** About the digits of F(10^6). */
  static final int DIGITS = 208_988;
  static final long DEADLINE_MS = 30_000;

  private BigResponseWarmup() {
  }

  /** Runs it; the result is how many exchanges completed (fewer when the deadline ended it). Never fails. */
  public static Future<Integer> run(Vertx vertx) {
    String address = "fib.warmup." + UUID.randomUUID();
    JsonObject result = new JsonObject().put("n", 1_000_000).put("algorithm", "doubling")
      .put("value", "1234567890".repeat(DIGITS / 10 + 1).substring(0, DIGITS)).put("digits", DIGITS)
      .put("computeMicros", 0).put("worker", "warm-up");
    MessageConsumer<JsonObject> consumer = vertx.eventBus().localConsumer(address, m -> m.reply(result));
    Router router = Router.router(vertx);
    router.get("/fib/:n").produces("application/json").produces("text/plain").handler(ctx -> {
      boolean text = "text/plain".equals(ctx.getAcceptableContentType());
      vertx.eventBus().<JsonObject>request(address, ctx.pathParam("n")).onComplete(ar -> {
        if (ar.failed()) {
          ctx.fail(ar.cause());
          return;
        }
        // as a heavy result leaves the node: copied off the heap once, its body a view of that memory
        JsonObject body = ar.result().body();
        HttpVerticle.send(ctx.response(), Reply.of(CachedResult.of(body.getInteger("n"), body.getString("value"),
          body.getLong("computeMicros"), body.getString("worker"))), text, false);
      });
    });
    // no traces of it either
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
        .setTracingPolicy(TracingPolicy.IGNORE))
      .requestHandler(router);
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
      .setTracingPolicy(TracingPolicy.IGNORE));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
    Future<Integer> done = consumer.completion()
      .compose(v -> server.listen())
      .compose(s -> exchanges(client, s.actualPort(), 0, deadline))
      .otherwise(0);
    return done.compose(rounds -> client.close().otherwiseEmpty()
      .compose(v -> server.close().otherwiseEmpty())
      .compose(v -> consumer.unregister().otherwiseEmpty())
      .map(rounds));
  }

  private static Future<Integer> exchanges(HttpClient client, int port, int done, long deadline) {
    if (done == ROUNDS || System.nanoTime() - deadline > 0) {
      return Future.succeededFuture(done);
    }
    String accept = done % 2 == 0 ? "application/json" : "text/plain";
    return client.request(HttpMethod.GET, port, "127.0.0.1", "/fib/1000000")
      .compose(request -> request.putHeader(HttpHeaders.ACCEPT, accept).send())
      .compose(response -> response.body().map(body -> response.statusCode() == 200 && body.length() >= DIGITS))
      .compose(ok -> ok ? exchanges(client, port, done + 1, deadline) : Future.succeededFuture(done));
  }
}
