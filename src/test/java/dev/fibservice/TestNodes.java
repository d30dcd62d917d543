package dev.fibservice;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.HashMap;
import java.util.Map;

/** Starts real nodes for tests: the tests' configuration ({@link TestConf}), free ports, and the given overrides. */
public final class TestNodes {

  private TestNodes() {
  }

  public static FibService start(Map<String, ?> overrides) throws Exception {
    Map<String, Object> all = new HashMap<>();
    all.put("http.port", "0");
    all.put("tcp.port", "0");
    all.put("node.name", "test");
    // no database unless a test asks for one (see DbTestNodes)
    all.put("mysql.host", "off");
    all.putAll(overrides);
    return FibService.start(TestConf.settings().with(all)).await();
  }

  /** A web client on its own Vert.x instance, aimed at the node's HTTP port. */
  public static WebClient client(Vertx vertx, FibService service) {
    return WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(service.httpPort()));
  }

  public static void stop(FibService service) throws Exception {
    if (service != null) {
      service.stop();
    }
  }
}
