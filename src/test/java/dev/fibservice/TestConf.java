package dev.fibservice;

import dev.fibservice.config.Settings;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The configuration the tests bring with them: the built-in defaults and a Hazelcast file of their own
 * (src/test/resources/test-conf/). Never conf/, which `make run` reads and a user may tune: the jars the tests start
 * get {@code --conf} of this file, the in-JVM nodes these settings.
 */
public final class TestConf {

  /** The config file of every jar the tests start (it names {@link #CLUSTER_XML} as cluster.config). */
  public static final Path CONFIG = Path.of("src", "test", "resources", "test-conf", "config.json").toAbsolutePath();
  /** The tests' Hazelcast configuration: conf/cluster.xml as it ships. */
  public static final Path CLUSTER_XML = Path.of("src", "test", "resources", "test-conf", "cluster.xml");

  private TestConf() {
  }

  /** What a jar the tests start reads: {@link #CONFIG} over the built-in defaults. */
  public static Settings settings() {
    return Settings.load(CONFIG, true, Map.of(), Map.of());
  }

  /** The arguments with {@code --conf} {@link #CONFIG} in front, unless they name a config file themselves. */
  public static List<String> withConf(List<String> args) {
    if (args.stream().anyMatch(a -> a.equals("--conf") || a.startsWith("--conf="))) {
      return args;
    }
    return java.util.stream.Stream.concat(java.util.stream.Stream.of("--conf", CONFIG.toString()), args.stream())
      .toList();
  }
}
