package dev.fibservice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every {@code @FuzzTest} is one of `make fuzz`'s targets (a target it does not list is never fuzzed) and has a seed
 * corpus in src/test/resources, which `make test` runs; and every target `make fuzz` lists exists.
 */
class FuzzTargetsTest {

  /** One target of the Makefile: {@code http/BodiesFuzzTest\#peopleBody} (and {@code +otherTest} run beside it). */
  private static final Pattern TARGET = Pattern.compile("([\\w./]+)/(\\w+FuzzTest)\\\\#(\\w+)[+\\w]*");

  @Test
  void everyFuzzTestIsATargetOfMakeFuzzWithASeedCorpus() throws Exception {
    TreeSet<String> annotated = new TreeSet<>();
    Path root = Path.of("src", "test", "java");
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith("FuzzTest.java")).toList()) {
        String name = root.relativize(file).toString().replace(".java", "").replace('/', '.');
        for (Method m : Class.forName(name).getDeclaredMethods()) {
          if (m.isAnnotationPresent(FuzzTest.class)) {
            annotated.add(name + "#" + m.getName());
          }
        }
      }
    }
    assertEquals(annotated, new TreeSet<>(makefileTargets()), "the @FuzzTest methods and the Makefile's FUZZ_TARGETS");
    for (String target : annotated) {
      String[] parts = target.split("#");
      Path corpus = Path.of("src", "test", "resources", parts[0].replace('.', '/') + "Inputs", parts[1]);
      try (Stream<Path> seeds = Files.isDirectory(corpus) ? Files.list(corpus) : Stream.empty()) {
        assertTrue(seeds.findAny().isPresent(), "no seed in " + corpus);
      }
    }
  }

  /** The targets FUZZ_TARGETS names, as class#method. */
  private static List<String> makefileTargets() throws IOException {
    String makefile = Files.readString(Path.of("Makefile"));
    Matcher block = Pattern.compile("(?m)^FUZZ_TARGETS :=((?:.*\\\\\\n)*.*)$").matcher(makefile);
    assertTrue(block.find(), "FUZZ_TARGETS in the Makefile");
    List<String> targets = new ArrayList<>();
    Matcher m = TARGET.matcher(block.group(1));
    while (m.find()) {
      String pkg = m.group(1).equals(".") ? "" : m.group(1).replace('/', '.') + ".";
      targets.add("dev.fibservice." + pkg + m.group(2) + "#" + m.group(3));
    }
    return targets;
  }
}
