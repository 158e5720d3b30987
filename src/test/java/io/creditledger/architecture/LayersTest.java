package io.creditledger.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package layers, as the README's Architecture section draws them: HTTP and the client at the edge, verticles
 * wiring event-bus addresses to services, services running business operations over stores, stores holding the
 * SQL, and a pure core (domain, money, time, retry, error) that knows nothing of Vert.x or the database.
 */
@AnalyzeClasses(packages = "io.creditledger", importOptions = ImportOption.DoNotIncludeTests.class)
class LayersTest {
  private static final String[] PURE = {"io.creditledger.domain..", "io.creditledger.money..", "io.creditledger.time..",
      "io.creditledger.retry..", "io.creditledger.error.."};

  @ArchTest
  static final ArchRule packagesFormNoCycles = slices().matching("io.creditledger.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule theCoreIsPure = classes().that().resideInAnyPackage(PURE)
      .should().onlyDependOnClassesThat().resideInAnyPackage(concat(PURE, "java.."))
      .because("the rules of money, time and consumption are plain Java, testable without Vert.x or a database");

  @ArchTest
  static final ArchRule httpNeverTouchesTheDatabase = noClasses().that().resideInAPackage("io.creditledger.http..")
      .should().dependOnClassesThat().resideInAnyPackage("io.vertx.sqlclient..", "io.vertx.pgclient..",
          "io.creditledger.db..", "io.creditledger.store..", "io.creditledger.service..")
      .because("the HTTP edge parses requests into commands and sends them over the event bus");

  @ArchTest
  static final ArchRule layers = layeredArchitecture().consideringAllDependencies()
      .layer("Boot").definedBy("io.creditledger")
      .layer("Http").definedBy("io.creditledger.http..", "io.creditledger.auth..")
      .layer("Client").definedBy("io.creditledger.api..")
      .layer("Verticles").definedBy("io.creditledger.verticle..")
      .layer("Services").definedBy("io.creditledger.service..")
      .layer("Stores").definedBy("io.creditledger.store..", "io.creditledger.db..")
      .layer("Stripe").definedBy("io.creditledger.stripe..")
      .layer("Wire").definedBy("io.creditledger.wire..")
      .whereLayer("Http").mayOnlyBeAccessedByLayers("Boot")
      .whereLayer("Verticles").mayOnlyBeAccessedByLayers("Boot")
      .whereLayer("Services").mayOnlyBeAccessedByLayers("Verticles", "Boot")
      .whereLayer("Stores").mayOnlyBeAccessedByLayers("Services", "Verticles", "Boot")
      .whereLayer("Stripe").mayOnlyBeAccessedByLayers("Stores", "Services", "Verticles", "Wire", "Boot");

  private static String[] concat(String[] a, String b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }
}
