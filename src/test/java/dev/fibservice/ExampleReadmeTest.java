package dev.fibservice;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link ExampleReadme} reads a README's commands and compares what they print: the harness of ExamplesIT. */
class ExampleReadmeTest {

  private static final String README = String.join("\n", "# x", "", "```sh", "$ make run ARGS=\"--bridge-port 7000\"",
    "```", "text", "```sh", "$ cd examples/node && npm ci", "$ python3 client.py --port 7000 \\", "  50",
    "12586269025", "$ python3 client.py 50 recursive   # exit 1", "error: ... (n <= 45, fib.maxN.recursive)", "```",
    "```java", "$ not a command", "```", "");

  @Test
  void readsCommandsTheirOutputAndExitCodes() {
    List<ExampleReadme.Command> commands = ExampleReadme.parse(README);
    assertEquals(List.of(new ExampleReadme.Command("make run ARGS=\"--bridge-port 7000\"", List.of(), 0),
      new ExampleReadme.Command("cd examples/node && npm ci", List.of(), 0),
      new ExampleReadme.Command("python3 client.py --port 7000 50", List.of("12586269025"), 0),
      new ExampleReadme.Command("python3 client.py 50 recursive", List.of("error: ... (n <= 45, fib.maxN.recursive)"),
        1)), commands);
  }

  @Test
  void theOutputMustBeTheReadmesLineForLine() {
    List<String> readme = List.of("{\"n\": 30, \"computeMicros\": ..., \"worker\": \"...\"}", "done");
    assertTrue(ExampleReadme.printed(readme, "{\"n\": 30, \"computeMicros\": 41, \"worker\": \"h-1/light-1\"}\ndone\n"));
    assertFalse(ExampleReadme.printed(readme, "{\"n\": 31, \"computeMicros\": 41, \"worker\": \"h\"}\ndone"));
    assertFalse(ExampleReadme.printed(readme, "{\"n\": 30, \"computeMicros\": 41, \"worker\": \"h\"}"), "a line short");
    assertFalse(ExampleReadme.printed(readme, "{\"n\": 30, \"computeMicros\": 1, \"worker\": \"h\"}\ndone\nmore"));
    assertFalse(ExampleReadme.printed(List.of("12586269025"), "1258626902"), "no partial match");
  }
}
