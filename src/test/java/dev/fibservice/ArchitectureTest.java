package dev.fibservice;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The packages point one way, read from the compiled classes (so a fully qualified use counts as much as an import):
 * the number engine, the shared vocabulary and the cluster client library at the bottom, then configuration,
 * operations and live counters, the cluster and the database, compute, then jobs and the server plumbing, then the three front ends, which never use
 * each other; the root package wires everything and nothing uses it. docs/architecture.md's package map shows the same layers.
 */
@AnalyzeClasses(packages = "dev.fibservice", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  private static final String ROOT = "dev.fibservice";

  @ArchTest
  static final ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
    .layer("math").definedBy(ROOT + ".math..")
    .layer("api").definedBy(ROOT + ".api..")
    .layer("client").definedBy(ROOT + ".client..")
    .layer("config").definedBy(ROOT + ".config..")
    .layer("ops").definedBy(ROOT + ".ops..")
    .layer("stats").definedBy(ROOT + ".stats..")
    .layer("cluster").definedBy(ROOT + ".cluster..")
    .layer("db").definedBy(ROOT + ".db..")
    .layer("compute").definedBy(ROOT + ".compute..")
    .layer("jobs").definedBy(ROOT + ".jobs..")
    .layer("net").definedBy(ROOT + ".net..")
    .layer("http").definedBy(ROOT + ".http..")
    .layer("tcp").definedBy(ROOT + ".tcp..")
    .layer("bridge").definedBy(ROOT + ".bridge..")
    .layer("bench").definedBy(ROOT + ".bench..")
    .layer("root").definedBy(ROOT)
    .whereLayer("math").mayNotAccessAnyLayer()
    .whereLayer("api").mayNotAccessAnyLayer()
    .whereLayer("client").mayNotAccessAnyLayer()
    .whereLayer("config").mayOnlyAccessLayers("api")
    .whereLayer("ops").mayOnlyAccessLayers("math", "config", "api")
    .whereLayer("stats").mayOnlyAccessLayers("math", "config", "api")
    .whereLayer("cluster").mayOnlyAccessLayers("config", "api", "ops", "client")
    .whereLayer("db").mayOnlyAccessLayers("config", "api", "ops")
    .whereLayer("compute").mayOnlyAccessLayers("math", "config", "api", "ops", "stats", "cluster", "client")
    .whereLayer("jobs").mayOnlyAccessLayers("compute", "db", "math", "config", "api", "ops")
    .whereLayer("net").mayOnlyAccessLayers("config", "api", "ops")
    .whereLayer("http").mayOnlyAccessLayers(frontEndsUse())
    .whereLayer("tcp").mayOnlyAccessLayers(frontEndsUse())
    .whereLayer("bridge").mayOnlyAccessLayers(frontEndsUse())
    .whereLayer("bench").mayOnlyAccessLayers("config", "api")
    .whereLayer("root").mayNotBeAccessedByAnyLayer();

  /** Every class is in one of the layers above: a new package is placed on purpose. */
  @ArchTest
  static final ArchRule everyPackageHasALayer = classes().that().resideInAPackage(ROOT + "..")
    .should().resideInAnyPackage(ROOT, ROOT + ".math..", ROOT + ".api..", ROOT + ".client..", ROOT + ".config..", ROOT + ".ops..",
      ROOT + ".stats..", ROOT + ".cluster..", ROOT + ".db..", ROOT + ".compute..", ROOT + ".jobs..", ROOT + ".net..",
      ROOT + ".http..", ROOT + ".tcp..", ROOT + ".bridge..", ROOT + ".bench..");

  /**
   * The number engine is plain Java, so that it can be tested and measured alone; the service hands it what its
   * threads do as they start (their CPU priority), through {@code EngineThreads}.
   */
  @ArchTest
  static final ArchRule engineIsPlainJava = classes().that().resideInAPackage(ROOT + ".math")
    .should().onlyDependOnClassesThat().resideInAnyPackage("java..", ROOT + ".math");

  private static String[] frontEndsUse() {
    return new String[] {"net", "compute", "jobs", "db", "cluster", "stats", "ops", "api", "config", "math"};
  }
}
