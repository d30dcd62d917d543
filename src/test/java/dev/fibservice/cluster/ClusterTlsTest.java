package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import dev.fibservice.TestConf;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster.tls.* keys: the files checked at start, and the event-bus options they give. */
class ClusterTlsTest {

  @TempDir
  static Path dir;
  static Certs good;
  static Certs other;

  @BeforeAll
  static void makeCertificates() throws Exception {
    String why = Certs.unavailable();
    Assumptions.assumeTrue(why == null, "SKIPPED: no certificates can be made here: " + why);
    good = Certs.make(dir.resolve("good"));
    other = Certs.make(dir.resolve("other"));
  }

  private static Settings tls(Object cert, Object key, Object ca) {
    return TestConf.settings().with(Map.of("cluster.tls.cert", cert.toString(), "cluster.tls.key", key.toString(),
      "cluster.tls.ca", ca.toString()));
  }

  private static String refused(Settings settings) {
    return assertThrows(ConfigException.class, () -> ClusterTls.from(settings)).getMessage();
  }

  @Test
  void noKeysMeansClearText() {
    assertNull(ClusterTls.from(TestConf.settings()));
  }

  @Test
  void allThreeOrNone() {
    String message = refused(TestConf.settings().with(Map.of("cluster.tls.cert", good.cert().toString())));
    assertEquals("cluster.tls: set all three of cluster.tls.cert, cluster.tls.key and cluster.tls.ca, or none;"
      + " missing: cluster.tls.key, cluster.tls.ca", message);
  }

  @Test
  void aFileThatCannotBeReadIsNamed() {
    Path missing = dir.resolve("nope.pem");
    assertEquals("cluster.tls.ca: " + missing + " does not exist", refused(tls(good.cert(), good.key(), missing)));
    String message = refused(tls(good.cert(), dir, good.ca()));
    assertTrue(message.startsWith("cluster.tls.key: " + dir + " cannot be read: "), message);
  }

  @Test
  void swappedFilesAreNamed() {
    assertEquals("cluster.tls.cert: " + good.key() + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
      refused(tls(good.key(), good.key(), good.ca())));
    assertEquals("cluster.tls.key: " + good.cert() + " is not a PEM private key",
      refused(tls(good.cert(), good.cert(), good.ca())));
  }

  @Test
  void aCertificateFromAnotherCaStopsStartUp() {
    String message = refused(tls(other.cert(), other.key(), good.ca()));
    assertTrue(message.startsWith("cluster.tls.cert: " + other.cert() + " (CN=fib-service member 127.0.0.1, issued by"),
      message);
    assertTrue(message.endsWith("is not signed by the CA in cluster.tls.ca (" + good.ca()
      + "); the other members would refuse it"), message);
  }

  @Test
  void theKeyOfAnotherCertificateStopsStartUp() {
    assertEquals("cluster.tls.key: " + other.key() + " is not the key of the certificate in cluster.tls.cert ("
      + good.cert() + ")", refused(tls(good.cert(), other.key(), good.ca())));
  }

  @Test
  void theEventBusGetsMutualTlsTrustingTheCaOnly() throws Exception {
    // Vert.x's own default: the event bus client trusts every server certificate
    assertTrue(new EventBusOptions().isTrustAll());
    EventBusOptions bus = new EventBusOptions();
    ClusterTls tls = ClusterTls.from(tls(good.cert(), good.key(), good.ca()));
    assertNotNull(tls);
    tls.apply(bus);
    assertTrue(bus.isSsl());
    assertFalse(bus.isTrustAll());
    assertEquals(ClientAuth.REQUIRED, bus.getClientAuth());
    PemKeyCertOptions keyCert = assertInstanceOf(PemKeyCertOptions.class, bus.getKeyCertOptions());
    assertArrayEquals(Files.readAllBytes(good.cert()), keyCert.getCertValues().get(0).getBytes());
    PemTrustOptions trust = assertInstanceOf(PemTrustOptions.class, bus.getTrustOptions());
    assertArrayEquals(Files.readAllBytes(good.ca()), trust.getCertValues().get(0).getBytes());
    // the clustered event bus builds its client and server from this JSON (ClusteredEventBus, Vert.x 5.0.10)
    NetClientOptions client = new NetClientOptions(bus.toJson()).setHostnameVerificationAlgorithm("");
    assertTrue(client.isSsl());
    assertFalse(client.isTrustAll(), "the event-bus client must not trust every server");
    assertInstanceOf(PemTrustOptions.class, client.getTrustOptions());
    NetServerOptions server = new NetServerOptions(bus.toJson());
    assertEquals(ClientAuth.REQUIRED, server.getClientAuth());
    assertInstanceOf(PemTrustOptions.class, server.getTrustOptions());
  }

  @Test
  void memberCertificatesCarryTheirAddressAndTheCaIsKept() throws Exception {
    Path certs = dir.resolve("hosts");
    Map<String, Certs> made = Certs.make(certs, "198.18.0.1", "198.18.0.2");
    byte[] ca = Files.readAllBytes(certs.resolve("ca.pem"));
    Certs.make(certs, "198.18.0.3");
    assertArrayEquals(ca, Files.readAllBytes(certs.resolve("ca.pem")), "a second run keeps the CA");
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
      .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(made.get("198.18.0.2").cert())));
    assertEquals(List.of(List.of(7, "198.18.0.2")), List.copyOf(cert.getSubjectAlternativeNames()), "one IP SAN");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made.get("198.18.0.2").key())));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("ca-key.pem"))));
    assertNotNull(ClusterTls.from(tls(made.get("198.18.0.1").cert(), made.get("198.18.0.1").key(), certs.resolve("ca.pem"))));
    assertNotNull(ClusterTls.from(tls(certs.resolve("member-198.18.0.3.pem"), certs.resolve("member-198.18.0.3-key.pem"),
      certs.resolve("ca.pem"))));
  }

  @Test
  void hazelcastListensOnTheClusterHostOnly() {
    Config fromFile = Clustering.hazelcastConfig(TestConf.settings());
    assertEquals("false", fromFile.getProperty("hazelcast.socket.bind.any"));
    assertEquals("false", Clustering.builtIn().getProperty("hazelcast.socket.bind.any"));
    // auto: the event bus binds where Hazelcast does (the cluster file's interface)
    assertEquals("127.0.0.1", Clustering.busHost(TestConf.settings(), fromFile));
    Settings host = TestConf.settings().with(Map.of("cluster.host", "198.18.0.7"));
    Config config = Clustering.hazelcastConfig(host);
    assertEquals(List.of("198.18.0.7"), List.copyOf(config.getNetworkConfig().getInterfaces().getInterfaces()));
    assertEquals("198.18.0.7", Clustering.busHost(host, config));
    assertEquals("false", config.getProperty("hazelcast.socket.bind.any"));
  }
}
