package dev.fibservice;

import dev.fibservice.db.DbTestNodes;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;

/**
 * A real node for a test class and a web client aimed at it: the node starts before the class's first test (and
 * before its own {@code @BeforeAll}) and stops after its last; each test gets a client on a Vert.x of its own, closed
 * after it. Register it as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final TestNode node = TestNode.withDatabase("people_api", Map.of());
 * }</pre>
 */
public final class TestNode implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  private final String database;
  private final Map<String, ?> overrides;
  private FibService service;
  private Vertx vertx;
  private WebClient client;

  private TestNode(String database, Map<String, ?> overrides) {
    this.database = database;
    this.overrides = overrides;
  }

  /** A node with the database off, the built-in defaults, free ports and these overrides. */
  public static TestNode start(Map<String, ?> overrides) {
    return new TestNode(null, overrides);
  }

  /** A node on the tests' shared MariaDB, with a database of this name, migrated before the first test. */
  public static TestNode withDatabase(String database, Map<String, ?> overrides) {
    return new TestNode(database, overrides);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    service = database == null ? TestNodes.start(overrides) : DbTestNodes.start(database, overrides);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    TestNodes.stop(service);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    vertx = Vertx.vertx();
    client = TestNodes.client(vertx, service);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    vertx.close().await();
  }

  public FibService service() {
    return service;
  }

  /** The current test's client, aimed at the node's HTTP port. */
  public WebClient client() {
    return client;
  }

  /** The Vert.x the current test's client runs on (not the node's). */
  public Vertx clientVertx() {
    return vertx;
  }

  public HttpResponse<Buffer> get(String uri) throws Exception {
    return client.get(uri).send().await();
  }

  /** A request with no body, or with this JSON body (sent as application/json). */
  public HttpResponse<Buffer> call(HttpMethod method, String uri, String body) throws Exception {
    var request = client.request(method, uri);
    return (body == null ? request.send() : request.putHeader("Content-Type", "application/json")
      .sendBuffer(Buffer.buffer(body))).await();
  }
}
