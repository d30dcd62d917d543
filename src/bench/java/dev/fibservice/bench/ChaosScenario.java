package dev.fibservice.bench;

import java.nio.file.Path;

/** {@code make bench ARGS=chaos}: placeholder until the chaos run lands. */
final class ChaosScenario {
  private ChaosScenario() {
  }

  static void run(Path jar, Path outDir, Path work) {
    throw new UnsupportedOperationException("chaos");
  }
}
