package dev.fibservice.bridge;

import dev.fibservice.api.Addresses;
import dev.fibservice.api.RequestIds;
import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.cluster.ClusterView;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.config.Settings;
import dev.fibservice.net.ConnectionLimit;
import dev.fibservice.net.Origins;
import dev.fibservice.net.PendingWork;
import dev.fibservice.net.Wire;
import dev.fibservice.ops.Traces;
import dev.fibservice.stats.NodeStats;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.auth.User;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.Session;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import io.vertx.ext.web.handler.sockjs.Transport;
import io.vertx.ext.web.handler.sockjs.impl.EventBusBridgeImpl;
import io.vertx.ext.web.handler.sockjs.impl.SockJSSocketBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The event bus for browsers and Node.js: vertx-web's SockJS event-bus bridge, the protocol of the official
 * JavaScript client ({@code @vertx/eventbus-bridge-client.js}), served by every HTTP instance at {@code sockjs.path}.
 * <ul>
 *   <li>What a client may do is {@link Permissions}, the table the TCP bridge obeys too, and the bridge handles every
 *       permitted operation itself (through its {@link BridgeEvent}s): {@code fib.compute} goes through the front's
 *       {@link ComputeClient}, like HTTP and TCP, never straight onto the bus; replies and errors go to the client's
 *       replyAddress, errors with the same {@code failureCode}s as the TCP bridge. Those events are left uncompleted:
 *       completed with false, vertx-web would also write a {@code rejected} error, with true it would send the
 *       message onto the bus. Its own permitted lists stay empty, so whatever reaches it is refused
 *       ({@code access_denied}): deny by default twice over.</li>
 *   <li>Cancellation is scoped: a client's {@code fib.cancel} reaches only its own requests on the same socket;
 *       on the bus the computations carry cancel ids the bridge made.</li>
 *   <li>The origin rule of HTTP: a page of an origin that may not read gets 403 on every SockJS request, and a socket
 *       opened by a page that may not write (its {@code Origin}) is refused {@code jobs.submit}. Only the WebSocket and
 *       XHR transports are served: the JSONP, htmlfile and EventSource ones open sessions with GET requests that a
 *       page of any origin can make without an {@code Origin} header ({@code <script>}, {@code <iframe>},
 *       {@code <img>}), which would slip past that rule.</li>
 *   <li>Bounded: sockets per node ({@code sockjs.maxConnections}), requests in flight per socket, registrations per
 *       socket, address length, and the bytes written to a socket that its client has not taken
 *       ({@code sockjs.maxWriteQueueBytes}: beyond it the socket is closed, since a SockJS transport cannot stop
 *       reading a client that does not read). Every write, vertx-web's own error frames included, is counted: each
 *       socket is wrapped before vertx-web's bridge sees it ({@link Client}), which is why the bridge is built here
 *       from {@link EventBusBridgeImpl}, as {@code SockJSHandler.bridge} builds it, around the wrapped socket.</li>
 *   <li>A client's mistakes cost no log line above DEBUG: malformed frames are answered here, with vertx-web's own
 *       error words, before its bridge (which logs an unknown frame type at ERROR) sees them.</li>
 *   <li>When the node leaves ({@link #leave}), each socket answers what it has in flight and then closes, an idle one
 *       at once; a request sent meanwhile is answered 503, for the client to send again once connected elsewhere.
 *       Vert.x leaves a WebSocket open when its server shuts down, until the end of the grace period.</li>
 * </ul>
 */
public final class SockJsBridge {

  private static final Logger log = LoggerFactory.getLogger(SockJsBridge.class);

  /** The official client's reply addresses are UUIDs; vertx-web's bridge refuses longer ones too. */
  static final int MAX_REPLY_ADDRESS = 36;
  /** A socket whose client has this much written to it and not yet taken gets no pushes until it catches up. */
  static final int PUSH_BACKLOG_BYTES = 64 * 1024;

  private final Settings settings;
  private final ClusterView cluster;
  private final NodeStats stats;
  private final StatsFeed feed;
  private final ConnectionLimit connections;
  private final Origins origins;
  private final SockJSHandlerOptions handlerOptions;
  private final SockJSBridgeOptions bridgeOptions;
  private final int maxInFlight;
  private final int maxHandlers;
  private final int maxAddress;
  private final long replyTimeoutMs;
  private final long maxQueued;
  /** Every HTTP instance's bridge, each on its own event loop. */
  private final List<Instance> instances = new CopyOnWriteArrayList<>();

  /**
   * @param cluster this member's view of the cluster, or null when the node runs alone
   * @param stats   the node's live counters (the compute client counts there what each worker member did for it)
   */
  public SockJsBridge(Settings settings, ClusterView cluster, NodeStats stats, StatsFeed feed) {
    this.settings = settings;
    this.cluster = cluster;
    this.stats = stats;
    this.feed = feed;
    this.connections = new ConnectionLimit(settings.getInt(Settings.SOCKJS_MAX_CONNECTIONS));
    this.origins = new Origins(settings);
    this.maxInFlight = settings.getInt(Settings.SOCKJS_MAX_IN_FLIGHT);
    this.maxHandlers = settings.getInt(Settings.SOCKJS_MAX_HANDLERS);
    this.maxAddress = settings.getInt(Settings.SOCKJS_MAX_ADDRESS);
    this.replyTimeoutMs = settings.getInt(Settings.SOCKJS_REPLY_TIMEOUT_MS);
    this.maxQueued = settings.getInt(Settings.SOCKJS_MAX_WRITE_QUEUE);
    String path = settings.getString(Settings.SOCKJS_PATH);
    this.handlerOptions = new SockJSHandlerOptions()
      .addDisabledTransport(Transport.JSON_P.name())
      .addDisabledTransport(Transport.HTML_FILE.name())
      .addDisabledTransport(Transport.EVENT_SOURCE.name())
      // no cookie: nothing here needs one (vertx-web sets JSESSIONID=dummy by default, for sticky load balancers)
      .setInsertJSESSIONID(false)
      // its iframe page loads the client from a CDN by default: the page's own copy instead
      .setLibraryURL("/ui/vendor/sockjs.min.js");
    // empty permitted lists: every permitted operation is taken by the event handler, the rest refused
    this.bridgeOptions = new SockJSBridgeOptions()
      .setMaxAddressLength(maxAddress)
      .setMaxHandlersPerSocket(maxHandlers)
      .setPingTimeout(settings.getInt(Settings.SOCKJS_PING_TIMEOUT_MS))
      .setReplyTimeout(replyTimeoutMs);
    log.debug("SockJS bridge at {}: {}", path, Permissions.summary());
  }

  /** The node's SockJS sockets. */
  public ConnectionLimit connections() {
    return connections;
  }

  /**
   * The bridge's routes for one HTTP instance, to mount at {@code sockjs.path}: call it from that instance's start(),
   * on its event loop (the sockets it opens, and their computations, live there).
   */
  public Router router(Vertx vertx) {
    Instance instance = new Instance(vertx);
    instances.add(instance);
    return instance.router();
  }

  /**
   * The node leaves (the first step of closing the front ends): every socket answers what it has in flight, then
   * closes; from now on a request it sends is answered 503 at once.
   */
  public void leave() {
    for (Instance instance : instances) {
      instance.context.runOnContext(v -> instance.leave());
    }
  }

  /** The bridge of one HTTP instance: its compute client and its sockets, on its event loop. */
  private final class Instance {

    private final Vertx vertx;
    private final BridgeCalls calls;
    private final Context context;
    /** Its open sockets. */
    private final Set<Client> clients = new HashSet<>();
    private boolean leaving;

    Instance(Vertx vertx) {
      this.vertx = vertx;
      this.calls = new BridgeCalls(vertx, settings, ComputeClient.create(vertx, settings, cluster, stats));
      this.context = vertx.getOrCreateContext();
    }

    void leave() {
      leaving = true;
      for (Client client : List.copyOf(clients)) {
        client.leave();
      }
    }

    Router router() {
      EventBusBridgeImpl bridge = new EventBusBridgeImpl(vertx, null, bridgeOptions, this::event);
      Router router = SockJSHandler.create(vertx, handlerOptions)
        .socketHandler(socket -> bridge.handle(new Client(vertx, socket)));
      // before SockJS's own routes: pages of origins that may not read get nothing
      router.route().order(-1).handler(this::origin);
      return router;
    }

    private void origin(RoutingContext ctx) {
      String origin = ctx.request().getHeader(HttpHeaders.ORIGIN);
      if (origin != null && !origins.mayRead(origin, ctx.request().getHeader(HttpHeaders.HOST))) {
        ctx.fail(new ServiceError(403, "origin " + Origins.shown(origin) + " may not use this service's event-bus"
          + " bridge from a page (http.corsOrigin)", new JsonObject().put("origin", Origins.shown(origin))
          .put("key", "http.corsOrigin")));
        return;
      }
      String path = ctx.request().path();
      if (path != null && (path.endsWith("/xhr") || path.endsWith("/xhr_streaming"))) {
        // vertx-web closes the connection after each XHR poll and stream without saying so: a client that reused it
        // for its next request (an xhr_send) would see a reset
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
      }
      ctx.next();
    }

    private void event(BridgeEvent event) {
      Client client = (Client) event.socket();
      switch (event.type()) {
        case SOCKET_CREATED -> {
          if (!connections.opened()) {
            connections.closed();
            client.error("busy", "too many SockJS sockets (" + connections.max() + ", sockjs.maxConnections); retry"
              + " shortly");
            event.complete(false); // vertx-web closes it
            return;
          }
          client.start(origins, this);
          event.complete(true);
          if (leaving) {
            client.leave();
          }
        }
        case SOCKET_CLOSED -> event.complete(true);
        // no ping for sockjs.pingTimeoutMs: closed, as vertx-web would (1001 on a WebSocket)
        case SOCKET_IDLE -> client.closeAfterSessionExpired();
        // taken here, and left uncompleted (see the class comment)
        case SEND -> client.send(calls, event.getRawMessage());
        case PUBLISH -> client.publish(event.getRawMessage());
        case REGISTER -> client.register(event.getRawMessage());
        case UNREGISTER -> client.unregister(event.getRawMessage());
        default -> event.complete(true);
      }
    }
  }

  /**
   * One SockJS socket, as vertx-web's bridge sees it: every frame it reads is checked first, and every frame written
   * to it is counted until its client took it. Also the socket's requests in flight, under cancel ids the bridge made,
   * its registrations and whether it may write. Used on the event loop of the HTTP instance that opened it.
   */
  private final class Client extends SockJSSocketBase {

    private final Vertx vertx;
    private final SockJSSocket socket;
    private final PendingWork work;
    private final Map<String, Runnable> registrations = new HashMap<>();
    private Handler<Buffer> bridgeHandler;
    private Handler<Void> bridgeCloseHandler;
    /** Bytes written to the socket and not yet taken by its client. */
    private long queued;
    /** Requests in flight that are not computations (jobs.*); computations are in {@link #work}. */
    private int jobCalls;
    private boolean counted;
    private boolean closed;
    private boolean leaving;
    private Instance instance;
    private boolean mayWrite;
    private String origin;

    Client(Vertx vertx, SockJSSocket socket) {
      // a SockJSSocketBase, since vertx-web's bridge casts its sockets to one to close them when idle
      super(vertx, socket.routingContext(), new SockJSHandlerOptions().setRegisterWriteHandler(false));
      this.vertx = vertx;
      this.socket = socket;
      this.work = new PendingWork(vertx);
    }

    /** The socket counts toward sockjs.maxConnections from now on; frames are checked before the bridge sees them. */
    void start(Origins origins, Instance instance) {
      counted = true;
      this.instance = instance;
      instance.clients.add(this);
      if (socket.routingContext().request().headers().contains(HttpHeaders.UPGRADE)) {
        // the WebSocket transport: its writes are all made on this event loop, as the HTTP port's
        Wire.writeDirectUpgraded(socket.routingContext().request().connection());
      }
      MultiMap headers = socket.headers();
      origin = headers == null ? null : headers.get(HttpHeaders.ORIGIN);
      mayWrite = origin == null || origins.mayWrite(origin, headers.get(HttpHeaders.HOST));
      socket.handler(this::received);
      socket.exceptionHandler(e -> log.debug("SockJS socket from {} failed: {}", socket.remoteAddress(),
        Text.oneLine(String.valueOf(e.getMessage()))));
      socket.closeHandler(v -> {
        closed();
        if (bridgeCloseHandler != null) {
          bridgeCloseHandler.handle(v);
        }
      });
    }

    private void closed() {
      if (closed) {
        return;
      }
      closed = true;
      if (instance != null) {
        instance.clients.remove(this);
      }
      work.cancelAll();
      registrations.values().forEach(Runnable::run);
      registrations.clear();
      if (counted) {
        connections.closed();
      }
    }

    /** A frame from the client: malformed ones are answered here, the others go to vertx-web's bridge. */
    private void received(Buffer data) {
      JsonObject msg;
      try {
        msg = new JsonObject(data.toString());
      } catch (DecodeException | ClassCastException e) {
        error("invalid_json", "a frame must be a JSON object such as {\"type\":\"send\",\"address\":\"fib.compute\","
          + "\"replyAddress\":\"r1\",\"body\":{\"n\":30}}");
        return;
      }
      if (!(msg.getValue("type") instanceof String type)) {
        error("missing_type", "a frame needs a string type: ping, send, publish, register or unregister");
        return;
      }
      switch (type) {
        case "ping" -> {
        }
        case "send", "publish", "register", "unregister" -> {
          if (!(msg.getValue("address") instanceof String address)) {
            error("missing_address", "a " + type + " frame needs a string address");
            return;
          }
          if (address.length() > maxAddress) {
            error("max_address_length_reached", "the address has " + address.length() + " characters; at most "
              + maxAddress + " (sockjs.maxAddressLength)");
            return;
          }
        }
        default -> {
          error("invalid_type", "unknown type '" + Text.abbreviate(type) + "'; expected ping, send, publish,"
            + " register or unregister");
          return;
        }
      }
      if (bridgeHandler != null) {
        bridgeHandler.handle(data);
      }
    }

    void send(BridgeCalls calls, JsonObject msg) {
      String address = msg.getString("address");
      String replyAddress = msg.getValue("replyAddress") instanceof String r ? r : null;
      Permissions.Rule rule = Permissions.find(address, Permissions.Kind.SEND);
      if (rule == null) {
        denied(address, replyAddress, "send to");
        return;
      }
      if (replyAddress == null) {
        error("missing_reply_address", address + " is request/reply: send it with a replyAddress");
        return;
      }
      if (replyAddress.length() > MAX_REPLY_ADDRESS) {
        error("invalid_reply_address", "a replyAddress has at most " + MAX_REPLY_ADDRESS + " characters, got "
          + replyAddress.length());
        return;
      }
      if (rule.write() && !mayWrite) {
        fail(address, replyAddress, new ServiceError(403, "origin " + Origins.shown(origin) + " may not send "
          + address + " through the event-bus bridge: writes are accepted from the service's own origin and from"
          + " http.corsWriteOrigins only", null));
        return;
      }
      if (leaving) {
        fail(address, replyAddress, new ServiceError(ServiceError.UNAVAILABLE, "unavailable: this front is shutting"
          + " down; connect again and send it again (another front serves it)", null));
        return;
      }
      if (work.size() + jobCalls >= maxInFlight) {
        fail(address, replyAddress, new ServiceError(ServiceError.UNAVAILABLE, "busy: this socket has " + maxInFlight
          + " requests in flight (sockjs.maxInFlightPerSocket); wait for their replies", null));
        return;
      }
      String clientId = msg.getValue("headers") instanceof JsonObject h
        ? RequestIds.fromClient(h.getValue(Addresses.REQUEST_ID_HEADER)) : null;
      boolean computation = BridgeCalls.cancellable(address);
      String cancelId = computation ? work.add(clientId) : null;
      if (!computation) {
        jobCalls++;
      }
      // the logs name the request by the client's id or a fresh one, never by the cancel id
      String requestId = clientId != null ? clientId : RequestIds.next();
      boolean[] answered = new boolean[1];
      Span span = BridgeCalls.span(address, msg.getValue("headers"));
      long timer = vertx.setTimer(replyTimeoutMs, t -> {
        answered[0] = true;
        ended(cancelId);
        if (cancelId != null) {
          PendingWork.cancel(vertx, cancelId);
        }
        write(BridgeCalls.traced(BridgeCalls.failure(address, replyAddress, new ServiceError(ServiceError.TIMEOUT,
          address + " did not answer within " + replyTimeoutMs + " ms (sockjs.replyTimeoutMs)", null)), span));
      });
      Scope scope = Traces.enter(span);
      calls.send(address, msg.getValue("body"), msg.getValue("headers"), requestId, cancelId).onComplete(ar -> {
        if (answered[0]) {
          return;
        }
        vertx.cancelTimer(timer);
        ended(cancelId);
        if (ar.succeeded()) {
          write(BridgeCalls.traced(new JsonObject().put("type", "rec").put("address", replyAddress)
            .put("body", ar.result()), span));
        } else {
          write(BridgeCalls.traced(BridgeCalls.failure(address, replyAddress, ar.cause()), span));
        }
      });
      Traces.exit(scope);
    }

    private void ended(String cancelId) {
      if (cancelId != null) {
        work.remove(cancelId);
      } else {
        jobCalls--;
      }
      if (leaving) {
        // after the reply, which ended() precedes: the close frame follows it on the same connection
        vertx.runOnContext(v -> closeIfIdle());
      }
    }

    /** The node leaves: no new request is taken; the socket closes once what is in flight is answered. */
    void leave() {
      leaving = true;
      closeIfIdle();
    }

    private void closeIfIdle() {
      if (!closed && work.size() + jobCalls == 0) {
        socket.close();
      }
    }

    /** {@code fib.cancel}: cancels this socket's own requests that it sent with that x-request-id, nothing else. */
    void publish(JsonObject msg) {
      String address = msg.getString("address");
      if (Permissions.find(address, Permissions.Kind.PUBLISH) == null) {
        denied(address, null, "publish to");
        return;
      }
      if (msg.getValue("body") instanceof JsonObject body && body.getValue("id") instanceof String id) {
        work.cancel(id);
      }
    }

    void register(JsonObject msg) {
      String address = msg.getString("address");
      if (Permissions.find(address, Permissions.Kind.REGISTER) == null) {
        denied(address, null, "register");
        return;
      }
      if (registrations.containsKey(address)) {
        error("address_already_registered", address + " is registered on this socket already");
        return;
      }
      if (registrations.size() >= maxHandlers) {
        error("max_handlers_reached", "this socket has " + maxHandlers + " registrations"
          + " (sockjs.maxHandlersPerSocket)");
        return;
      }
      registrations.put(address, Feeds.subscribe(vertx, feed, address, body -> push(address, body)));
    }

    void unregister(JsonObject msg) {
      String address = msg.getString("address");
      if (Permissions.find(address, Permissions.Kind.REGISTER) == null) {
        denied(address, null, "unregister");
        return;
      }
      Runnable subscription = registrations.remove(address);
      if (subscription != null) {
        subscription.run();
      }
    }

    /** A push; a client that has not taken what it was sent misses it (the next one says it all again). */
    private void push(String address, String body) {
      if (!closed && queued <= PUSH_BACKLOG_BYTES) {
        write(Buffer.buffer("{\"type\":\"rec\",\"address\":\"" + address + "\",\"body\":" + body + "}"));
      }
    }

    /**
     * A refused address. A send with a replyAddress is answered there, so that the client's callback hears it;
     * anything else gets vertx-web's own {@code access_denied} frame.
     */
    private void denied(String address, String replyAddress, String what) {
      String why = "clients may not " + what + " " + Text.abbreviate(address) + " (permitted: " + Permissions.summary()
        + ")";
      if (replyAddress != null && replyAddress.length() <= MAX_REPLY_ADDRESS) {
        fail(address, replyAddress, new ServiceError(403, "access_denied: " + why, null));
      } else {
        error("access_denied", why);
      }
    }

    private void fail(String address, String replyAddress, Throwable cause) {
      write(BridgeCalls.failure(address, replyAddress, cause));
    }

    /** vertx-web's error frame ({@code body} its word), with our words in {@code message}. */
    void error(String word, String message) {
      write(new JsonObject().put("type", "err").put("body", word).put("message", message));
    }

    private void write(JsonObject frame) {
      write(frame.toBuffer());
    }

    // --- the socket as vertx-web's bridge sees it

    @Override
    public Future<Void> write(Buffer data) {
      if (closed) {
        return Future.failedFuture("closed");
      }
      long length = data.length();
      if (queued > 0 && queued + length > maxQueued) {
        log.debug("SockJS socket from {} closed: its client has not taken {} bytes written to it"
          + " (sockjs.maxWriteQueueBytes {})", socket.remoteAddress(), queued, maxQueued);
        close();
        return Future.failedFuture("closed: its client does not read");
      }
      queued += length;
      return socket.write(data).onComplete(ar -> queued -= length);
    }

    @Override
    public SockJSSocket handler(Handler<Buffer> handler) {
      this.bridgeHandler = handler;
      return this;
    }

    @Override
    public SockJSSocket exceptionHandler(Handler<Throwable> handler) {
      // a client's transport failing is its own business: logged at DEBUG in start(), and the socket closes anyway
      return this;
    }

    @Override
    public SockJSSocket closeHandler(Handler<Void> closeHandler) {
      this.bridgeCloseHandler = closeHandler;
      return this;
    }

    @Override
    public SockJSSocket endHandler(Handler<Void> endHandler) {
      socket.endHandler(endHandler);
      return this;
    }

    @Override
    public SockJSSocket pause() {
      socket.pause();
      return this;
    }

    @Override
    public SockJSSocket resume() {
      socket.resume();
      return this;
    }

    @Override
    public SockJSSocket fetch(long amount) {
      socket.fetch(amount);
      return this;
    }

    @Override
    public SockJSSocket setWriteQueueMaxSize(int maxSize) {
      socket.setWriteQueueMaxSize(maxSize);
      return this;
    }

    @Override
    public boolean writeQueueFull() {
      return queued >= maxQueued || socket.writeQueueFull();
    }

    @Override
    public SockJSSocket drainHandler(Handler<Void> handler) {
      socket.drainHandler(handler);
      return this;
    }

    @Override
    public String writeHandlerID() {
      return socket.writeHandlerID();
    }

    @Override
    public Future<Void> end() {
      return socket.end();
    }

    @Override
    public void close() {
      socket.close();
    }

    @Override
    public void closeAfterSessionExpired() {
      if (socket instanceof SockJSSocketBase base) {
        base.closeAfterSessionExpired();
      } else {
        socket.close();
      }
    }

    @Override
    public SocketAddress remoteAddress() {
      return socket.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
      return socket.localAddress();
    }

    @Override
    public MultiMap headers() {
      return socket.headers();
    }

    @Override
    public String uri() {
      return socket.uri();
    }

    @Override
    public RoutingContext routingContext() {
      return socket.routingContext();
    }

    @Override
    public Session webSession() {
      return socket.webSession();
    }

    @Override
    public User webUser() {
      return socket.webUser();
    }
  }
}
