package dev.fibservice;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.config.SettingsFuzzTest;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Fuzzes the command line as far as it goes without starting anything: picocli's parsing of the flags, then the
 * settings they make with the environment and the config file. Either picocli refuses the arguments (exit 2 with one
 * line), or the settings refuse them ({@link ConfigException}), or the settings come out valid; never another
 * exception. The input is the arguments, one per line.
 */
class MainFuzzTest {

  @FuzzTest
  @DictionaryFile(resourcePath = "MainFuzzTest.dict")
  void flags(byte[] input) {
    String[] args = input.length == 0 ? new String[0]
      : new String(input, StandardCharsets.UTF_8).split("\n", -1);
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err));
    CommandLine.ParseResult parsed;
    try {
      parsed = cli.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      // what execute() turns into exit code 2 and one line
      assertFalse(e.getMessage().isBlank());
      return;
    }
    if (parsed.isUsageHelpRequested() || parsed.isVersionHelpRequested() || parsed.subcommand() != null) {
      return;
    }
    Main main = cli.getCommand();
    Settings settings;
    try {
      settings = main.settings(Map.of());
    } catch (ConfigException e) {
      assertFalse(e.getMessage().isBlank());
      return;
    }
    SettingsFuzzTest.assertValid(settings);
    // a role needs a cluster: alone, a front would answer 503 to every computation and a worker serve nobody
    assertTrue(settings.getBoolean(Settings.CLUSTER_ENABLED) || "all".equals(settings.getString(Settings.CLUSTER_ROLE)),
      "a role without --cluster");
  }
}
