package dev.fibservice.http;

import dev.fibservice.compute.FibRequest;

import java.util.List;

/**
 * The validators of {@code /fib/n} (RFC 9110, 8.8.3) and the If-None-Match check (13.1.2). F(n) never changes, so a
 * representation's entity tag is known before anything is computed: from n, the media type and, for JSON, the algorithm
 * (the body names it; the text body is the same digits whatever the algorithm).
 *
 * <p>The text body is exactly the digits and a newline: its tag is strong. The JSON body says how long its computation
 * took and which worker did it ({@code computeMicros}, {@code worker}), which differ between computations, so two JSON
 * bodies of one n are the same value without being the same bytes: its tag is weak (RFC 9110, 8.8.1), which is what
 * If-None-Match compares anyway (weak comparison). A strong tag there would promise byte-identical bodies, which a
 * range request or a cache combining parts could rely on.
 */
final class EntityTags {

  private EntityTags() {
  }

  /** The entity tag of F(n) in this representation. */
  static String of(FibRequest request, boolean text) {
    return text ? "\"fib-" + request.n() + "\"" : "W/\"fib-" + request.n() + "-" + request.algorithm().wireName() + "\"";
  }

  /**
   * Whether If-None-Match (every line of it) matches {@code tag} by weak comparison: {@code *}, or any entity tag of
   * the list whose opaque part equals the tag's. A line that is not a valid list (RFC 9110's grammar) as a whole
   * matches nothing, so a malformed header costs a full answer, never a wrong 304.
   */
  static boolean noneMatchHits(List<String> ifNoneMatch, String tag) {
    String opaque = opaque(tag);
    for (String line : ifNoneMatch) {
      if (listHas(line, opaque)) {
        return true;
      }
    }
    return false;
  }

  /** The quoted part of a tag, weak or strong: {@code W/"x"} and {@code "x"} both give {@code "x"}. */
  private static String opaque(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }

  /** Whether one field line, {@code *} (alone) or {@code #entity-tag}, has the opaque tag, or is {@code *}. */
  private static boolean listHas(String line, String opaque) {
    boolean has = false;
    int i = 0;
    int end = line.length();
    // only SP and HTAB are whitespace here (RFC 9110's OWS): strip() took "\u000b*" for "*"
    int from = 0;
    int to = end;
    while (from < to && ows(line.charAt(from))) {
      from++;
    }
    while (to > from && ows(line.charAt(to - 1))) {
      to--;
    }
    if (to - from == 1 && line.charAt(from) == '*') {
      return true;
    }
    while (true) {
      // empty list elements and optional whitespace between them are allowed (RFC 9110, 5.6.1)
      while (i < end && (line.charAt(i) == ',' || ows(line.charAt(i)))) {
        i++;
      }
      if (i == end) {
        return has; // the whole line was a list
      }
      if (line.startsWith("W/", i)) {
        i += 2;
      }
      if (i == end || line.charAt(i) != '"') {
        return false;
      }
      int close = i + 1;
      while (close < end && etagc(line.charAt(close))) {
        close++;
      }
      if (close == end || line.charAt(close) != '"') {
        return false;
      }
      int next = close + 1;
      while (next < end && ows(line.charAt(next))) {
        next++;
      }
      if (next < end && line.charAt(next) != ',') {
        return false; // not a list: '"x"y"' is no element, and '"x", y' no list, even though "x" is in it
      }
      has |= line.regionMatches(i, opaque, 0, opaque.length()) && close + 1 - i == opaque.length();
      i = next;
    }
  }

  private static boolean ows(char c) {
    return c == ' ' || c == '\t';
  }

  /** etagc = %x21 / %x23-7E / obs-text: anything visible but the double quote. */
  private static boolean etagc(char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x7E) || (c >= 0x80 && c <= 0xFF);
  }
}
