package dev.fibservice;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NOTICE cannot go stale: it names every artifact group the build ships, read from what `mvn package` made, the fat
 * jar's META-INF/maven entries (the libraries shaded in, and those they carry relocated) and each jar of target/lib/
 * (by its group, or by its name where it has no pom.properties), and every vendored file of the page. LICENSE is the
 * Apache License 2.0 that examples/node's package.json declares.
 */
class NoticeIT {

  private static final Path LIB = Path.of("target", "lib");
  /** First package segments that are top-level domains: such a package is named by its first two segments. */
  private static final Set<String> DOMAINS = Set.of("io", "com", "org", "net", "ch", "me", "dev", "info");
  private static final Path VENDOR = Path.of("src", "main", "resources", "webroot", "ui", "vendor");

  @Test
  void noticeNamesEveryGroupInTheFatJar() throws Exception {
    String notice = Files.readString(Path.of("NOTICE"));
    Set<String> groups = groups(ServiceProcess.jar());
    groups.remove("dev.fibservice");
    assertTrue(groups.contains("io.vertx") && groups.contains("io.netty"), "read the jar's groups: " + groups);
    for (String group : groups) {
      assertTrue(notice.contains(group), "NOTICE does not name " + group + ", shipped in the fat jar");
    }
  }

  /**
   * Not every library carries Maven metadata (OpenTelemetry, Micrometer, picocli do not): the packages of the classes
   * shipped are named too: io.opentelemetry, org.hdrhistogram, zipkin2, picocli, ...
   */
  @Test
  void noticeNamesEveryPackageInTheFatJar() throws Exception {
    String notice = Files.readString(Path.of("NOTICE")).toLowerCase(java.util.Locale.ROOT);
    Set<String> packages = new TreeSet<>();
    try (ZipFile zip = new ZipFile(ServiceProcess.jar().toFile())) {
      zip.stream().map(ZipEntry::getName).filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/"))
        .map(n -> n.split("/")).filter(parts -> parts.length > 1)
        // a reversed domain (io.opentelemetry) by two segments, a bare root (zipkin2, picocli) by one
        .forEach(parts -> packages.add((parts.length > 2 && DOMAINS.contains(parts[0]) ? parts[0] + "." + parts[1]
          : parts[0]).toLowerCase(java.util.Locale.ROOT)));
    }
    packages.remove("dev.fibservice");
    assertTrue(packages.contains("io.opentelemetry") && packages.contains("picocli"), "read the jar's packages: "
      + packages);
    for (String pkg : packages) {
      assertTrue(notice.contains(pkg), "NOTICE does not name the package " + pkg + ", shipped in the fat jar");
    }
  }

  @Test
  void noticeNamesEveryJarBesideIt() throws Exception {
    String notice = Files.readString(Path.of("NOTICE"));
    try (Stream<Path> jars = Files.list(LIB)) {
      for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).toList()) {
        Set<String> groups = groups(jar);
        // a jar without Maven metadata (Spring's) is named by its artifact: the file name without its version
        String name = jar.getFileName().toString().replaceFirst("-\\d[^-]*\\.jar$", "");
        assertTrue(groups.isEmpty() ? notice.contains(name) : groups.stream().allMatch(notice::contains),
          "NOTICE does not name " + (groups.isEmpty() ? name : groups) + " of target/lib/" + jar.getFileName());
      }
    }
    assertTrue(notice.contains("GNU General Public License, version 2"), "MariaDB's binaries are GPL-2.0");
  }

  @Test
  void noticeNamesEveryVendoredFile() throws Exception {
    String notice = Files.readString(Path.of("NOTICE"));
    try (Stream<Path> files = Files.list(VENDOR)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.endsWith(".LICENSE")) {
          assertTrue(notice.contains(name), "NOTICE does not name the licence file " + name);
        } else {
          assertTrue(notice.contains("- " + name + ":"), "NOTICE has no entry for the vendored " + name);
        }
      }
    }
  }

  @Test
  void theLicenseIsApache2AsTheNodeExampleDeclares() throws Exception {
    String license = Files.readString(Path.of("LICENSE"));
    assertTrue(license.strip().startsWith("Apache License\n                           Version 2.0, January 2004"),
      license.substring(0, 200));
    assertTrue(license.contains("END OF TERMS AND CONDITIONS") && license.contains("APPENDIX"), "the full text");
    assertTrue(Files.readString(Path.of("examples", "node", "package.json")).contains("\"license\": \"Apache-2.0\""));
  }

  /** The groups of the META-INF/maven/GROUP/ARTIFACT/pom.properties entries of a jar. */
  private static Set<String> groups(Path jar) throws IOException {
    Set<String> groups = new TreeSet<>();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      zip.stream().map(ZipEntry::getName).filter(n -> n.startsWith("META-INF/maven/") && n.endsWith("/pom.properties"))
        .forEach(n -> groups.add(n.split("/")[2]));
    }
    return groups;
  }
}
