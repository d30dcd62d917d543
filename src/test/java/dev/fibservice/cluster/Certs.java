package dev.fibservice.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A CA and member certificates made by src/main/scripts/cluster-certs.sh (what `make cluster-certs` runs), for tests. */
record Certs(Path dir, Path ca, Path cert, Path key) {

  /** Why certificates cannot be made here, or null when openssl is installed. */
  static String unavailable() {
    try {
      Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "openssl does not run";
    } catch (IOException | InterruptedException e) {
      return "openssl is not installed (apt-get install -y openssl)";
    }
  }

  /** A new CA in dir (or the one already there) and a member certificate for 127.0.0.1. */
  static Certs make(Path dir) throws IOException, InterruptedException {
    return make(dir, "127.0.0.1").get("127.0.0.1");
  }

  /** The CA in dir and one member certificate per address (its IP SAN). */
  static Map<String, Certs> make(Path dir, String... addresses) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("sh", Path.of("src", "main", "scripts", "cluster-certs.sh").toString(), dir.toString()));
    command.addAll(List.of(addresses));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("src/main/scripts/cluster-certs.sh failed:\n" + out);
    }
    Map<String, Certs> made = new java.util.LinkedHashMap<>();
    for (String a : addresses) {
      made.put(a, new Certs(dir, dir.resolve("ca.pem"), dir.resolve("member-" + a + ".pem"),
        dir.resolve("member-" + a + "-key.pem")));
    }
    return made;
  }

  /** The cluster.tls.* flags of a member using these files. */
  List<String> flags() {
    return List.of("--set", "cluster.tls.cert=" + cert, "--set", "cluster.tls.key=" + key, "--set", "cluster.tls.ca=" + ca);
  }
}
