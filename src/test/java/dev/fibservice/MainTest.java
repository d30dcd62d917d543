package dev.fibservice;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line, run in-process: help, version and bad values (which never start the service). */
class MainTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void helpListsTheFlags() {
    assertEquals(0, run("--help"));
    for (String flag : new String[] {"--conf", "--http-port", "--tcp-port", "--host", "--instances", "--worker-instances",
      "--set", "--version"}) {
      assertTrue(out.toString().contains(flag), flag + " missing from --help");
    }
  }

  @Test
  void versionPrints() {
    assertEquals(0, run("--version"));
    assertTrue(out.toString().startsWith("fib-service "), out.toString());
  }

  @Test
  void badValuesExitWith2AndOneClearLine() {
    assertEquals(2, run("--http-port", "70000"));
    assertTrue(err.toString().contains("http.port: '70000' is not accepted (from command line); expected an integer from 0 to 65535"),
      err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
  }

  @Test
  void instancesZeroIsRefused() {
    assertEquals(2, run("--instances", "0"));
    assertTrue(err.toString().contains("instances: '0' is not accepted"), err.toString());
  }

  @Test
  void aResultCacheLargerThanTheJvmMayHoldOffTheHeapIsRefused() {
    assertEquals(2, run("--set", "fib.cacheBytes=1099511627776", "--set", "mysql.host=off"));
    assertTrue(err.toString().contains("fib.cacheBytes: 1099511627776 is more than half of what this JVM may hold off"
      + " the heap"), err.toString());
  }

  @Test
  void unknownFlagAndUnknownKeyAreRefused() {
    assertEquals(2, run("--no-such-flag"));
    assertTrue(err.toString().contains("--no-such-flag"), err.toString());
    assertEquals(2, run("--set", "fib.nope=1"));
    assertTrue(err.toString().contains("unknown config key 'fib.nope'"), err.toString());
  }

  @Test
  void aClusterTlsFileProblemExitsWith2BeforeJoining() {
    assertEquals(2, run("--cluster", "--set", "cluster.tls.cert=/nonexistent/member.pem", "--set", "mysql.host=off"));
    assertEquals("fib-service: cluster.tls: set all three of cluster.tls.cert, cluster.tls.key and cluster.tls.ca, or"
      + " none; missing: cluster.tls.key, cluster.tls.ca", err.toString().strip());
  }

  @Test
  void missingNamedConfigFileIsRefused() {
    assertEquals(2, run("--conf", "/nonexistent/fib.json"));
    assertTrue(err.toString().contains("config file /nonexistent/fib.json does not exist"), err.toString());
  }
}
