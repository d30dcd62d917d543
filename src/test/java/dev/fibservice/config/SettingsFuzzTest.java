package dev.fibservice.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fuzzes the configuration: a config file, FIB_* variables and --set flags, merged and validated by
 * {@link Settings#load}. Either the settings come out with every key within its rules (an integer in its range, a
 * choice among its choices, a non-blank string where blank is not the default, the SockJS path and reply timeout as
 * checked together), or a {@link ConfigException} with a message naming what is wrong; never another exception. The
 * input is text: lines {@code env NAME=VALUE} and {@code set key=value}, then, after a line {@code file}, the config
 * file's JSON.
 */
public class SettingsFuzzTest {

  private static final Path FILE = tempFile();

  @FuzzTest
  @DictionaryFile(resourcePath = "SettingsFuzzTest.dict")
  void fileEnvAndFlags(byte[] input) throws IOException {
    String text = new String(input, StandardCharsets.UTF_8);
    int fileAt = text.indexOf("\nfile\n");
    String head = fileAt < 0 ? text : text.substring(0, fileAt);
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> flags = new LinkedHashMap<>();
    for (String line : head.split("\n")) {
      int eq = line.indexOf('=');
      if (line.startsWith("env ") && eq > 0) {
        env.put(line.substring(4, eq), line.substring(eq + 1));
      } else if (line.startsWith("set ") && eq > 0) {
        flags.put(line.substring(4, eq), line.substring(eq + 1));
      }
    }
    Path file = null;
    if (fileAt >= 0) {
      Files.writeString(FILE, text.substring(fileAt + 6));
      file = FILE;
    }
    Settings settings;
    try {
      settings = Settings.load(file, true, env, flags);
    } catch (ConfigException e) {
      assertFalse(e.getMessage().isBlank());
      return;
    }
    assertValid(settings);
  }

  public static void assertValid(Settings settings) {
    for (Key key : Settings.KEYS) {
      switch (key.type()) {
        case INT, INT_OR_AUTO -> {
          if (!settings.isAuto(key)) {
            long v = settings.getLong(key); // a key of ms or bytes may pass int: the code reads those with getLong
            assertTrue(v >= key.min() && v <= key.max(), key.name() + " = " + v);
          }
        }
        case DECIMAL -> {
          double v = settings.getDouble(key);
          assertTrue(v >= key.min() && v <= key.max(), key.name() + " = " + v); // false for NaN too
        }
        case CHOICE -> assertTrue(key.choices().contains(settings.getString(key)), key.name());
        case BOOLEAN -> settings.getBoolean(key);
        case STRING -> assertTrue(!settings.getString(key).isBlank() || "".equals(key.defaultValue()), key.name());
      }
    }
    assertTrue(settings.getString(Settings.SOCKJS_PATH).matches("(/[A-Za-z0-9._-]+)+"), "sockjs.path");
    assertTrue(settings.getInt(Settings.SOCKJS_REPLY_TIMEOUT_MS) > settings.getInt(Settings.FIB_TIMEOUT_MS),
      "sockjs.replyTimeoutMs above fib.timeoutMs");
    assertEquals(Settings.KEYS.size(), settings.describe().size());
  }

  private static Path tempFile() {
    try {
      Path file = Files.createTempFile("fuzz-settings", ".json");
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
