package dev.fibservice.contracts;

import dev.fibservice.FibService;
import dev.fibservice.FreePorts;
import dev.fibservice.config.Settings;
import dev.fibservice.db.DbTestNodes;
import dev.fibservice.db.TestDatabase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The node every contract is captured from and replayed against: a real node in this JVM, a cluster member of its own
 * (role all, so that it answers on its member addresses and announces its leave), the TCP bridge and the SockJS
 * bridge on, its database on the tests' MariaDB. What it publishes on the addresses of {@link #EMITTED} is recorded.
 */
final class ContractNode implements AutoCloseable {

  /** Addresses the service publishes on itself (nobody asks): their bodies are part of the contract too. */
  static final List<String> EMITTED = List.of("fib.cancel", "fib.cluster.leaving", "jobs.wakeup", "jobs.cancelled");
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final FibService service;
  private final Map<String, List<Object>> emitted = new HashMap<>();
  private final List<MessageConsumer<Object>> listeners = new ArrayList<>();
  private boolean closed;

  private ContractNode(FibService service) {
    this.service = service;
    for (String address : EMITTED) {
      List<Object> bodies = new CopyOnWriteArrayList<>();
      emitted.put(address, bodies);
      MessageConsumer<Object> c = service.vertx().eventBus().consumer(address, m -> bodies.add(m.body()));
      listeners.add(c);
    }
    for (MessageConsumer<Object> c : listeners) {
      c.completion().await();
    }
  }

  /** A fresh node with a database of its own (named after {@code tag}), migrated before this returns. */
  static ContractNode start(String tag) throws Exception {
    int hazelcast;
    hazelcast = FreePorts.outsideEphemeralRange();
    String db = "contracts_" + tag.replaceAll("[^A-Za-z0-9]", "_") + "_" + ProcessHandle.current().pid();
    Map<String, Object> settings = new HashMap<>(TestDatabase.settings(db));
    settings.putAll(Map.of("http.port", "0", "tcp.port", "0", "node.name", "contracts", "bridge.enabled", "true",
      "bridge.port", "0", "fib.warmup", "false", "fib.maxN.recursive", "60", "eventLoops", "2", "instances", "1"));
    settings.putAll(Map.of("cluster.enabled", "true", "cluster.name", "contracts-" + UUID.randomUUID(),
      "cluster.hazelcastPort", String.valueOf(hazelcast), "cluster.members", "127.0.0.1:" + hazelcast,
      "jobs.pollMs", "100"));
    FibService service = FibService.start(Settings.defaults().with(settings)).await();
    try {
      DbTestNodes.awaitReady(service);
      return new ContractNode(service);
    } catch (Exception | Error e) {
      service.stop();
      throw e;
    }
  }

  FibService service() {
    return service;
  }

  /** This member's id: what the member addresses and the ping reply name. */
  String member() {
    return service.node().cluster().selfId();
  }

  /** What the node published on an address of {@link #EMITTED} so far. */
  List<Object> emitted(String address) {
    return emitted.get(address);
  }

  /** A request on the node's bus: {"reply": body} or {"failure": {"code", "type", "message"}}. */
  JsonObject request(String address, Object body, JsonObject headers) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(WAIT.toMillis());
    headers.forEach(h -> options.addHeader(h.getKey(), String.valueOf(h.getValue())));
    try {
      return new JsonObject().put("reply", service.vertx().eventBus().request(address, body, options).await().body());
    } catch (Throwable t) {
      Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
      if (cause instanceof ReplyException e) {
        return new JsonObject().put("failure", new JsonObject().put("code", e.failureCode())
          .put("type", e.failureType().name()).put("message", e.getMessage()));
      }
      throw new IllegalStateException("request to " + address + " failed: " + cause, cause);
    }
  }

  void publish(String address, Object body) {
    service.vertx().eventBus().publish(address, body);
  }

  /** A connection to the TCP bridge: 4-byte big-endian length, then UTF-8 JSON, both ways. */
  BridgeSocket bridge() throws IOException {
    return new BridgeSocket(service.bridgePort());
  }

  /** A connection to the SockJS bridge's plain WebSocket transport (one JSON frame per message). */
  SockJsSocket sockJs() throws Exception {
    return new SockJsSocket(service.httpPort());
  }

  /** Stops the node the way SIGTERM does (it announces its leave); once. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      service.stop();
    }
  }

  /** Frames of a bridge, read one at a time with a bound; pushes of fib.stats are skipped unless asked for. */
  abstract static class FrameSocket implements AutoCloseable {
    abstract void send(JsonObject frame) throws Exception;

    abstract JsonObject read() throws Exception;

    /** The next {@code count} frames, fib.stats pushes skipped unless {@code stats}. */
    List<JsonObject> receive(int count, boolean stats) throws Exception {
      List<JsonObject> frames = new ArrayList<>();
      while (frames.size() < count) {
        JsonObject frame = read();
        if (stats || !"fib.stats".equals(frame.getString("address"))) {
          frames.add(frame);
        }
      }
      return frames;
    }
  }

  static final class BridgeSocket extends FrameSocket {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    BridgeSocket(int port) throws IOException {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout((int) WAIT.toMillis());
      in = new DataInputStream(socket.getInputStream());
      out = new DataOutputStream(socket.getOutputStream());
    }

    @Override
    void send(JsonObject frame) throws IOException {
      byte[] data = frame.encode().getBytes(StandardCharsets.UTF_8);
      out.writeInt(data.length);
      out.write(data);
      out.flush();
    }

    @Override
    JsonObject read() throws IOException {
      byte[] data = new byte[in.readInt()];
      in.readFully(data);
      return new JsonObject(new String(data, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static final class SockJsSocket extends FrameSocket implements WebSocket.Listener {
    private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
    private final WebSocket socket;

    SockJsSocket(int port) throws Exception {
      socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/eventbus/websocket"), this)
        .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        frames.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      binary.writeBytes(bytes);
      if (last) {
        frames.add(new JsonObject(binary.toString(StandardCharsets.UTF_8)));
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    void send(JsonObject frame) throws Exception {
      socket.sendText(frame.encode(), true).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    JsonObject read() throws Exception {
      JsonObject frame = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (frame == null) {
        throw new AssertionError("no SockJS frame within " + WAIT);
      }
      return frame;
    }

    /**
     * A close frame, as a client that leaves properly sends it: a socket only aborted keeps the node's stop waiting for
     * it (up to shutdown.graceMs) as for a client that vanished.
     */
    @Override
    public void close() {
      try {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        // closed by the server already
      } finally {
        socket.abort();
      }
    }
  }

  /** The JSON of a list of frames. */
  static JsonArray array(List<JsonObject> frames) {
    JsonArray a = new JsonArray();
    frames.forEach(a::add);
    return a;
  }
}
