package dev.fibservice;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * examples/kubernetes/ cannot run here: what can be checked without a cluster is checked. The YAML parses; the
 * Deployments' environment names only real keys with accepted values (Settings loads it), their ports and probes are
 * the ones those keys open, the files the keys name are where the Secret and the ConfigMap are mounted, termination
 * waits out the grace period; and the Hazelcast configuration they select loads with Hazelcast's own builder and
 * joins through the headless Service's DNS name. {@link KubernetesIT} then starts the real jar with that environment.
 */
class KubernetesManifestTest {

  static final Path DIR = Path.of("examples", "kubernetes");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  // ---- reading the manifests (also used by KubernetesIT) ------------------------------------------------------------

  /** Every document of fib-service.yaml, in order. */
  static List<Map<String, Object>> documents() throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(DIR.resolve("fib-service.yaml"))) {
      for (Object doc : yaml().loadAll(r)) {
        docs.add(map(doc));
      }
    }
    return docs;
  }

  static Yaml yaml() {
    return new Yaml(new SafeConstructor(new LoaderOptions()));
  }

  /** The Deployment whose container sets FIB_CLUSTER_ROLE to role. */
  static Map<String, Object> deployment(List<Map<String, Object>> docs, String role) {
    List<Map<String, Object>> found = docs.stream().filter(d -> "Deployment".equals(d.get("kind")))
      .filter(d -> role.equals(envValues(container(d)).get("FIB_CLUSTER_ROLE"))).toList();
    assertEquals(1, found.size(), "one Deployment of role " + role);
    return found.get(0);
  }

  static Map<String, Object> container(Map<String, Object> deployment) {
    List<Object> containers = list(at(deployment, "spec", "template", "spec", "containers"));
    assertEquals(1, containers.size(), "one container per pod");
    return map(containers.get(0));
  }

  /** The container's env entries with a literal value, as written (references like $(POD_IP) unresolved). */
  static Map<String, String> envValues(Map<String, Object> container) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container.get("env"))) {
      Map<String, Object> entry = map(e);
      if (entry.get("value") != null) {
        env.put((String) entry.get("name"), String.valueOf(entry.get("value")));
      }
    }
    return env;
  }

  /**
   * The environment the pod would get, $(NAME) references resolved as Kubernetes does (earlier entries only);
   * {@code fields} gives the downward API's values (status.podIP, metadata.name), a Secret's value is "secret".
   */
  static Map<String, String> resolvedEnv(Map<String, Object> container, Map<String, String> fields) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Object e : list(container.get("env"))) {
      Map<String, Object> entry = map(e);
      String name = (String) entry.get("name");
      String value;
      if (entry.get("valueFrom") != null) {
        Map<String, Object> from = map(entry.get("valueFrom"));
        if (from.get("fieldRef") != null) {
          String field = (String) map(from.get("fieldRef")).get("fieldPath");
          value = fields.get(field);
          assertNotNull(value, name + ": no sample value for the downward API field " + field);
        } else {
          assertNotNull(from.get("secretKeyRef"), name + ": valueFrom is a fieldRef or a secretKeyRef");
          value = "secret";
        }
      } else {
        value = String.valueOf(entry.get("value"));
        Matcher m = REFERENCE.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
          assertTrue(env.containsKey(m.group(1)), name + " refers to $(" + m.group(1) + "), which is not defined before it"
            + " (Kubernetes would pass the text through)");
          m.appendReplacement(sb, Matcher.quoteReplacement(env.get(m.group(1))));
        }
        m.appendTail(sb);
        value = sb.toString();
      }
      env.put(name, value);
    }
    return env;
  }

  /** Container port number by name. */
  static Map<String, Integer> ports(Map<String, Object> container) {
    Map<String, Integer> ports = new HashMap<>();
    for (Object p : list(container.get("ports"))) {
      Map<String, Object> port = map(p);
      ports.put((String) port.get("name"), (Integer) port.get("containerPort"));
    }
    return ports;
  }

  /** Mount path by volume name, and the volume definitions by name. */
  static Map<String, String> mounts(Map<String, Object> container) {
    Map<String, String> mounts = new HashMap<>();
    for (Object m : list(container.get("volumeMounts"))) {
      mounts.put((String) map(m).get("name"), (String) map(m).get("mountPath"));
    }
    return mounts;
  }

  static Map<String, Map<String, Object>> volumes(Map<String, Object> deployment) {
    Map<String, Map<String, Object>> volumes = new HashMap<>();
    for (Object v : list(at(deployment, "spec", "template", "spec", "volumes"))) {
      volumes.put((String) map(v).get("name"), map(v));
    }
    return volumes;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a mapping, got " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    assertTrue(o instanceof List, "expected a list, got " + o);
    return (List<Object>) o;
  }

  static Object at(Map<String, Object> root, String... path) {
    Object o = root;
    for (String p : path) {
      o = map(o).get(p);
      assertNotNull(o, "no " + String.join(".", path) + " (stops at " + p + ")");
    }
    return o;
  }

  private static Settings settings(Map<String, String> env) {
    return Settings.load(null, false, env, Map.of());
  }

  private static final Map<String, String> FIELDS = Map.of("status.podIP", "10.1.2.3", "metadata.name", "fib-pod-1",
    "metadata.namespace", "default");

  // ---- checks -----------------------------------------------------------------------------------------------------

  @Test
  void theDeploymentsSetOnlyRealKeysWithAcceptedValues() throws Exception {
    Set<String> known = Settings.KEYS.stream().map(Key::envName).collect(Collectors.toSet());
    for (String role : List.of("http", "worker")) {
      Map<String, Object> c = container(deployment(documents(), role));
      Map<String, String> env = resolvedEnv(c, FIELDS);
      for (String name : env.keySet()) {
        if (name.startsWith("FIB_")) {
          assertTrue(known.contains(name), role + ": " + name + " is no config key's variable");
        }
      }
      Settings s = settings(env); // throws, naming the key, on a value the service would refuse
      assertTrue(s.getBoolean(Settings.CLUSTER_ENABLED), role);
      assertEquals(role, s.getString(Settings.CLUSTER_ROLE));
      assertEquals("10.1.2.3", s.getString(Settings.CLUSTER_HOST), role + ": cluster.host is the pod's IP");
      assertEquals("0.0.0.0", s.getString(Settings.HOST), role + ": probes and Services reach the pod's IP");
      assertNotEquals("embedded", s.getString(Settings.MYSQL_HOST), role + ": the embedded MariaDB is for one host");
      assertNotEquals("auto", s.getString(Settings.CLUSTER_NAME), role + ": a cluster name of its own");
      assertTrue(s.getBoolean(Settings.OPS_ENABLED), role + ": the probes' port");
    }
  }

  @Test
  void portsAndProbesAreTheOnesTheKeysOpen() throws Exception {
    Config hazelcast = new XmlConfigBuilder(DIR.resolve("cluster-kubernetes.xml").toString()).build();
    for (String role : List.of("http", "worker")) {
      Map<String, Object> c = container(deployment(documents(), role));
      Settings s = settings(resolvedEnv(c, FIELDS));
      Map<String, Integer> ports = ports(c);
      assertEquals(s.getInt(Settings.OPS_PORT), ports.get("ops"), role + ": ops");
      assertEquals(s.getInt(Settings.CLUSTER_HAZELCAST_PORT), ports.get("hazelcast"), role + ": hazelcast");
      assertEquals(hazelcast.getNetworkConfig().getPort(), ports.get("hazelcast"), role + ": as in cluster-kubernetes.xml");
      assertEquals(s.getInt(Settings.CLUSTER_PORT), ports.get("eventbus"), role + ": eventbus");
      assertNotEquals(0, s.getInt(Settings.CLUSTER_PORT), role + ": a fixed event-bus port, for network policies");
      if (role.equals("http")) {
        assertEquals(s.getInt(Settings.HTTP_PORT), ports.get("http"));
        assertEquals(s.getInt(Settings.TCP_PORT), ports.get("tcp"));
      } else {
        assertFalse(ports.containsKey("http"), "a worker member has no HTTP port");
      }
      Map<String, String> probes = Map.of("readinessProbe", "/health/ready", "livenessProbe", "/health/live",
        "startupProbe", "/health/live");
      probes.forEach((probe, path) -> {
        Map<String, Object> get = map(at(c, probe, "httpGet"));
        assertEquals(path, get.get("path"), role + ": " + probe);
        assertTrue(ports.containsKey(String.valueOf(get.get("port"))), role + ": " + probe + " on a named container port");
        assertEquals(s.getInt(Settings.OPS_PORT), ports.get(String.valueOf(get.get("port"))), role + ": " + probe);
      });
      Map<String, Object> resources = map(c.get("resources"));
      for (String kind : List.of("requests", "limits")) {
        for (String what : List.of("cpu", "memory")) {
          assertNotNull(map(resources.get(kind)).get(what), role + ": resources." + kind + "." + what);
        }
      }
    }
  }

  @Test
  void terminationWaitsOutTheGracePeriodAndRollsOneAtATime() throws Exception {
    for (String role : List.of("http", "worker")) {
      Map<String, Object> d = deployment(documents(), role);
      Map<String, Object> c = container(d);
      Settings s = settings(resolvedEnv(c, FIELDS));
      List<Object> preStop = list(at(c, "lifecycle", "preStop", "exec", "command"));
      assertEquals("sleep", preStop.get(0));
      int sleep = Integer.parseInt(String.valueOf(preStop.get(1)));
      int period = (Integer) at(d, "spec", "template", "spec", "terminationGracePeriodSeconds");
      // after the preStop sleep, SIGTERM: the grace period, the servers' close (2 s more) and the drain's own
      // bound (5 s more) before Vert.x and Hazelcast close
      int needed = sleep + (int) Math.ceil((s.getInt(Settings.SHUTDOWN_GRACE_MS) + 2000 + 5000) / 1000.0);
      assertTrue(period >= needed, role + ": terminationGracePeriodSeconds " + period + " < " + needed);
      assertTrue(period <= needed + 30, role + ": terminationGracePeriodSeconds " + period + " far above " + needed);
      assertEquals(1, at(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"), role);
      Map<String, Object> labels = map(at(d, "spec", "template", "metadata", "labels"));
      assertTrue(labels.entrySet().containsAll(map(at(d, "spec", "selector", "matchLabels")).entrySet()), role);
    }
    List<Map<String, Object>> budgets = documents().stream().filter(d -> "PodDisruptionBudget".equals(d.get("kind")))
      .toList();
    assertEquals(2, budgets.size());
    for (Map<String, Object> b : budgets) {
      assertEquals(1, at(b, "spec", "maxUnavailable"));
    }
  }

  @Test
  void theKeysNameTheFilesTheSecretAndTheConfigMapMount() throws Exception {
    Map<String, Object> kustomization = map(yaml().load(Files.readString(DIR.resolve("kustomization.yaml"))));
    assertEquals(List.of("fib-service.yaml"), kustomization.get("resources"));
    Map<String, Object> generator = map(list(kustomization.get("configMapGenerator")).get(0));
    for (String role : List.of("http", "worker")) {
      Map<String, Object> d = deployment(documents(), role);
      Map<String, Object> c = container(d);
      Settings s = settings(resolvedEnv(c, FIELDS));
      Map<String, String> mounts = mounts(c);
      Map<String, Map<String, Object>> volumes = volumes(d);
      for (Key key : List.of(Settings.CLUSTER_TLS_CERT, Settings.CLUSTER_TLS_KEY, Settings.CLUSTER_TLS_CA)) {
        Path file = Path.of(s.getString(key));
        String volume = volumeAt(mounts, file.getParent());
        Map<String, Object> secret = map(volumes.get(volume).get("secret"));
        assertEquals("fib-service-cluster-tls", secret.get("secretName"), role + ": " + key.name());
        assertTrue(list(secret.get("items")).stream().anyMatch(i -> file.getFileName().toString().equals(map(i).get("path"))),
          role + ": " + key.name() + " is no item of the Secret");
        assertEquals(0440, secret.get("defaultMode"), role + ": keys readable by the pod's group only");
      }
      Path config = Path.of(s.getString(Settings.CLUSTER_CONFIG));
      String volume = volumeAt(mounts, config.getParent());
      assertEquals(generator.get("name"), map(volumes.get(volume).get("configMap")).get("name"), role);
      assertTrue(list(generator.get("files")).contains(config.getFileName().toString()), role);
      assertTrue(Files.isRegularFile(DIR.resolve(config.getFileName())), role);
      // readOnlyRootFilesystem: the page files and the JVM's own go to /tmp
      assertEquals(true, at(c, "securityContext", "readOnlyRootFilesystem"));
      assertTrue(volumes.get(volumeAt(mounts, Path.of("/tmp"))).containsKey("emptyDir"), role);
    }
  }

  private static String volumeAt(Map<String, String> mounts, Path dir) {
    return mounts.entrySet().stream().filter(e -> Path.of(e.getValue()).equals(dir)).map(Map.Entry::getKey)
      .findFirst().orElseThrow(() -> new AssertionError("nothing is mounted at " + dir));
  }

  @Test
  void servicesSelectTheirPods() throws Exception {
    List<Map<String, Object>> docs = documents();
    Map<String, Object> headless = docs.stream().filter(d -> "Service".equals(d.get("kind"))
      && "None".equals(map(d.get("spec")).get("clusterIP"))).findFirst().orElseThrow();
    assertEquals(true, at(headless, "spec", "publishNotReadyAddresses"), "members find each other before ready");
    Map<String, Object> http = docs.stream().filter(d -> "Service".equals(d.get("kind")) && d != headless).findFirst()
      .orElseThrow();
    Map<String, Object> frontLabels = map(at(deployment(docs, "http"), "spec", "template", "metadata", "labels"));
    Map<String, Object> workerLabels = map(at(deployment(docs, "worker"), "spec", "template", "metadata", "labels"));
    Map<String, Object> all = map(at(headless, "spec", "selector"));
    assertTrue(frontLabels.entrySet().containsAll(all.entrySet()) && workerLabels.entrySet().containsAll(all.entrySet()),
      "the headless Service selects every member");
    Map<String, Object> fronts = map(at(http, "spec", "selector"));
    assertTrue(frontLabels.entrySet().containsAll(fronts.entrySet()));
    assertFalse(workerLabels.entrySet().containsAll(fronts.entrySet()), "the HTTP Service selects the fronts only");
    Map<String, Integer> frontPorts = ports(container(deployment(docs, "http")));
    for (Object p : list(at(http, "spec", "ports"))) {
      assertTrue(frontPorts.containsKey(String.valueOf(map(p).get("targetPort"))), "targetPort " + map(p).get("targetPort"));
    }
    Map<String, Object> hz = map(list(at(headless, "spec", "ports")).get(0));
    assertEquals("hazelcast", hz.get("targetPort"));

    // the name Hazelcast looks up is that Service's
    KubernetesConfig k8s = new XmlConfigBuilder(DIR.resolve("cluster-kubernetes.xml").toString()).build()
      .getNetworkConfig().getJoin().getKubernetesConfig();
    assertEquals(at(headless, "metadata", "name"), k8s.getProperty("service-dns"));
    assertEquals(String.valueOf(hz.get("port")), k8s.getProperty("service-port"));
  }

  @Test
  void hazelcastConfigurationJoinsByKubernetesDnsAndOtherwiseIsConfClusterXml() throws Exception {
    Config k8s = new XmlConfigBuilder(DIR.resolve("cluster-kubernetes.xml").toString()).build();
    JoinConfig join = k8s.getNetworkConfig().getJoin();
    assertTrue(join.getKubernetesConfig().isEnabled());
    assertEquals("fib-service-hazelcast", join.getKubernetesConfig().getProperty("service-dns"),
      "DNS mode: no Kubernetes API access needed");
    assertFalse(join.getTcpIpConfig().isEnabled());
    assertFalse(join.getMulticastConfig().isEnabled());
    assertFalse(join.getAutoDetectionConfig().isEnabled());
    assertFalse(k8s.getNetworkConfig().isPortAutoIncrement(), "every pod has the port to itself");
    // a discovery join asks DNS only while this wait lasts (DiscoveryJoiner): at 0 it never does
    assertTrue(Integer.parseInt(k8s.getProperty("hazelcast.wait.seconds.before.join")) > 0,
      "hazelcast.wait.seconds.before.join must be above 0 for a discovery join");
    // everything else but the join is conf/cluster.xml as it ships (the tests' copy: ClusteringTest keeps it equal to
    // the built-in configuration; conf/ itself is the user's to tune)
    Config base = new XmlConfigBuilder(TestConf.CLUSTER_XML.toString()).build();
    base.setProperty("hazelcast.wait.seconds.before.join", k8s.getProperty("hazelcast.wait.seconds.before.join"));
    assertEquals(base.getProperties(), k8s.getProperties(), "properties drifted from conf/cluster.xml as it ships");
    assertEquals(base.getClusterName(), k8s.getClusterName());
    assertEquals(base.getMultiMapConfigs().keySet(), k8s.getMultiMapConfigs().keySet());
    base.getMultiMapConfigs().forEach((name, m) -> assertEquals(m, k8s.getMultiMapConfig(name), name));
    assertEquals(base.getMapConfigs().keySet(), k8s.getMapConfigs().keySet());
    base.getMapConfigs().forEach((name, m) -> assertEquals(m, k8s.getMapConfig(name), name));
    assertEquals(base.getNetworkConfig().getPort(), k8s.getNetworkConfig().getPort());
  }
}
