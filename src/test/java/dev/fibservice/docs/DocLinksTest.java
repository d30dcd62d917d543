package dev.fibservice.docs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every relative link and #anchor of the docs (README.md, docs/*.md, examples/**\/README.md) leads somewhere. */
class DocLinksTest {

  @Test
  void everyRelativeLinkAndAnchorResolves() {
    Path root = Path.of("").toAbsolutePath().normalize();
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path file : Markdown.docFiles()) {
      String text = Markdown.read(file);
      for (Markdown.Link link : Markdown.links(text)) {
        String target = link.target();
        if (target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
          continue; // http:, https:, mailto: are not ours to check here
        }
        checked++;
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : target.substring(hash + 1);
        Path resolved = path.isEmpty() ? file.toAbsolutePath().normalize()
          : file.toAbsolutePath().getParent().resolve(path).normalize();
        String where = file + ":" + link.line() + ": " + target;
        if (!resolved.startsWith(root)) {
          broken.add(where + " leaves the project");
        } else if (!Files.exists(resolved)) {
          broken.add(where + ": " + root.relativize(resolved) + " does not exist");
        } else if (anchor != null) {
          if (!resolved.toString().endsWith(".md")) {
            broken.add(where + ": an anchor into a file that is not Markdown");
          } else if (!Markdown.anchors(Markdown.read(resolved)).contains(anchor)) {
            broken.add(where + ": " + root.relativize(resolved) + " has no heading whose anchor is #" + anchor
              + " (its anchors: " + Markdown.anchors(Markdown.read(resolved)) + ")");
          }
        }
      }
    }
    assertTrue(checked > 50, "only " + checked + " relative links found: is the link pattern still right?");
    assertTrue(broken.isEmpty(), broken.size() + " broken links:\n" + String.join("\n", broken));
  }

  /** The anchors of headings by GitHub's rules: lower case, punctuation dropped, spaces made dashes, repeats numbered. */
  @Test
  void anchorsFollowGitHubsRules() {
    assertEquals("the-page-get-", Markdown.slug("The page: `GET /`"));
    assertEquals("checklist-for-a-real-network", Markdown.slug("Checklist for a real network"));
    assertEquals("a-requests-way", Markdown.slug("A request's way"));
    assertEquals("make-cluster", Markdown.slug("make cluster"));
    assertEquals("operating-and-security-at-a-glance", Markdown.slug("Operating and security at a glance"));
    assertEquals("fib_client-options-1x", Markdown.slug("**fib_client** options 1.x"));
    assertEquals(List.of("errors", "errors-1", "tcp-lines"),
      List.copyOf(Markdown.anchors("# Errors\n```\n# not a heading\n```\n## Errors\n### TCP lines ##\n")));
  }

  @Test
  void linksInCodeAreNotLinks() {
    List<Markdown.Link> links = Markdown.links("see [a](a.md#x), `[b](b.md)`\n```\n[c](c.md)\n```\n[d]: d.md\n");
    assertEquals(List.of("a.md#x", "d.md"), links.stream().map(Markdown.Link::target).toList());
  }

  /** A link whose text wraps onto the next line is a link too (wrapped prose has many), found on its target's line. */
  @Test
  void linksWrappedOverLinesAreLinks() {
    List<Markdown.Link> links = Markdown.links("one [link that\nwraps](a.md#x) and\n[another\n  one](b.md)\n");
    assertEquals(List.of("a.md#x", "b.md"), links.stream().map(Markdown.Link::target).toList());
    assertEquals(List.of(2, 4), links.stream().map(Markdown.Link::line).toList());
  }
}
