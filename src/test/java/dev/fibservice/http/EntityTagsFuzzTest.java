package dev.fibservice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.math.Algorithm;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzzes the If-None-Match check of {@code /fib/n} ({@link EntityTags#noneMatchHits}) against a model written from RFC
 * 9110's grammar with regular expressions: a field line is {@code *} alone (with optional whitespace, SP or HTAB) or a
 * list of entity tags, and it hits when {@code *} or when a tag of the list has the opaque part of F(n)'s tag (weak
 * comparison). A line that is not a list as a whole never hits (docs/http-api.md): a wrong 304 would hand a client a
 * body it never had. The input is a first line {@code text N} or {@code json N ALGORITHM} (the representation asked
 * for), then the field lines of If-None-Match, one per line, read as ISO-8859-1 as the server reads them.
 */
class EntityTagsFuzzTest {

  private static final FibRequest.Limits LIMITS = new FibRequest.Limits(45, 200_000, 10_000_000);
  /** The next element of the list and what may follow it: optional whitespace, then a comma or the end. */
  private static final Pattern ELEMENT =
    Pattern.compile("\\G[ \\t,]*(?:W/)?(\"[\\x21\\x23-\\x7E\\x80-\\xFF]*\")[ \\t]*(?=,|$)");

  @FuzzTest
  @DictionaryFile(resourcePath = "EntityTagsFuzzTest.dict")
  void ifNoneMatch(byte[] input) {
    String text = new String(input, StandardCharsets.ISO_8859_1);
    List<String> lines = Arrays.asList(text.split("\n", -1));
    String[] ask = lines.get(0).split(" ", -1);
    if (ask.length < 2 || !List.of("text", "json").contains(ask[0])) {
      return;
    }
    FibRequest request;
    try {
      request = FibRequest.parse(ask[1], ask.length > 2 ? ask[2] : null, LIMITS);
    } catch (RuntimeException e) {
      return; // a request FibRequestFuzzTest covers: it never reaches the check
    }
    boolean isText = ask[0].equals("text");
    String tag = EntityTags.of(request, isText);
    List<String> ifNoneMatch = lines.subList(1, lines.size());
    String opaque = "\"fib-" + request.n() + (isText ? "" : "-" + request.algorithm().wireName()) + "\"";
    assertEquals(ifNoneMatch.stream().anyMatch(line -> hits(line, opaque)), EntityTags.noneMatchHits(ifNoneMatch, tag),
      () -> "If-None-Match " + ifNoneMatch + " against " + tag);
  }

  /** The model: {@code *}, or a list (elements, then only empty ones) with the opaque tag among its elements. */
  private static boolean hits(String line, String opaque) {
    if (line.matches("[ \\t]*\\*[ \\t]*")) {
      return true;
    }
    Matcher m = ELEMENT.matcher(line);
    boolean has = false;
    int end = 0;
    while (m.find()) {
      has |= m.group(1).equals(opaque);
      end = m.end();
    }
    return has && line.substring(end).matches("[ \\t,]*");
  }

  /** The tags the model builds are those of the service (the same opaque parts, weak for JSON). */
  @org.junit.jupiter.api.Test
  void modelsTagsAreTheServicesTags() {
    assertEquals("\"fib-7\"", EntityTags.of(new FibRequest(7, Algorithm.DOUBLING), true));
    assertEquals("W/\"fib-7-iterative\"", EntityTags.of(new FibRequest(7, Algorithm.ITERATIVE), false));
  }
}
