package dev.fibservice.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * This build's release (the pom's version, which Maven writes into {@code dev/fibservice/version.properties}) and the
 * order of releases: {@code 0.2.0 < 0.10.0}, a pre-release ({@code 0.3.0-SNAPSHOT}) before its release.
 */
public final class Version {

  private static final String CURRENT = load();

  private Version() {
  }

  /** This build's release, e.g. {@code 0.2.0}; "dev" when the classes were compiled without Maven's resources. */
  public static String current() {
    return CURRENT;
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("/dev/fibservice/version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version", "");
        if (isRelease(v.replaceFirst("-.*", ""))) {
          return v;
        }
      }
    } catch (IOException e) {
      // said as "dev" below
    }
    return "dev";
  }

  /** Whether the text is a release number: MAJOR.MINOR.PATCH, digits only. */
  public static boolean isRelease(String text) {
    return text != null && text.matches("\\d{1,6}\\.\\d{1,6}\\.\\d{1,6}");
  }

  /**
   * Orders two versions (releases, or releases with a {@code -suffix}): negative when {@code a} comes first. A version
   * with a suffix comes before its release; "dev" comes after every release.
   */
  public static int compare(String a, String b) {
    if (a.equals(b)) {
      return 0;
    }
    if ("dev".equals(a) || "dev".equals(b)) {
      return "dev".equals(a) ? 1 : -1;
    }
    String[] x = a.replaceFirst("-.*", "").split("\\.");
    String[] y = b.replaceFirst("-.*", "").split("\\.");
    for (int i = 0; i < 3; i++) {
      int c = Integer.compare(Integer.parseInt(x[i]), Integer.parseInt(y[i]));
      if (c != 0) {
        return c;
      }
    }
    return Boolean.compare(!a.contains("-"), !b.contains("-"));
  }
}
