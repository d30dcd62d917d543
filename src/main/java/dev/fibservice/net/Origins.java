package dev.fibservice.net;

import dev.fibservice.config.Settings;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which web pages may call the service, the same rule for HTTP and the SockJS bridge: any origin of
 * {@code http.corsOrigin} may read, and writes come only from the service's own origin or one of
 * {@code http.corsWriteOrigins}. A request without an {@code Origin} header is no browser's cross-origin call.
 */
public final class Origins {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final boolean anyReader;
  private final Set<String> readers;
  private final boolean anyWriter;
  private final Set<String> writers;

  public Origins(Settings settings) {
    this.readers = parse(settings.getString(Settings.HTTP_CORS_ORIGIN));
    this.writers = parse(settings.getString(Settings.HTTP_CORS_WRITE_ORIGINS));
    this.anyReader = readers.contains("*");
    this.anyWriter = writers.contains("*");
  }

  /** Whether every origin may read ({@code http.corsOrigin} is {@code *}). */
  public boolean anyReader() {
    return anyReader;
  }

  /** Whether a page of {@code origin} may read, when the request named {@code host} in its Host header. */
  public boolean mayRead(String origin, String host) {
    return anyReader || readers.contains(normal(origin)) || mayWrite(origin, host);
  }

  /** Whether a page of {@code origin} may write (a POST, PUT, DELETE; a bridge's {@code jobs.submit}). */
  public boolean mayWrite(String origin, String host) {
    return anyWriter || writers.contains(normal(origin)) || own(origin, host);
  }

  /**
   * The service's own page: the Origin is this request's own scheme and Host, and that Host names the service by IP
   * address or as localhost. A DNS name could be an attacker's, rebound to this address (DNS rebinding): such a name
   * is the service's own only when listed in http.corsWriteOrigins.
   */
  public static boolean own(String origin, String host) {
    if (host == null || host.isEmpty()) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    String o = normal(origin);
    if (!o.equals("http://" + h) && !o.equals("https://" + h)) {
      return false;
    }
    String name = h.startsWith("[") ? h.substring(0, Math.max(1, h.indexOf(']') + 1))
      : h.contains(":") ? h.substring(0, h.lastIndexOf(':')) : h;
    return name.equals("localhost") || name.startsWith("[") || IPV4.matcher(name).matches();
  }

  /** An origin as errors quote it: at most 100 characters. */
  public static String shown(String origin) {
    return origin.length() <= 100 ? origin : origin.substring(0, 97) + "...";
  }

  private static Set<String> parse(String list) {
    return Arrays.stream(list.split(",")).map(Origins::normal).filter(s -> !s.isEmpty())
      .collect(Collectors.toUnmodifiableSet());
  }

  /** Origins compare without case and without a trailing slash (https://a.example/ is https://a.example). */
  private static String normal(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }
}
