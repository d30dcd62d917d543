package dev.fibservice.api;

/** How the service quotes text it did not write (input, other libraries' messages) in its answers and logs. */
public final class Text {

  /** The length {@link #abbreviate(String)} keeps: a client's input is echoed at most this long. */
  public static final int ECHO_LENGTH = 40;
  private static final int ONE_LINE_LENGTH = 120;

  private Text() {
  }

  /** The text up to its first line break; "" for null. */
  public static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }

  /** At most 40 characters: longer text is cut to 37 and "..." (never inside a surrogate pair). */
  public static String abbreviate(String text) {
    return abbreviate(text, ECHO_LENGTH);
  }

  /** At most {@code max} characters (code points): longer text is cut to {@code max - 3} and "...". */
  public static String abbreviate(String text, int max) {
    if (text.codePointCount(0, text.length()) <= max) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, max - 3)) + "...";
  }

  /**
   * A client's text in one short line, safe to log: the first line, control characters shown as '?', at most 120
   * characters; "" for null.
   */
  public static String oneLine(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < ONE_LINE_LENGTH; i++) {
      char c = text.charAt(i);
      if (c == '\n' || c == '\r') {
        break;
      }
      out.append(c < ' ' || c == 0x7f ? '?' : c);
    }
    return out.length() < ONE_LINE_LENGTH ? out.toString() : out.substring(0, ONE_LINE_LENGTH - 3) + "...";
  }
}
