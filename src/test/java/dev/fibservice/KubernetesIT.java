package dev.fibservice;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real jar started with the environment of examples/kubernetes/base/fib-service.yaml's Deployments, as a pod
 * would get it (the pod's IP is 127.0.0.1 here, the Secret and ConfigMap files are local copies; ports and the cluster
 * name are the only overrides): a worker and a front find each other through Hazelcast's Kubernetes DNS discovery of
 * cluster-kubernetes.xml alone (TCP-IP and multicast are off), talk over mutual TLS, and become ready on their probes'
 * port without a database, as `kubectl apply -k examples/kubernetes/` deploys them.
 */
class KubernetesIT {

  private final List<ServiceProcess> started = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void stop() {
    started.forEach(ServiceProcess::close);
  }

  @Test
  void membersStartedWithTheManifestsEnvironmentJoinByDnsAndServe() throws Exception {
    Path certs = certs();
    List<Map<String, Object>> docs = KubernetesManifestTest.documents();
    String cluster = "k8s-it-" + System.nanoTime();
    int workerHazelcast = freePort();
    ServiceProcess worker = start("worker", docs, certs, cluster, workerHazelcast, workerHazelcast);
    ServiceProcess front = start("http", docs, certs, cluster, freePort(), workerHazelcast);

    // the front's member list has the worker: nothing but the Kubernetes discovery could have found it
    JsonObject info = Eventually.poll(Duration.ofSeconds(60),
      () -> new JsonObject(get(front.httpPort(), "/info").body()), i -> {
        JsonArray members = i.getJsonObject("cluster").getJsonArray("members");
        return members.size() == 2
          && members.stream().anyMatch(m -> Boolean.TRUE.equals(((JsonObject) m).getValue("reachable")));
      });
    assertEquals(2, info.getJsonObject("cluster").getJsonArray("members").size(), info.encode());

    HttpResponse<String> fib = get(front.httpPort(), "/fib/30");
    assertEquals(200, fib.statusCode(), fib.body());
    JsonObject body = new JsonObject(fib.body());
    assertEquals("832040", body.getString("value"));
    assertTrue(body.getString("worker").startsWith(worker.nodeName() + "/"), body.encode());
    assertTrue(worker.nodeName().startsWith("fib-worker-pod"), "node.name is the pod's name: " + worker.nodeName());

    for (ServiceProcess member : List.of(worker, front)) {
      int ops = member.ports().getInteger("ops", -1);
      assertTrue(ops > 0, "no ops port in " + member.ports().encode());
      assertEquals(200, get(ops, "/health/live").statusCode());
      // a worker is ready once fib.compute answers it: within seconds of its start
      HttpResponse<String> ready = Eventually.poll(Duration.ofSeconds(30), () -> get(ops, "/health/ready"),
        r -> r.statusCode() == 200);
      assertEquals(200, ready.statusCode(), ready.body());
      // no database configured: nothing for the roll-out to wait for
      assertEquals(List.of(), new JsonObject(ready.body()).getJsonArray("checks").stream()
        .map(c -> ((JsonObject) c).getString("id")).filter("database"::equals).toList(), ready.body());
      assertTrue(get(ops, "/metrics").body().contains("jvm_memory_used_bytes"));
    }
    assertTrue(worker.log().contains("event bus with mutual TLS"), "event-bus TLS from the Secret's files");
  }

  /** Starts one role with its Deployment's environment; only what cannot be the same on one host is changed. */
  private ServiceProcess start(String role, List<Map<String, Object>> docs, Path certs, String cluster,
                               int hazelcastPort, int seedPort) throws Exception {
    Map<String, Object> container = KubernetesManifestTest.container(KubernetesManifestTest.deployment(docs, role));
    Map<String, String> env = KubernetesManifestTest.resolvedEnv(container, Map.of("status.podIP", "127.0.0.1",
      "metadata.name", "fib-" + role + "-pod-" + System.nanoTime() % 100000, "metadata.namespace", "default"));
    Map<String, String> mounts = KubernetesManifestTest.mounts(container);
    Path configDir = Path.of(mounts.get("hazelcast"));
    Path tlsDir = Path.of(mounts.get("tls"));
    for (Map.Entry<String, String> e : env.entrySet()) {
      Path p = e.getValue().startsWith("/") ? Path.of(e.getValue()) : null;
      if (p != null && p.startsWith(tlsDir)) {
        e.setValue(certs.resolve(tlsDir.relativize(p)).toString());
      } else if (p != null && p.startsWith(configDir)) {
        e.setValue(KubernetesManifestTest.BASE.resolve(configDir.relativize(p)).toAbsolutePath().toString());
      }
    }
    // the database stays as the manifest has it: none (examples/kubernetes/ without with-mysql/)
    env.putAll(Map.of("FIB_HOST", "127.0.0.1", "FIB_OPS_PORT", "0", "FIB_CLUSTER_PORT", "0",
      "FIB_CLUSTER_HAZELCAST_PORT", Integer.toString(hazelcastPort), "FIB_CLUSTER_NAME", cluster,
      // what the headless Service's name resolves to in a cluster: here the first member only
      "HAZELCAST_KUBERNETES_SERVICE_DNS", "127.0.0.1",
      "HAZELCAST_KUBERNETES_SERVICE_PORT", Integer.toString(seedPort)));
    if (env.containsKey("FIB_HTTP_PORT")) {
      env.put("FIB_HTTP_PORT", "0");
      env.put("FIB_TCP_PORT", "0");
    }
    ServiceProcess p = ServiceProcess.start("k8s-" + role, env);
    started.add(p);
    return p.awaitReady();
  }

  /** The Secret's three files, as the kubectl command of examples/kubernetes/ makes it from `make cluster-certs`' output. */
  private static Path certs() throws Exception {
    Process version;
    try {
      version = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      version.getInputStream().readAllBytes();
    } catch (IOException e) {
      version = null;
    }
    Assumptions.assumeTrue(version != null && version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0,
      "SKIPPED: KubernetesIT makes its certificates with openssl, which is not installed");
    Path made = Path.of("target", "k8s-it-certs");
    Process p = new ProcessBuilder("sh", "src/main/scripts/cluster-certs.sh", made.toString(), "127.0.0.1")
      .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
    Path secret = Files.createDirectories(made.resolve("secret"));
    Files.copy(made.resolve("ca.pem"), secret.resolve("ca.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(made.resolve("member-127.0.0.1.pem"), secret.resolve("member.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(made.resolve("member-127.0.0.1-key.pem"), secret.resolve("member-key.pem"),
      StandardCopyOption.REPLACE_EXISTING);
    return secret.toAbsolutePath();
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
      .timeout(Duration.ofSeconds(40)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    return FreePorts.outsideEphemeralRange();
  }
}
