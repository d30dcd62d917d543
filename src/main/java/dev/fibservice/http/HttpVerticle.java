package dev.fibservice.http;

import dev.fibservice.api.CancelIds;
import dev.fibservice.api.RequestIds;
import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.compute.ComputeClient;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.compute.Reply;
import dev.fibservice.config.Settings;
import dev.fibservice.db.Database;
import dev.fibservice.db.PeopleStore;
import dev.fibservice.db.Sql;
import dev.fibservice.jobs.Jobs;
import dev.fibservice.net.PendingWork;
import dev.fibservice.net.ServerVerticle;
import dev.fibservice.net.Wire;
import dev.fibservice.ops.Traces;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.PlatformHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PreparedQuery;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.channels.FileChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Parses, routes and replies; never computes and never blocks. One instance per event loop, all on
 * one port. Fibonacci requests go to the workers over the event bus.
 */
public final class HttpVerticle extends ServerVerticle {

  static final CharSequence TEXT_HTML = HttpHeaders.createOptimized("text/html; charset=utf-8");
  static final CharSequence TEXT_PLAIN = HttpHeaders.createOptimized("text/plain; charset=utf-8");
  static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("X-Request-Id");
  static final CharSequence TRACEPARENT = HttpHeaders.createOptimized(Traces.TRACEPARENT);
  /** The request header /fib's body depends on (JSON or text), as Vary names it. */
  static final CharSequence ACCEPT = HttpHeaders.createOptimized("Accept");
  /** F(n) of a URL never changes: any cache may keep a /fib answer for good (a year, the customary longest). */
  static final CharSequence IMMUTABLE = HttpHeaders.createOptimized("public, max-age=31536000, immutable");

  /** Routing-context key of the request id. */
  static final String REQUEST_ID = "requestId";
  /** The path of /hello, and its route label in metrics whether answered on the fast path or by the router. */
  private static final String HELLO = "/hello";
  private static final String REPEAT = "repeat=";
  /** The live page: GET / is webroot/index.html, its assets are under /ui/. */
  private static final String PAGE = "^/(ui/.+)?$";
  private static final Logger ACCESS = LoggerFactory.getLogger("dev.fibservice.access");

  private final HttpNode node;
  private final int port;
  private final String name;
  private Connections connections;
  private HttpMetrics metrics;
  /** The timer of the /hello fast path's GETs, looked up once (null with the metrics off). */
  private Timer helloTimer;
  /** The request the router is handling right now, while it runs (for admit(); one event loop, no race). */
  private HttpMetrics.Routed routing;
  private HelloPages pages;
  private PageFiles files;
  private FibRequest.Limits limits;
  private int maxRepeat;
  private boolean accessLog;
  /** Whether this node traces (tracing.exporter): every response then names its trace. */
  private boolean tracing;
  private PreparedQuery<RowSet<Row>> selectOne;
  private ComputeClient fib;

  /**
   * @param port the port to listen on (0 picks one; the first instance's choice is then given to the others)
   * @param name this instance's name in logs and responses, e.g. {@code http-1}
   */
  public HttpVerticle(HttpNode node, int port, String name) {
    super(node.settings());
    this.node = node;
    this.port = port;
    this.name = name;
  }

  @Override
  public Future<?> start() {
    Settings settings = node.settings();
    HttpCounters counters = node.counters();
    maxRepeat = settings.getInt(Settings.HTTP_MAX_REPEAT);
    pages = HelloPages.atLeast(maxRepeat);
    files = new PageFiles(vertx, settings.getInt(Settings.HTTP_PAGE_FILE_CACHE_MB), counters.pageFiles());
    limits = FibRequest.Limits.from(settings);
    fib = ComputeClient.create(vertx, settings, node.cluster(), node.stats(), node.results());
    connections = new Connections(vertx, counters.connections(), settings.getInt(Settings.HTTP_HEADER_TIMEOUT_MS));
    metrics = HttpMetrics.create(node.metrics(), counters.requestsInProgress(), connections::open);
    helloTimer = metrics.timer(HELLO, HttpMethod.GET, 200);
    accessLog = settings.getBoolean(Settings.HTTP_ACCESS_LOG);
    tracing = Traces.enabled(vertx);
    Router router = router(settings);
    ServedBy served = new ServedBy(node.stats(), name);
    HttpServerOptions options = serverOptions(settings);
    return listen(vertx.createHttpServer(options)
      .invalidRequestHandler(request -> Errors.invalidRequest(request, settings))
      .connectionHandler(connection -> {
        // half-closes and HTTP/1.1 framing checks; set up before the connection's first read
        Wire.guardHttp(connection, options);
        connections.opened(connection);
      })
      .requestHandler(request -> route(request, router, served)));
  }

  /** Every route, in the order that matters: admission and the origin rule first, the page last, errors in words. */
  private Router router(Settings settings) {
    Router router = Router.router(vertx);
    // catch-all routes first: one after a path route would turn that path's 405 into a 404
    router.route().handler(this::admit);
    eventBusBridge(router, settings);
    // which pages of other origins may call the API (fetch), and OPTIONS; a route without a path adds nothing
    // to the metrics' route label
    router.route().handler(new OriginPolicy(router, settings));
    router.get("/hello").handler(this::hello);
    router.get("/fib/:n").produces("application/json").produces("text/plain").handler(this::fib);
    router.get("/info").handler(this::info);
    new StatsRoutes(name, node.live()).mount(router);
    databaseRoutes(router, settings);
    staticFiles(router);
    AllowedMethods.headWhereGet(router);
    Errors.install(router, settings, connections);
    return router;
  }

  /**
   * The SockJS event-bus bridge at sockjs.path, ahead of the origin rule: SockJS answers its own CORS, and the bridge
   * applies the origin rule to what its frames ask (a SockJS send is a POST from any page; writes are refused inside).
   * Its POST bodies (the XHR transport's frames) get the body limit and deadline of every POST.
   */
  private void eventBusBridge(Router router, Settings settings) {
    if (node.eventBus() == null) {
      return;
    }
    String mount = settings.getString(Settings.SOCKJS_PATH) + "/*";
    // the mount below has a failure handler: matching it decodes the path, which for one that is not valid
    // percent-encoding would turn admit()'s 400 in words into the router's bare one; answered here first
    router.route().failureHandler(ctx -> {
      if (ctx.failure() instanceof ServiceError e && HttpRules.badUri(ctx) != null) {
        Errors.send(ctx, e);
      } else {
        ctx.next();
      }
    });
    router.post(mount).setName(mount).handler(HttpRules.bodyTimeout(settings.getInt(Settings.HTTP_BODY_TIMEOUT_MS)))
      .handler(BodyHandler.create(false).setBodyLimit(settings.getInt(Settings.HTTP_MAX_BODY)));
    router.route(mount).setName(mount).subRouter(node.eventBus().apply(vertx));
  }

  /**
   * The JSON bodies' rules, /metrics and /health, then /db, /people and /jobs on the node's shared pool; with the
   * database off those answer 503 and why.
   */
  private void databaseRoutes(Router router, Settings settings) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(settings.getInt(Settings.HTTP_MAX_BODY));
    PlatformHandler bodyTimeout = HttpRules.bodyTimeout(settings.getInt(Settings.HTTP_BODY_TIMEOUT_MS));
    for (Route route : new Route[] {router.post("/people"), router.put("/people/:name"), router.post("/jobs")}) {
      route.handler(HttpRules.REQUIRE_JSON).handler(bodyTimeout).handler(body);
    }
    Database database = node.database();
    Pool pool = database.enabled() ? database.pool(vertx) : null;
    OpsRoutes.mount(vertx, router, node.metrics(), node.readiness());
    if (database.enabled()) {
      selectOne = pool.preparedQuery(Sql.SELECT_ONE);
      router.get("/db").handler(this::db);
      new PeopleRoutes(database, new PeopleStore(pool, database)).mount(router);
      new JobRoutes(new Jobs(vertx, pool, database, settings)).mount(router);
    } else {
      router.routeWithRegex("^/(db|people|jobs)(/.*)?$").handler(ctx -> ctx.fail(database.check()));
    }
  }

  /** The people's pictures, and the live page (mounted last), GET and HEAD only. */
  private static void staticFiles(Router router) {
    router.route("/images/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(HttpRules.HEAD_CONTENT_TYPE)
      .handler(StaticHandler.create("images")
      .setCachingEnabled(true).setMaxAgeSeconds(86400).setDirectoryListing(false).setIncludeHidden(false));
    router.routeWithRegex(PAGE).method(HttpMethod.GET).method(HttpMethod.HEAD).putMetadata(AllowedMethods.PATTERN, PAGE)
      .handler(HttpRules.HEAD_CONTENT_TYPE)
      .handler(StaticHandler.create("webroot").setMaxAgeSeconds(300).setDirectoryListing(false).setIncludeHidden(false)
        .setDefaultContentEncoding(HttpRules.UTF_8));
  }

  private HttpServerOptions serverOptions(Settings settings) {
    return new HttpServerOptions()
      .setHost(settings.getString(Settings.HOST))
      .setPort(port)
      // HTTP/1.1 only: no h2c upgrade dance for clients that offer it, one connection model to drain
      .setHttp2ClearTextEnabled(false)
      .setMaxInitialLineLength(settings.getInt(Settings.HTTP_MAX_URI))
      .setMaxHeaderSize(settings.getInt(Settings.HTTP_MAX_HEADERS))
      .setIdleTimeout(settings.getInt(Settings.HTTP_IDLE_SECONDS))
      .setIdleTimeoutUnit(TimeUnit.SECONDS);
  }

  @Override
  protected void stopped() {
    files.close();
  }

  /**
   * The hot path of the classic benchmark: a plain {@code GET /hello} or {@code /hello?repeat=N} is answered
   * here, before the router, with the pre-built page: the router's matching, its context and a request id would
   * cost more than the small page itself (`make bench` measures it). It keeps the connection limits and the
   * metrics, and echoes an X-Request-Id the client sent; it generates none (nothing is logged for it). All else,
   * a bad {@code repeat} included, goes to the router.
   */
  private void route(HttpServerRequest request, Router router, ServedBy served) {
    int repeat;
    served.count();
    if (node.drain().draining()) {
      // the node leaves: clients learn this response is the connection's last; once the server shuts down (the next
      // step of the stop) Vert.x closes each connection as its response in flight is sent, idle ones at once
      request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    HttpMethod method = request.method();
    if (!accessLog && (method == HttpMethod.GET || method == HttpMethod.HEAD) && HELLO.equals(request.path())
      && (repeat = fastRepeat(request.query())) > 0 && connections.requestStarted(request)) {
      long start = System.nanoTime();
      HttpServerResponse response = request.response();
      String id = request.getHeader(X_REQUEST_ID);
      if (id != null) {
        response.putHeader(X_REQUEST_ID, id);
      }
      if (tracing) {
        traceparent(response);
      }
      sendPage(request, repeat);
      connections.requestEnded(request);
      if (method == HttpMethod.GET) {
        HttpMetrics.record(helloTimer, start);
      } else {
        metrics.record(HELLO, method, 200, start);
      }
      return;
    }
    served.name(request.response());
    if (metrics.enabled()) {
      // admit(), the router's first handler, runs within handle() and takes it from here
      routing = new HttpMetrics.Routed(request);
      try {
        router.handle(routing);
      } finally {
        routing = null;
      }
    } else {
      router.handle(request);
    }
  }

  /** The repeat of a /hello query the fast path serves: 1 for none, N for exactly {@code repeat=N} in range, else 0. */
  private int fastRepeat(String query) {
    if (query == null) {
      return 1;
    }
    int digits = query.length() - REPEAT.length();
    if (digits < 1 || digits > 9 || !query.startsWith(REPEAT)) {
      return 0;
    }
    int value = 0;
    for (int i = REPEAT.length(); i < query.length(); i++) {
      char c = query.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      value = value * 10 + (c - '0');
    }
    return value <= maxRepeat ? value : 0;
  }

  /**
   * First for every request: refuses it (503, connection closed) when the node has too many
   * connections, else gives it a request id (the client's X-Request-Id, or a new one), echoed in the
   * response and present in the logs of this request (MDC); times it for the metrics and the access log.
   */
  private void admit(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    HttpMetrics.Routed routed = routing;
    long start = System.nanoTime();
    metrics.started();
    Span span = tracing ? traced(ctx, routed) : null;
    if (request.method() == HttpMethod.HEAD) {
      ctx.addHeadersEndHandler(v -> HttpRules.headContentLength(ctx.response()));
    }
    if (!connections.requestStarted(request)) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
      ctx.addEndHandler(ar -> {
        metrics.ended(HttpMetrics.UNMATCHED, request.method(), ctx.response().getStatusCode(), start);
        request.connection().close();
      });
      Errors.send(ctx, new ServiceError(ServiceError.UNAVAILABLE, "too many connections ("
        + node.settings().getInt(Settings.HTTP_MAX_CONNECTIONS) + ", http.maxConnections); retry shortly", null));
      return;
    }
    String id = requestId(ctx);
    ctx.put(REQUEST_ID, id);
    ctx.response().putHeader(X_REQUEST_ID, id);
    boolean[] ended = new boolean[1];
    Runnable end = () -> {
      if (ended[0]) {
        return;
      }
      ended[0] = true;
      connections.requestEnded(request);
      metrics.ended(routed == null ? HttpMetrics.UNMATCHED : routed.route(), request.method(),
        ctx.response().getStatusCode(), start);
      if (accessLog) {
        MDC.put("requestId", id);
        // the request's span has ended with its response: entered again, the line still names it
        Scope scope = Traces.enter(span);
        ACCESS.info("{} {} {} {} bytes {} us", request.method(), request.uri(), ctx.response().getStatusCode(),
          ctx.response().bytesWritten(), (System.nanoTime() - start) / 1000);
        Traces.exit(scope);
        MDC.remove("requestId");
      }
    };
    ctx.addEndHandler(ar -> end.run());
    if (request.canUpgradeToWebSocket()) {
      // an upgraded request (the SockJS bridge's WebSocket) ends when its connection closes: nothing else tells
      connections.whenClosed(request.connection(), end);
    }
    ServiceError badUri = HttpRules.badUri(ctx);
    if (badUri != null) {
      ctx.fail(badUri);
      return;
    }
    ctx.next();
  }

  /**
   * The response names its trace; the request's span is named after its route once it is known. Returns that span
   * (null when the request is not traced).
   */
  private static Span traced(RoutingContext ctx, HttpMetrics.Routed routed) {
    traceparent(ctx.response());
    Span span = Traces.current();
    if (span != null && routed != null) {
      ctx.addHeadersEndHandler(v -> {
        String route = routed.route();
        span.updateName(ctx.request().method().name() + " " + route);
        span.setAttribute("http.route", route);
      });
    }
    return span;
  }

  /** The traceparent header of the request's span: the trace id a caller can report, and its parent to continue. */
  static void traceparent(HttpServerResponse response) {
    String traceparent = Traces.currentTraceparent();
    if (traceparent != null) {
      response.putHeader(TRACEPARENT, traceparent);
    }
  }

  private void hello(RoutingContext ctx) {
    int repeat = 1;
    String raw = ctx.request().getParam("repeat");
    if (raw != null) {
      repeat = parseRepeat(raw);
    }
    sendPage(ctx.request(), repeat);
  }

  /** A /hello page: the large ones from their file with sendfile once it is made, the others from memory. */
  private void sendPage(HttpServerRequest request, int repeat) {
    HttpServerResponse response = request.response().putHeader(HttpHeaders.CONTENT_TYPE, TEXT_HTML);
    if (request.method() == HttpMethod.HEAD) {
      response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(HelloPages.length(repeat))).end();
      return;
    }
    FileChannel file = files.file(repeat);
    if (file != null) {
      Corked.sendFile(request, file, HelloPages.length(repeat));
    } else if (repeat == 1) {
      response.putHeader(HttpHeaders.CONTENT_LENGTH, HelloPages.SINGLE_LENGTH).end(pages.page(1));
    } else {
      response.end(pages.page(repeat));
    }
  }

  private int parseRepeat(String raw) {
    if (raw.matches("\\d{1,9}")) {
      int value = Integer.parseInt(raw);
      if (value >= 1 && value <= maxRepeat) {
        return value;
      }
    }
    throw ServiceError.badRequest("repeat must be a whole number from 1 to " + maxRepeat + " (http.maxRepeat), got '"
        + Text.abbreviate(raw) + "'",
      new JsonObject().put("param", "repeat").put("min", 1).put("max", maxRepeat));
  }

  /**
   * {@code GET /fib/n} (and HEAD): its entity tag is known up front (F(n) never changes), so a matching If-None-Match is
   * answered 304 at once, computing nothing; else the reply, from the node's result cache without a copy of the digits
   * when it is there. Every 200 and 304 may be kept by any cache for good (immutable).
   */
  private void fib(RoutingContext ctx) {
    long start = System.nanoTime();
    MultiMap query = ctx.queryParams();
    FibRequest request = FibRequest.parse(ctx.pathParam("n"), query.get("algorithm"), limits);
    boolean text = "text/plain".equals(ctx.getAcceptableContentType());
    HttpServerResponse response = ctx.response();
    String tag = EntityTags.of(request, text);
    List<String> ifNoneMatch = ctx.request().headers().getAll(HttpHeaders.IF_NONE_MATCH);
    if (!ifNoneMatch.isEmpty() && EntityTags.noneMatchHits(ifNoneMatch, tag)) {
      validators(response, tag).setStatusCode(304).end();
      metrics.fib(request.light(), 304, start);
      return;
    }
    boolean head = ctx.request().method() == HttpMethod.HEAD;
    String id = ctx.get(REQUEST_ID);
    // the client's X-Request-Id names the request in the logs; only this id, made here, can cancel it
    String cancelId = CancelIds.next();
    response.closeHandler(v -> {
      if (!response.ended()) {
        // the connection really closed (a half-close does not): stop burning CPU for it
        PendingWork.cancel(vertx, cancelId);
      }
    });
    fib.reply(request, id, cancelId)
      .onComplete(ar -> {
        if (ar.failed()) {
          ServiceError error = ServiceError.from(ar.cause());
          metrics.fib(request.light(), error.status(), start);
          if (!response.closed()) {
            ctx.fail(error);
          }
          return;
        }
        Reply reply = ar.result();
        if (response.closed()) {
          reply.release();
          return;
        }
        // counted while the request's span is current: the histogram's exemplar is its trace
        metrics.fib(request.light(), 200, start);
        Span span = Traces.start("fib.reply");
        Future<Void> written = send(validators(response, tag), reply, text, head);
        if (span != null) {
          span.setAttribute("fib.reply.bytes", response.bytesWritten());
          written.onComplete(v -> span.end());
        }
      });
  }

  /**
   * A /fib 200: the reply's body, or for HEAD its length alone. A cached body is a view of the cache's memory: its
   * reference is given up once the socket has taken it.
   */
  static Future<Void> send(HttpServerResponse response, Reply reply, boolean text, boolean head) {
    response.putHeader(HttpHeaders.CONTENT_TYPE, text ? TEXT_PLAIN : APPLICATION_JSON);
    if (head) {
      response.putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(reply.length(text)));
      reply.release();
      return response.end();
    }
    Future<Void> written;
    try {
      written = response.end(reply.body(text));
    } catch (RuntimeException e) {
      reply.release();
      throw e;
    }
    return written.onComplete(v -> reply.release());
  }

  /** The headers of a /fib 200 and 304 (RFC 9111 and 9110, 15.4.5: a 304 carries those its 200 would). */
  private static HttpServerResponse validators(HttpServerResponse response, String tag) {
    response.putHeader(HttpHeaders.ETAG, tag).putHeader(HttpHeaders.CACHE_CONTROL, IMMUTABLE);
    response.headers().add(HttpHeaders.VARY, ACCEPT);
    return response;
  }

  /** The classic per-request database round trip: one prepared SELECT 1 on the shared pool. */
  private void db(RoutingContext ctx) {
    ServiceError down = node.database().check();
    if (down != null) {
      ctx.fail(down);
      return;
    }
    node.database().bounded(selectOne.execute()).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(Database.failure(ar.cause()));
        return;
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .end(new JsonObject().put("value", ar.result().iterator().next().getInteger(0)).toBuffer());
    });
  }

  private void info(RoutingContext ctx) {
    JsonObject info = node.info().get().put("servedBy", name);
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON).end(info.toBuffer());
  }

  private static String requestId(RoutingContext ctx) {
    String id = RequestIds.fromClient(ctx.request().getHeader(X_REQUEST_ID));
    return id != null ? id : RequestIds.next();
  }
}
