package dev.fibservice.cluster;

import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Event-bus TLS with mutual authentication from the cluster.tls.* keys: this member's PEM certificate and
 * key, and the one CA whose certificates it accepts, on both the event-bus server and its client. The files
 * are read and checked at start, so a wrong file stops start-up with its name instead of failing every
 * handshake later.
 */
public final class ClusterTls {

  private static final Pattern PKCS8 = Pattern.compile(
    "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private final Buffer cert;
  private final Buffer key;
  private final Buffer ca;
  private final X509Certificate member;
  private final X509Certificate authority;

  private ClusterTls(Buffer cert, Buffer key, Buffer ca, X509Certificate member, X509Certificate authority) {
    this.cert = cert;
    this.key = key;
    this.ca = ca;
    this.member = member;
    this.authority = authority;
  }

  /** The TLS set-up the settings ask for, or null when all three keys are empty (clear text). */
  public static ClusterTls from(Settings settings) {
    List<Key> keys = List.of(Settings.CLUSTER_TLS_CERT, Settings.CLUSTER_TLS_KEY, Settings.CLUSTER_TLS_CA);
    List<String> missing = new ArrayList<>();
    for (Key k : keys) {
      if (settings.getString(k).isBlank()) {
        missing.add(k.name());
      }
    }
    if (missing.size() == keys.size()) {
      return null;
    }
    if (!missing.isEmpty()) {
      throw new ConfigException("cluster.tls: set all three of cluster.tls.cert, cluster.tls.key and cluster.tls.ca, or"
        + " none; missing: " + String.join(", ", missing));
    }
    Buffer cert = read(Settings.CLUSTER_TLS_CERT, settings);
    Buffer key = read(Settings.CLUSTER_TLS_KEY, settings);
    Buffer ca = read(Settings.CLUSTER_TLS_CA, settings);
    X509Certificate member = certificates(Settings.CLUSTER_TLS_CERT, settings, cert).get(0);
    List<X509Certificate> cas = certificates(Settings.CLUSTER_TLS_CA, settings, ca);
    String certFile = settings.getString(Settings.CLUSTER_TLS_CERT);
    try {
      member.checkValidity();
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      throw new ConfigException("cluster.tls.cert: " + certFile + " is not valid now (valid from "
        + member.getNotBefore().toInstant() + " to " + member.getNotAfter().toInstant() + ")");
    }
    X509Certificate authority = null;
    for (X509Certificate c : cas) {
      try {
        member.verify(c.getPublicKey());
        authority = c;
        break;
      } catch (GeneralSecurityException e) {
        // not this one
      }
    }
    if (authority == null) {
      throw new ConfigException("cluster.tls.cert: " + certFile + " (" + member.getSubjectX500Principal().getName()
        + ", issued by " + member.getIssuerX500Principal().getName() + ") is not signed by the CA in cluster.tls.ca ("
        + settings.getString(Settings.CLUSTER_TLS_CA) + "); the other members would refuse it");
    }
    checkKeyMatches(settings, key, member);
    return new ClusterTls(cert, key, ca, member, authority);
  }

  /**
   * TLS on the event bus, both ways: members present their certificate and accept only the CA's. Vert.x's
   * EventBusOptions trust every server certificate unless told otherwise (trustAll defaults to true), so a
   * rogue server with any certificate would receive this member's messages: trustAll is turned off. The
   * clustered event bus also turns hostname verification off, so the CA is the only check either way.
   */
  public void apply(EventBusOptions bus) {
    bus.setSsl(true)
      .setTrustAll(false)
      .setClientAuth(ClientAuth.REQUIRED)
      .setKeyCertOptions(new PemKeyCertOptions().setCertValue(cert).setKeyValue(key))
      .setTrustOptions(new PemTrustOptions().addCertValue(ca));
  }

  /** For the start-up log: who this member is and whom it trusts (no secret in it). */
  public String describe() {
    return "mutual TLS, this member " + member.getSubjectX500Principal().getName() + " (valid until "
      + member.getNotAfter().toInstant() + "), trusting only " + authority.getSubjectX500Principal().getName();
  }

  private static Buffer read(Key key, Settings settings) {
    String file = settings.getString(key);
    try {
      return Buffer.buffer(Files.readAllBytes(Path.of(file)));
    } catch (NoSuchFileException e) {
      throw new ConfigException(key.name() + ": " + file + " does not exist");
    } catch (IOException | SecurityException e) {
      throw new ConfigException(key.name() + ": " + file + " cannot be read: " + e);
    }
  }

  private static List<X509Certificate> certificates(Key key, Settings settings, Buffer pem) {
    if (!pem.toString(StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigException(key.name() + ": " + settings.getString(key) + " holds no PEM certificate"
        + " (-----BEGIN CERTIFICATE-----)");
    }
    List<X509Certificate> list = new ArrayList<>();
    try {
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes()))) {
        list.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new ConfigException(key.name() + ": " + settings.getString(key) + " is not a PEM certificate: " + e.getMessage());
    }
    return list;
  }

  /**
   * A key that does not belong to the certificate would fail every handshake with an obscure alert: check it
   * here. PKCS#8 keys (what openssl 3 writes) are checked by signing; Vert.x checks the other PEM forms itself.
   */
  private static void checkKeyMatches(Settings settings, Buffer key, X509Certificate member) {
    String file = settings.getString(Settings.CLUSTER_TLS_KEY);
    String text = key.toString(StandardCharsets.US_ASCII);
    if (text.contains("ENCRYPTED PRIVATE KEY")) {
      throw new ConfigException("cluster.tls.key: " + file + " is encrypted; the event bus needs an unencrypted PEM key"
        + " (keep it readable by this member only)");
    }
    if (!text.contains("PRIVATE KEY-----")) {
      throw new ConfigException("cluster.tls.key: " + file + " is not a PEM private key");
    }
    Matcher m = PKCS8.matcher(text);
    if (!m.find()) {
      return;
    }
    try {
      String algorithm = member.getPublicKey().getAlgorithm();
      PrivateKey privateKey = KeyFactory.getInstance(algorithm)
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1))));
      String signing = "EC".equals(algorithm) ? "SHA256withECDSA" : "RSA".equals(algorithm) ? "SHA256withRSA" : null;
      if (signing == null) {
        return;
      }
      byte[] probe = "fib-service cluster key check".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(signing);
      sign.initSign(privateKey);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(signing);
      verify.initVerify(member.getPublicKey());
      verify.update(probe);
      if (!verify.verify(signature)) {
        throw new ConfigException("cluster.tls.key: " + file + " is not the key of the certificate in cluster.tls.cert ("
          + settings.getString(Settings.CLUSTER_TLS_CERT) + ")");
      }
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new ConfigException("cluster.tls.key: " + file + " is not the key of the certificate in cluster.tls.cert ("
        + settings.getString(Settings.CLUSTER_TLS_CERT) + "): " + e.getMessage());
    }
  }
}
