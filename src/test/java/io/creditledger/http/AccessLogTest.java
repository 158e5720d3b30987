package io.creditledger.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.creditledger.support.Eventually;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AccessLogTest {
  static TestApp app;
  static Logger access;
  static ListAppender<ILoggingEvent> captured;
  static Level previous;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(started -> app = started);

  @BeforeAll
  static void capture() {
    access = (Logger) LoggerFactory.getLogger("http.access");
    previous = access.getLevel();
    access.setLevel(Level.INFO);
    captured = new ListAppender<>();
    captured.start();
    access.addAppender(captured);
  }

  @AfterAll
  static void release() {
    access.detachAppender(captured);
    access.setLevel(previous);
  }

  /** The captured lines (the appender adds them on the event loop, under its own lock). */
  static List<String> logged() {
    synchronized (captured) {
      return captured.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }

  @Test
  void oneLinePerRequestWithoutBodiesOrTokens() {
    app.api.put("/v1/users/logged?secret=query", new JsonObject().put("email", "private@example.com"));
    app.api.withToken("wrong-token-for-the-log").get("/v1/users/logged");
    // the line is written when the response has ended, which the client may see first
    Eventually.await("both requests logged", Duration.ofSeconds(5), () -> logged().size() >= 2);
    List<String> lines = logged();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).matches("PUT /v1/users/logged 201 \\d+\\.\\d{3}ms rid=[0-9a-f-]{36}");
    assertThat(lines.get(1)).matches("GET /v1/users/logged 401 \\d+\\.\\d{3}ms rid=[0-9a-f-]{36}");
    assertThat(String.join("\n", lines)).doesNotContain("private@example.com", "secret", TestApp.SERVICE_TOKEN,
        "wrong-token-for-the-log");
  }
}
