package dev.fibservice.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.api.ServiceError;
import dev.fibservice.compute.FibRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.RFC3986;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Fuzzes what the people and jobs routes make of the bytes a client sends them: the JSON bodies of POST/PUT /people and
 * POST /jobs, and a person's name in the path (percent-decoded by the router, then by the route where that went
 * wrong). Only the documented answer comes out: a value within the rules, or a 400 with its JSON detail; never another
 * exception. A name is the path segment's bytes, percent-decoded, read as UTF-8, or refused: never text the client did
 * not send.
 */
class BodiesFuzzTest {

  private static final FibRequest.Limits LIMITS = new FibRequest.Limits(45, 200_000, 10_000_000);

  @FuzzTest
  @DictionaryFile(resourcePath = "BodiesFuzzTest-peopleBody.dict")
  void peopleBody(byte[] input) {
    String pathName = input.length > 0 && input[0] == '/' ? "Ada" : null; // a PUT to /people/Ada
    JsonObject person = documented(() -> PeopleRoutes.validPerson(PeopleRoutes.body(
      input.length == 0 ? null : Buffer.buffer(input)), pathName));
    if (person == null) {
      return;
    }
    String name = person.getString("name");
    assertTrue(!name.isBlank() && name.codePointCount(0, name.length()) <= 100, name);
    int age = person.getInteger("age");
    assertTrue(age >= 0 && age <= 150, person.encode());
    assertTrue(person.getValue("career") instanceof String, person.encode());
    // what is stored is valid Unicode: each string is the same once written as UTF-8 (the database's encoding) and read
    person.forEach(field -> {
      if (field.getValue() instanceof String v) {
        assertEquals(v, new String(v.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8), field.getKey());
      }
    });
    assertEquals(person, PeopleRoutes.body(person.toBuffer()));
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "BodiesFuzzTest-jobsBody.dict")
  void jobsBody(byte[] input) {
    FibRequest request = documented(() -> FibRequest.fromJson(JobRoutes.body(new String(input,
      StandardCharsets.UTF_8)), LIMITS));
    if (request != null) {
      assertTrue(request.n() >= 0 && request.n() <= LIMITS.maxN(request.algorithm()), request.toString());
    }
  }

  /**
   * The input is the segment after /people/ as the request line carries it (Netty reads it as ISO-8859-1): bad escapes
   * are refused before routing ({@link HttpRules#escapes}), the router percent-decodes the rest, then the route.
   */
  @FuzzTest
  @DictionaryFile(resourcePath = "BodiesFuzzTest-peoplePathName.dict")
  void peoplePathName(byte[] input) {
    String raw = new String(input, StandardCharsets.ISO_8859_1).replaceAll("[/?# \r\n]", "");
    String routed;
    try {
      HttpRules.escapes(raw);
      routed = RFC3986.decodeURIComponent(raw, false);
    } catch (IllegalArgumentException e) {
      return; // answered 400 before routing: "not valid percent-encoding"
    }
    // an odd first byte: the path ends with a slash, which the route takes too
    String path = "/people/" + raw + (input.length > 0 && (input[0] & 1) == 1 ? "/" : "");
    String name = documented(() -> PeopleRoutes.pathName(routed, path));
    String expected = strictName(raw);
    assertEquals(expected, name, () -> "the name of /people/" + raw);
  }

  /** The segment's bytes with %XX decoded, as UTF-8; null when it is not valid percent-encoding or not UTF-8. */
  private static String strictName(String raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          return null;
        }
        int hi = Character.digit(raw.charAt(i + 1), 16);
        int lo = Character.digit(raw.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** The value, or null for a documented refusal: a 400 with a JSON detail naming the parameter. */
  static <T> T documented(Supplier<T> parse) {
    try {
      return parse.get();
    } catch (ServiceError e) {
      assertEquals(400, e.status(), e.getMessage());
      assertNotNull(e.detail(), e.getMessage());
      assertTrue(e.detail().getValue("param") instanceof String, e.detail().encode());
      assertTrue(!e.getMessage().isBlank());
      return null;
    }
  }
}
