package dev.fibservice;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A wire fuzz test's input: the bytes a client sends, optionally followed by one line of options after the last
 * {@code \n#!}, such as {@code #! half-close split=3,10,1 uri=256}: words, and names with values. Readable, so that a
 * seed is a request as a client sends it, and an options line a person can write.
 */
public final class FuzzInput {

  /** The bytes to send (they keep the newline before the options line). */
  public final byte[] stream;
  private final Map<String, String> options = new HashMap<>();

  private FuzzInput(byte[] input) {
    String text = new String(input, StandardCharsets.ISO_8859_1);
    int mark = text.lastIndexOf("\n#!");
    if (mark < 0) {
      stream = input;
      return;
    }
    stream = Arrays.copyOf(input, mark + 1);
    for (String option : text.substring(mark + 3).trim().split("\\s+")) {
      String[] kv = option.split("=", 2);
      options.put(kv[0], kv.length < 2 ? "" : kv[1]);
    }
  }

  public static FuzzInput of(byte[] input) {
    return new FuzzInput(input);
  }

  /** Whether the options name this word. */
  public boolean has(String word) {
    return options.containsKey(word);
  }

  /** The option's number within [min, max], or {@code otherwise} when absent or not a number. */
  public int number(String name, int min, int max, int otherwise) {
    String v = options.get(name);
    return v != null && v.matches("\\d{1,7}") ? Math.max(min, Math.min(max, Integer.parseInt(v))) : otherwise;
  }

  /** The option's comma-separated numbers from 1 to 65536 (the sizes of the pieces the stream is sent in). */
  public int[] splits() {
    String v = options.getOrDefault("split", "");
    return Arrays.stream(v.split(",")).filter(s -> s.matches("\\d{1,5}")).mapToInt(Integer::parseInt)
      .filter(s -> s > 0).map(s -> Math.min(s, 1 << 16)).toArray();
  }
}
