package dev.fibservice.net;

import dev.fibservice.config.Settings;
import dev.fibservice.ops.Drain;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.NetServer;

import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * A verticle that runs one listening server (HTTP, TCP, the event-bus bridge), in the one way they share: it
 * reports the port it got, and on undeploy it stops accepting and lets what is in flight finish within the grace
 * period, plus the time to write the 503s the gateways send at its end.
 */
public abstract class ServerVerticle extends VerticleBase {

  private final long shutdownMs;
  private volatile int actualPort = -1;
  private LongFunction<Future<Void>> shutdown;

  protected ServerVerticle(Settings settings) {
    this.shutdownMs = Drain.serverShutdownMs(settings);
  }

  /** Starts listening; the result is start()'s. */
  protected final Future<?> listen(NetServer server) {
    return server.listen().onSuccess(s -> listening(s.actualPort(), ms -> s.shutdown(ms, TimeUnit.MILLISECONDS)));
  }

  /** Starts listening; the result is start()'s. */
  protected final Future<?> listen(HttpServer server) {
    return server.listen().onSuccess(s -> listening(s.actualPort(), ms -> s.shutdown(ms, TimeUnit.MILLISECONDS)));
  }

  private void listening(int port, LongFunction<Future<Void>> shutdown) {
    this.actualPort = port;
    this.shutdown = shutdown;
  }

  @Override
  public final Future<?> stop() {
    Future<Void> stopped = shutdown == null ? Future.succeededFuture() : shutdown.apply(shutdownMs);
    return stopped.onComplete(ar -> stopped());
  }

  /** The server has stopped (no transfer is in progress): release what the verticle holds. */
  protected void stopped() {
  }

  /** The port this instance listens on, once started (with port 0, the one the system picked). */
  public final int actualPort() {
    return actualPort;
  }
}
