package dev.fibservice.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The little of Markdown the doc tests need, read as GitHub renders it: which files are the docs, their links,
 * their headings' anchors, their tables and their fenced blocks.
 */
final class Markdown {

  private static final Pattern FENCE = Pattern.compile("^\\s*(```|~~~)");
  /** A code span: it may run over a line break, never over a blank line. */
  private static final Pattern INLINE_CODE = Pattern.compile("`+(?:[^`\\n]|\\n(?![ \\t]*\\n))*`+");
  /** [text](target) and ![alt](target), with an optional "title". */
  private static final Pattern LINK = Pattern.compile("!?\\[(?:[^\\]\\[]|\\[[^\\]]*\\])*\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
  /** A reference definition: [label]: target */
  private static final Pattern REFERENCE = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
  private static final Pattern HEADING = Pattern.compile("^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:id|name)=\"([^\"]+)\"");

  private Markdown() {
  }

  /** The documentation: README.md, docs/*.md and every README.md under examples/, relative to the project. */
  static List<Path> docFiles() {
    List<Path> files = new ArrayList<>();
    files.add(Path.of("README.md"));
    files.addAll(docsDir());
    if (Files.isDirectory(Path.of("examples"))) {
      try (Stream<Path> walk = Files.walk(Path.of("examples"))) {
        walk.filter(p -> p.getFileName().toString().equals("README.md"))
          .filter(p -> !p.toString().contains("node_modules")).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return files;
  }

  /** docs/*.md, sorted. */
  static List<Path> docsDir() {
    try (Stream<Path> list = Files.list(Path.of("docs"))) {
      return list.filter(p -> p.toString().endsWith(".md")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The lines outside fenced code blocks, with inline code spans blanked out; the others empty (line numbers hold). */
  static List<String> prose(String text) {
    Matcher m = INLINE_CODE.matcher(unfenced(text));
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, m.group().replaceAll("[^\\n]", ""));
    }
    m.appendTail(out);
    return List.of(out.toString().split("\n", -1));
  }

  /** The text with the lines of fenced code blocks (fences included) emptied. */
  private static String unfenced(String text) {
    String[] lines = text.split("\n", -1);
    boolean fenced = false;
    for (int i = 0; i < lines.length; i++) {
      if (FENCE.matcher(lines[i]).find()) {
        fenced = !fenced;
        lines[i] = "";
      } else if (fenced) {
        lines[i] = "";
      }
    }
    return String.join("\n", lines);
  }

  /**
   * Every link target (inline, image or reference definition) in the prose, with the line number (1-based) where its
   * target stands. An inline link's text may wrap onto the next lines, as wrapped prose does; its target may not.
   */
  static List<Link> links(String text) {
    List<Link> links = new ArrayList<>();
    List<String> lines = prose(text);
    String joined = String.join("\n", lines);
    Matcher m = LINK.matcher(joined);
    while (m.find()) {
      int line = (int) joined.substring(0, m.start(1)).chars().filter(c -> c == '\n').count();
      links.add(new Link(m.group(1), line + 1));
    }
    for (int i = 0; i < lines.size(); i++) {
      Matcher r = REFERENCE.matcher(lines.get(i));
      if (r.matches()) {
        links.add(new Link(r.group(1), i + 1));
      }
    }
    return links;
  }

  record Link(String target, int line) {
  }

  /** The anchors GitHub makes for the headings (and {@code <a id>}/{@code <a name>}) of a file. */
  static Set<String> anchors(String text) {
    Set<String> anchors = new LinkedHashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean fenced = false;
    for (String line : text.split("\n", -1)) {
      if (FENCE.matcher(line).find()) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        continue;
      }
      Matcher h = HEADING.matcher(line);
      if (h.matches()) {
        String slug = slug(h.group(2));
        int n = seen.merge(slug, 1, Integer::sum);
        anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
      }
      Matcher a = HTML_ANCHOR.matcher(line);
      while (a.find()) {
        anchors.add(a.group(1));
      }
    }
    return anchors;
  }

  /**
   * GitHub's anchor of a heading: the heading's text as rendered (code spans, emphasis and links reduced to their
   * text), lower case, with every character but letters, digits, '-', '_' and spaces dropped, spaces made '-'.
   */
  static String slug(String heading) {
    String text = heading.replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1").replace("`", "").replace("*", "");
    StringBuilder slug = new StringBuilder();
    text.toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
      if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
        slug.appendCodePoint(c);
      } else if (c == ' ') {
        slug.append('-');
      }
    });
    return slug.toString();
  }

  /** The table whose header row is exactly {@code header}: its rows' cells, header and separator left out. */
  static List<List<String>> table(String text, String header) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].equals(header)) {
        List<List<String>> rows = new ArrayList<>();
        for (int j = i + 2; j < lines.length && lines[j].startsWith("|"); j++) {
          rows.add(cells(lines[j]));
        }
        return rows;
      }
    }
    return null;
  }

  /** The cells of a table row, trimmed; {@code \|} stays inside its cell. */
  static List<String> cells(String row) {
    List<String> cells = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    String inner = row.trim();
    inner = inner.substring(1, inner.endsWith("|") && !inner.endsWith("\\|") ? inner.length() - 1 : inner.length());
    for (int i = 0; i < inner.length(); i++) {
      char c = inner.charAt(i);
      if (c == '\\' && i + 1 < inner.length() && inner.charAt(i + 1) == '|') {
        cell.append("\\|");
        i++;
      } else if (c == '|') {
        cells.add(cell.toString().trim());
        cell.setLength(0);
      } else {
        cell.append(c);
      }
    }
    cells.add(cell.toString().trim());
    return cells;
  }

  /** How many lines of {@code text} are exactly {@code line}. */
  static int count(String text, String line) {
    int n = 0;
    for (String l : text.split("\n", -1)) {
      if (l.equals(line)) {
        n++;
      }
    }
    return n;
  }

  /** The code of every fenced block (line by line) and every inline code span (line breaks made spaces). */
  static List<String> code(String text) {
    List<String> code = new ArrayList<>();
    boolean fenced = false;
    for (String line : text.split("\n", -1)) {
      if (FENCE.matcher(line).find()) {
        fenced = !fenced;
      } else if (fenced) {
        code.add(line);
      }
    }
    Matcher m = INLINE_CODE.matcher(unfenced(text));
    while (m.find()) {
      code.add(m.group().replaceAll("^`+|`+$", "").replace('\n', ' '));
    }
    return code;
  }

  /**
   * The fenced blocks right after a line starting with {@code marker} (an HTML comment, which GitHub does not
   * show): the marker line and the block's lines.
   */
  static List<Block> markedBlocks(String text, String marker) {
    List<Block> blocks = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i + 1 < lines.length; i++) {
      if (lines[i].startsWith(marker) && FENCE.matcher(lines[i + 1]).find()) {
        List<String> body = new ArrayList<>();
        int j = i + 2;
        for (; j < lines.length && !FENCE.matcher(lines[j]).find(); j++) {
          body.add(lines[j]);
        }
        blocks.add(new Block(lines[i], body, i + 3));
        i = j;
      }
    }
    return blocks;
  }

  /** @param firstLine the 1-based line number of the block's first line */
  record Block(String marker, List<String> lines, int firstLine) {
  }
}
