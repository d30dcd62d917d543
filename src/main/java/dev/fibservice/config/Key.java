package dev.fibservice.config;

import java.util.List;
import java.util.Locale;

/**
 * One configuration key: its dotted name, type, default, accepted range and meaning; a secret one (a password)
 * is never printed. A renamed key keeps its old names as aliases: they still load, with a deprecation line.
 */
public record Key(String name, Type type, Object defaultValue, long min, long max, List<String> choices,
                  String description, boolean secret, List<String> aliases) {

  /** What is printed instead of a secret's value. */
  public static final String MASK = "***";

  /** The value kinds a key can hold. */
  public enum Type {
    /** A whole number in [min, max]. */
    INT,
    /** A whole number in [min, max], or the word "auto" (resolved at start, e.g. to the CPU count). */
    INT_OR_AUTO,
    /** true or false. */
    BOOLEAN,
    /** Free text. */
    STRING,
    /** One word out of {@link #choices()}. */
    CHOICE,
    /** A number (fractions allowed) in [min, max]. */
    DECIMAL
  }

  static Key integer(String name, long def, long min, long max, String description) {
    return new Key(name, Type.INT, def, min, max, List.of(), description, false, List.of());
  }

  static Key intOrAuto(String name, long min, long max, String description) {
    return new Key(name, Type.INT_OR_AUTO, "auto", min, max, List.of(), description, false, List.of());
  }

  static Key decimal(String name, double def, long min, long max, String description) {
    return new Key(name, Type.DECIMAL, def, min, max, List.of(), description, false, List.of());
  }

  static Key bool(String name, boolean def, String description) {
    return new Key(name, Type.BOOLEAN, def, 0, 0, List.of(), description, false, List.of());
  }

  static Key string(String name, String def, String description) {
    return new Key(name, Type.STRING, def, 0, 0, List.of(), description, false, List.of());
  }

  static Key choice(String name, String def, List<String> choices, String description) {
    return new Key(name, Type.CHOICE, def, 0, 0, choices, description, false, List.of());
  }

  /** Free text that is a secret: wherever settings are printed (log, errors), its value shows as {@link #MASK}. */
  static Key secret(String name, String description) {
    return new Key(name, Type.STRING, "", 0, 0, List.of(), description, true, List.of());
  }

  /** This key, still loaded under an old name (in the file, as {@code FIB_*} variable and as --set). */
  Key alias(String oldName) {
    List<String> all = new java.util.ArrayList<>(aliases);
    all.add(oldName);
    return new Key(name, type, defaultValue, min, max, choices, description, secret, List.copyOf(all));
  }

  /** The value as it may be printed: a secret's value masked (an empty one stays empty: "none set" is no secret). */
  public String shown(Object value) {
    String text = String.valueOf(value);
    return secret && !text.isEmpty() ? MASK : text;
  }

  /** The environment variable that overrides this key: {@code http.port} is {@code FIB_HTTP_PORT}. */
  public String envName() {
    return envName(name);
  }

  /** The environment variable of a key name (or of an alias). */
  public static String envName(String name) {
    StringBuilder env = new StringBuilder("FIB_");
    for (char c : name.toCharArray()) {
      if (c == '.') {
        env.append('_');
      } else if (Character.isUpperCase(c)) {
        env.append('_').append(c);
      } else {
        env.append(Character.toUpperCase(c));
      }
    }
    return env.toString().toUpperCase(Locale.ROOT);
  }

  /** The accepted values, as shown in errors. */
  public String accepted() {
    return switch (type) {
      case INT -> "an integer from " + min + " to " + max;
      case INT_OR_AUTO -> "\"auto\" or an integer from " + min + " to " + max;
      case BOOLEAN -> "true or false";
      case STRING -> "a string";
      case CHOICE -> "one of " + String.join(", ", choices);
      case DECIMAL -> "a number from " + min + " to " + max;
    };
  }
}
