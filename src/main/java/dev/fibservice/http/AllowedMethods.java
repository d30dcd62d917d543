package dev.fibservice.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The methods a path answers, read from the router's own routes: the {@code Allow} header of a 405 and of a plain
 * {@code OPTIONS}. vertx-web computes the same set for its default 405 but keeps it internal.
 */
final class AllowedMethods {

  /** Route metadata holding the regex of a route made with {@code routeWithRegex} (whose pattern vertx-web hides). */
  static final String PATTERN = "fib.allow.pattern";

  private static final List<HttpMethod> ORDER = List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST,
    HttpMethod.PUT, HttpMethod.DELETE);

  private AllowedMethods() {
  }

  /** Every route that answers GET answers HEAD too (RFC 9110 9.3.2); vertx-web's {@code router.get} does not. */
  static void headWhereGet(Router router) {
    for (Route route : router.getRoutes()) {
      Set<HttpMethod> methods = route.methods();
      if (methods != null && methods.contains(HttpMethod.GET) && !methods.contains(HttpMethod.HEAD)) {
        route.method(HttpMethod.HEAD);
      }
    }
  }

  /** The methods of the routes whose path matches, in a fixed order; empty when no route has this path. */
  static Set<HttpMethod> of(Router router, String path) {
    Set<HttpMethod> found = new LinkedHashSet<>();
    for (Route route : router.getRoutes()) {
      if (route.methods() != null && !route.methods().isEmpty() && matches(route, path)) {
        found.addAll(route.methods());
      }
    }
    Set<HttpMethod> ordered = new LinkedHashSet<>();
    for (HttpMethod method : ORDER) {
      if (found.contains(method)) {
        ordered.add(method);
      }
    }
    ordered.addAll(found);
    return ordered;
  }

  /** The Allow header for those methods: OPTIONS is answered on every known path. */
  static String header(Set<HttpMethod> methods) {
    List<String> names = new ArrayList<>();
    methods.forEach(m -> names.add(m.name()));
    if (!methods.contains(HttpMethod.OPTIONS)) {
      names.add(HttpMethod.OPTIONS.name());
    }
    return String.join(", ", names);
  }

  private static boolean matches(Route route, String path) {
    String template = route.getPath();
    if (template == null) {
      return route.getMetadata(PATTERN) instanceof String regex && Pattern.matches(regex, path);
    }
    if (!route.isExactPath()) {
      // "/images/*" is kept as the prefix "/images/", which also matches "/images"
      return path.startsWith(template) || path.equals(template.substring(0, Math.max(1, template.length() - 1)));
    }
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    String[] want = template.split("/", -1);
    String[] have = path.split("/", -1);
    if (want.length != have.length) {
      return false;
    }
    for (int i = 0; i < want.length; i++) {
      if (want[i].startsWith(":") ? have[i].isEmpty() : !want[i].equals(have[i])) {
        return false;
      }
    }
    return true;
  }
}
