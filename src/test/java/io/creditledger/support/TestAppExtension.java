package io.creditledger.support;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;
import java.util.function.Consumer;

/**
 * Boots one {@link TestApp} for a test class and closes it when the class is done, in place of the same
 * {@code @BeforeAll}/{@code @AfterAll} pair in every class:
 *
 * <pre>
 * static TestApp app;
 *
 * &#64;RegisterExtension
 * static final TestAppExtension boot = TestAppExtension.perClass(Map.of("FREE_GRANT_CREDITS", "0"), started -&gt; app = started);
 * </pre>
 *
 * The app is started before the class's {@code @BeforeAll} methods (which may seed it) and closed after its
 * {@code @AfterAll} methods (which may still use it), then the after-class journal check looks at its database.
 * What the settings point at and must outlive the app (a {@link FakeStripe}) goes in an {@code @AutoClose} static
 * field, which JUnit closes after this extension's callbacks. Classes that boot per test, on their own clock or
 * database, or several apps at once, start {@link TestApp} themselves.
 */
public final class TestAppExtension implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> settings;
  private final Consumer<TestApp> started;
  private TestApp app;

  private TestAppExtension(Map<String, String> settings, Consumer<TestApp> started) {
    this.settings = settings;
    this.started = started;
  }

  /** One app for the whole class, with {@code settings} on top of the test defaults, handed to {@code started}. */
  public static TestAppExtension perClass(Map<String, String> settings, Consumer<TestApp> started) {
    return new TestAppExtension(settings, started);
  }

  /** One app for the whole class, with the test defaults. */
  public static TestAppExtension perClass(Consumer<TestApp> started) {
    return perClass(Map.of(), started);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    app = TestApp.start(settings);
    started.accept(app);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (app != null) {
      app.close();
      app = null;
    }
  }
}
