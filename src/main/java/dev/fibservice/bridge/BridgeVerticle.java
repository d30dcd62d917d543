package dev.fibservice.bridge;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.RequestIds;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.config.Settings;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.net.ServerVerticle;
import dev.fibservice.net.Session;
import dev.fibservice.ops.Traces;
import dev.fibservice.stats.NodeStats;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The TCP event-bus bridge for non-JVM services. It speaks the wire protocol of
 * {@code vertx-tcp-eventbus-bridge} (4-byte big-endian length, then UTF-8 JSON; the same frame shapes),
 * so that protocol's client libraries work, but reads frames itself, because the library's reader (5.0.8)
 * has no size limit (a 2 GB length prefix makes it buffer without bound) and silently drops malformed
 * frames. Here:
 * <ul>
 *   <li>deny by default: what {@link Permissions} permits, the table the SockJS bridge obeys too; the rest gets
 *       {@code access_denied}. A {@code fib.cancel} cancels the client's own requests on the same connection only;
 *       {@code fib.stats} pushes come as {@code message} frames while the connection is registered;</li>
 *   <li>a frame over {@code bridge.maxFrameBytes} or under 2 bytes, or one that is not a JSON object with a
 *       string {@code type}, gets an error frame, then that connection closes; the bridge carries on;</li>
 *   <li>at most {@code bridge.maxInFlightPerConnection} requests of a connection are in flight and at most
 *       {@code bridge.maxConnections} connections open; every frame written (replies, errors, pongs) goes through
 *       the same backpressure;</li>
 *   <li>computations go through the same {@link ComputeClient} as HTTP and TCP (failover in a cluster), as the
 *       SockJS bridge's do ({@link BridgeCalls}).</li>
 * </ul>
 */
public final class BridgeVerticle extends ServerVerticle {

  private final Settings settings;
  private final ConnectionLimit connections;
  private final ClusterView cluster;
  private final NodeStats stats;
  private final StatsFeed feed;
  private final int port;
  private BridgeCalls calls;
  private int maxFrameBytes;
  /** Requests one connection may have in flight; beyond it the bridge stops reading that connection. */
  private int maxInFlightPerConnection;

  /**
   * @param connections the node's bridge connections
   * @param cluster     this member's view of the cluster, or null when the node runs alone
   * @param stats       the node's live counters (what each worker member computed for this front)
   * @param feed        the node's fib.stats pushes
   */
  public BridgeVerticle(Settings settings, ConnectionLimit connections, ClusterView cluster, NodeStats stats,
                        StatsFeed feed, int port) {
    super(settings);
    this.settings = settings;
    this.connections = connections;
    this.cluster = cluster;
    this.stats = stats;
    this.feed = feed;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    calls = new BridgeCalls(vertx, settings, ComputeClient.create(vertx, settings, cluster, stats));
    maxFrameBytes = settings.getInt(Settings.BRIDGE_MAX_FRAME);
    maxInFlightPerConnection = settings.getInt(Settings.BRIDGE_MAX_IN_FLIGHT);
    NetServerOptions options = new NetServerOptions()
      .setHost(settings.getString(Settings.BRIDGE_HOST))
      .setPort(port)
      .setIdleTimeout(settings.getInt(Settings.TCP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
    return listen(vertx.createNetServer(options).connectHandler(this::connected));
  }

  private void connected(NetSocket socket) {
    if (!connections.opened()) {
      connections.closed();
      socket.end(Frames.frame(Frames.error("busy: too many connections (" + connections.max()
        + ", bridge.maxConnections); retry shortly")));
      return;
    }
    new Connection(socket).start();
  }

  /**
   * One client connection: a length-prefixed frame reader (frames are taken only while the connection may take
   * more; see {@link Session}) and the requests it has in flight, under cancel ids the bridge made.
   */
  private final class Connection extends Session {

    /** Requests in flight that are not computations (jobs.*); computations are in {@link #work}. */
    private int jobCalls;
    private final Map<String, StatsFeed.Subscription> registrations = new HashMap<>();

    Connection(NetSocket socket) {
      super(BridgeVerticle.this.vertx, socket);
    }

    @Override
    protected int take(Buffer input, int start, int end) {
      int next = Frames.next(input, start, end, maxFrameBytes);
      if (next == Frames.REFUSED) {
        reject(Frames.refusal(input, start, maxFrameBytes));
        return end;
      }
      if (next != Frames.INCOMPLETE) {
        handle(input.getBuffer(start + Frames.HEADER, next));
      }
      return next;
    }

    /** The client half-closed inside a frame: what it sent of it can never be read; the rest is answered. */
    @Override
    protected void leftover(Buffer rest) {
      if (rest.length() > 0) {
        writeError("malformed_frame: the connection was half-closed inside a frame (" + rest.length()
          + " bytes of it came)");
      }
    }

    @Override
    protected boolean busy() {
      return work.size() + jobCalls >= maxInFlightPerConnection;
    }

    @Override
    protected boolean answered() {
      return work.size() + jobCalls == 0;
    }

    @Override
    protected void onClosed() {
      connections.closed();
      registrations.values().forEach(StatsFeed.Subscription::cancel);
      registrations.clear();
    }

    private void handle(Buffer record) {
      JsonObject msg;
      try {
        msg = Frames.decode(record);
      } catch (Frames.Malformed e) {
        reject(e.getMessage());
        return;
      }
      switch (msg.getString("type")) {
        case "ping" -> write(Frames.frame(new JsonObject().put("type", "pong")));
        case "send" -> send(msg);
        case "publish" -> publish(msg);
        case "register" -> register(msg);
        case "unregister" -> unregister(msg);
        default -> writeError("unknown_type");
      }
    }

    private void send(JsonObject msg) {
      String address = permitted(msg, Permissions.Kind.SEND);
      if (address == null) {
        return;
      }
      if (!(msg.getValue("replyAddress") instanceof String replyAddress)) {
        writeError("missing_reply_address: " + address + " is request/reply");
        return;
      }
      String clientId = clientId(msg.getValue("headers"));
      boolean computation = BridgeCalls.cancellable(address);
      String cancelId = computation ? work.add(clientId) : null;
      if (!computation) {
        jobCalls++;
      }
      // the logs name the request by the client's id or a fresh one, never by the cancel id
      String requestId = clientId != null ? clientId : RequestIds.next();
      Span span = BridgeCalls.span(address, msg.getValue("headers"));
      Scope scope = Traces.enter(span);
      calls.send(address, msg.getValue("body"), requestId, cancelId).onComplete(ar -> {
        if (isClosed()) {
          Traces.end(span);
          return;
        }
        if (computation) {
          work.remove(cancelId);
        } else {
          jobCalls--;
        }
        if (ar.succeeded()) {
          write(Frames.frame(BridgeCalls.traced(new JsonObject().put("type", "message").put("address", replyAddress)
            .put("send", true).put("body", ar.result()), span)));
        } else {
          write(Frames.frame(BridgeCalls.traced(BridgeCalls.failure(address, replyAddress, ar.cause()), span)));
        }
        changed();
      });
      Traces.exit(scope);
    }

    /** {@code fib.stats}: this node's counters pushed once a second, until unregistered or closed. */
    private void register(JsonObject msg) {
      String address = permitted(msg, Permissions.Kind.REGISTER);
      if (address != null && !registrations.containsKey(address)) {
        registrations.put(address, feed.subscribe(body -> push(address, body)));
      }
    }

    private void unregister(JsonObject msg) {
      String address = permitted(msg, Permissions.Kind.REGISTER);
      StatsFeed.Subscription subscription = address == null ? null : registrations.remove(address);
      if (subscription != null) {
        subscription.cancel();
      }
    }

    /** A push; a client whose replies are not being read misses it (the next one says it all again). */
    private void push(String address, String body) {
      if (!isClosed() && !socket.writeQueueFull()) {
        write(Frames.frame(Buffer.buffer("{\"type\":\"message\",\"address\":\"" + address + "\",\"send\":false,"
          + "\"body\":" + body + "}")));
      }
    }

    /**
     * A client's {@code fib.cancel} cancels its own requests on this connection (those it sent with that
     * x-request-id) and nothing else: the bus only ever sees the bridge's own cancel ids.
     */
    private void publish(JsonObject msg) {
      if (permitted(msg, Permissions.Kind.PUBLISH) == null) {
        return;
      }
      if (msg.getValue("body") instanceof JsonObject body && body.getValue("id") instanceof String id) {
        work.cancel(id);
      }
    }

    /** The message's address when the client may do {@code kind} with it, else null (and the client is told why). */
    private String permitted(JsonObject msg, Permissions.Kind kind) {
      if (!(msg.getValue("address") instanceof String address)) {
        writeError("missing_address");
        return null;
      }
      if (Permissions.find(address, kind) == null) {
        writeError("access_denied");
        return null;
      }
      return address;
    }

    /** The client's x-request-id header (for the logs, and to cancel its own request), or null. */
    private String clientId(Object headers) {
      return headers instanceof JsonObject h ? RequestIds.fromClient(h.getValue(Addresses.REQUEST_ID_HEADER)) : null;
    }

    private void writeError(String message) {
      write(Frames.frame(Frames.error(message)));
    }

    /** An error frame, then close: the stream cannot be trusted to be in step any more. */
    private void reject(String message) {
      abort(Frames.frame(Frames.error(message)));
    }
  }
}
