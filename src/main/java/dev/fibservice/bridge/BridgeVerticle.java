package dev.fibservice.bridge;

import dev.fibservice.Addresses;
import dev.fibservice.NodeInfo;
import dev.fibservice.ServiceError;
import dev.fibservice.cluster.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.ops.Drain;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The TCP event-bus bridge for non-JVM services. It speaks the wire protocol of
 * {@code vertx-tcp-eventbus-bridge} (4-byte big-endian length, then UTF-8 JSON; the same frame shapes),
 * so that protocol's client libraries work, but reads frames itself, because the library's reader (5.0.8)
 * has no size limit (a 2 GB length prefix makes it buffer without bound) and silently drops malformed
 * frames. Here:
 * <ul>
 *   <li>deny by default: {@code send} to {@code fib.compute} (with a replyAddress) and {@code publish}
 *       to {@code fib.cancel} are the only permitted operations; the rest gets {@code access_denied};</li>
 *   <li>a frame over {@code bridge.maxFrameBytes}, or one that is not a JSON object with a string
 *       {@code type}, gets an error frame, then that connection closes; the bridge carries on;</li>
 *   <li>computations go through the same {@link ComputeClient} as HTTP and TCP (failover in a cluster).</li>
 * </ul>
 */
public final class BridgeVerticle extends VerticleBase {

  /** The addresses a bridge client may use, and how. */
  public static final List<String> PUBLIC_ADDRESSES = List.of(Addresses.FIB_COMPUTE, Addresses.FIB_CANCEL);

  /** Requests one connection may have in flight; beyond it the bridge stops reading that connection. */
  private static final int MAX_IN_FLIGHT_PER_CONNECTION = 128;

  private final NodeInfo node;
  private final int port;
  private NetServer server;
  private ComputeClient fib;
  private FibRequest.Limits limits;
  private int maxFrameBytes;

  public BridgeVerticle(NodeInfo node, int port) {
    this.node = node;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    fib = ComputeClient.create(vertx, settings);
    limits = FibRequest.Limits.from(settings);
    maxFrameBytes = settings.getInt(Settings.BRIDGE_MAX_FRAME);
    NetServerOptions options = new NetServerOptions()
      .setHost(settings.getString(Settings.BRIDGE_HOST))
      .setPort(port)
      .setIdleTimeout(settings.getInt(Settings.TCP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
    return vertx.createNetServer(options)
      .connectHandler(socket -> new Connection(socket).start())
      .listen()
      .onSuccess(s -> server = s);
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    // stop accepting; what is in flight finishes
    return server.shutdown(Drain.serverShutdownMs(node.settings()), TimeUnit.MILLISECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Writes one frame: length, then the JSON. */
  static Buffer frame(JsonObject json) {
    Buffer payload = json.toBuffer();
    return Buffer.buffer(payload.length() + 4).appendInt(payload.length()).appendBuffer(payload);
  }

  static JsonObject error(String message) {
    return new JsonObject().put("type", "err").put("message", message);
  }

  /** One client connection: a length-prefixed frame reader and the requests it has in flight. */
  private final class Connection {
    private final NetSocket socket;
    private final RecordParser parser;
    private final Set<String> inFlight = new HashSet<>();
    private boolean readingLength = true;
    private boolean closed;
    private boolean paused;

    Connection(NetSocket socket) {
      this.socket = socket;
      this.parser = RecordParser.newFixed(4);
    }

    void start() {
      parser.handler(this::record);
      socket.handler(parser);
      socket.drainHandler(v -> updateFlow());
      socket.exceptionHandler(e -> socket.close());
      socket.closeHandler(v -> {
        closed = true;
        // nobody is waiting for these any more: stop burning CPU for them
        for (String id : inFlight) {
          vertx.eventBus().publish(Addresses.FIB_CANCEL, new JsonObject().put("id", id));
        }
        inFlight.clear();
      });
    }

    private void record(Buffer record) {
      if (closed) {
        return;
      }
      if (readingLength) {
        int length = record.getInt(0);
        if (length < 2 || length > maxFrameBytes) {
          reject("frame_too_large: a frame holds at most " + maxFrameBytes + " bytes (bridge.maxFrameBytes), this"
            + " one announced " + Integer.toUnsignedString(length));
          return;
        }
        readingLength = false;
        parser.fixedSizeMode(length);
        return;
      }
      readingLength = true;
      parser.fixedSizeMode(4);
      JsonObject msg;
      try {
        msg = new JsonObject(record);
      } catch (RuntimeException e) {
        reject("malformed_frame: not a UTF-8 JSON object");
        return;
      }
      if (!(msg.getValue("type") instanceof String type)) {
        reject("malformed_frame: no string \"type\"");
        return;
      }
      switch (type) {
        case "ping" -> write(new JsonObject().put("type", "pong"));
        case "send" -> send(msg);
        case "publish" -> publish(msg);
        case "register", "unregister" -> write(error("access_denied"));
        default -> write(error("unknown_type"));
      }
    }

    private void send(JsonObject msg) {
      if (!(msg.getValue("address") instanceof String address)) {
        write(error("missing_address"));
        return;
      }
      if (!Addresses.FIB_COMPUTE.equals(address)) {
        write(error("access_denied"));
        return;
      }
      if (!(msg.getValue("replyAddress") instanceof String replyAddress)) {
        write(error("missing_reply_address: fib.compute is request/reply"));
        return;
      }
      FibRequest request;
      try {
        request = FibRequest.fromJson(msg.getValue("body"), limits);
      } catch (ServiceError e) {
        write(failure(address, replyAddress, e));
        return;
      }
      String id = requestId(msg.getValue("headers"));
      inFlight.add(id);
      fib.compute(request, id).onComplete(ar -> {
        if (closed) {
          return;
        }
        inFlight.remove(id);
        if (ar.succeeded()) {
          write(new JsonObject().put("type", "message").put("address", replyAddress).put("send", true)
            .put("body", ar.result()));
        } else {
          write(failure(address, replyAddress, ar.cause()));
        }
        updateFlow();
      });
      updateFlow();
    }

    private void publish(JsonObject msg) {
      if (!(msg.getValue("address") instanceof String address)) {
        write(error("missing_address"));
        return;
      }
      if (!Addresses.FIB_CANCEL.equals(address)) {
        write(error("access_denied"));
        return;
      }
      if (msg.getValue("body") instanceof JsonObject body) {
        vertx.eventBus().publish(address, body);
      }
    }

    /** The client's x-request-id header (so it can cancel), else a fresh one. */
    private String requestId(Object headers) {
      if (headers instanceof JsonObject h && h.getValue(Addresses.REQUEST_ID_HEADER) instanceof String id
        && !id.isEmpty() && id.length() <= 128) {
        return id;
      }
      return Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    }

    /** failureCode is the status the failure means everywhere (400, 499, 503, 504, 500). */
    private JsonObject failure(String address, String replyAddress, Throwable cause) {
      ServiceError error = ServiceError.from(cause);
      String type = cause instanceof ReplyException re ? re.failureType().name() : "RECIPIENT_FAILURE";
      return new JsonObject().put("type", "err").put("address", replyAddress).put("sourceAddress", address)
        .put("failureCode", error.status()).put("failureType", type).put("message", error.getMessage());
    }

    private void write(JsonObject json) {
      if (!closed) {
        socket.write(frame(json));
      }
    }

    /** An error frame, then close: the stream cannot be trusted to be in step any more. */
    private void reject(String message) {
      socket.pause();
      write(error(message));
      closed = true;
      socket.end();
    }

    private void updateFlow() {
      if (closed) {
        return;
      }
      boolean shouldPause = inFlight.size() >= MAX_IN_FLIGHT_PER_CONNECTION || socket.writeQueueFull();
      if (shouldPause && !paused) {
        paused = true;
        socket.pause();
      } else if (!shouldPause && paused) {
        paused = false;
        socket.resume();
      }
    }
  }
}
