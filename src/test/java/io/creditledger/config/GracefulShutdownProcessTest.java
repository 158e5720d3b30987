package io.creditledger.config;

import io.creditledger.support.ContractCheck;
import io.creditledger.support.MainProcess;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestDatabase;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM under load, with the service in its own process: requests in flight finish with their answers, requests
 * that arrive after are refused (503 {@code shutting_down}, or no connection), and every 2xx took effect.
 */
class GracefulShutdownProcessTest {
  private static final String SERVICE = "service-token-shutdown-01";
  private static final String ADMIN = "admin-token-shutdown-0001";

  /** One consumption as its client saw it; {@code status} -1: no answer (the connection was refused or lost). */
  private record Sent(String operationId, long sentAt, int status, String code) {
  }

  @Test
  void inFlightRequestsFinishNewOnesAreRefusedAndNo2xxIsLost(@TempDir Path dir) throws Exception {
    DatabaseUrl db = TestDatabase.fresh();
    Path log = dir.resolve("service.log");
    Process p = MainProcess.start(db, Map.of("DATA_DIR", dir.toString(), "LEDGER_API_TOKEN", SERVICE,
        "LEDGER_ADMIN_TOKEN", ADMIN, "FREE_GRANT_CREDITS", "0"), log);
    ExecutorService load = Executors.newFixedThreadPool(12);
    try {
      int port = MainProcess.awaitPort(p, log);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      assertThat(send(http, port, "PUT", "/v1/users/sd", new JsonObject().put("email", "sd@example.com"), SERVICE)
          .statusCode()).isEqualTo(201);
      assertThat(send(http, port, "POST", "/v1/users/sd/grants", new JsonObject().put("operationId", "sd-g")
          .put("type", "purchase").put("amount", 1_000_000), SERVICE).statusCode()).isEqualTo(201);

      List<Sent> sent = new CopyOnWriteArrayList<>();
      AtomicLong sequence = new AtomicLong();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      for (int t = 0; t < 12; t++) {
        load.submit(() -> {
          int refusedInARow = 0;
          while (System.nanoTime() < until && refusedInARow < 3) {
            String op = "sd-c-" + sequence.incrementAndGet();
            long at = System.nanoTime();
            try {
              HttpResponse<String> r = send(http, port, "POST", "/v1/users/sd/consume",
                  new JsonObject().put("operationId", op).put("amount", 1), SERVICE);
              String code = r.statusCode() / 100 == 2 ? null
                  : new JsonObject(r.body()).getJsonObject("error").getString("code");
              sent.add(new Sent(op, at, r.statusCode(), code));
              refusedInARow = r.statusCode() == 503 ? refusedInARow + 1 : 0;
            } catch (IOException e) {
              sent.add(new Sent(op, at, -1, e.getClass().getSimpleName()));
              refusedInARow++;
            }
          }
          return null;
        });
      }
      // the signal comes once the service has answered a fair amount of load (a cold JVM on a busy machine answers
      // its first second slowly: a fixed pause measured the machine, not the shutdown)
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (sent.stream().filter(s -> s.status() == 200).count() <= 100 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      long sigterm = System.nanoTime();
      p.destroy(); // SIGTERM
      assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
      load.shutdown();
      assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

      String output = Files.readString(log);
      assertThat(output).contains("Shutting down").doesNotContain("did not complete cleanly");
      List<Sent> before = sent.stream().filter(s -> s.sentAt() < sigterm).toList();
      List<Sent> ok = sent.stream().filter(s -> s.status() / 100 == 2).toList();
      assertThat(ok).hasSizeGreaterThan(100);
      long refused = sent.stream().filter(s -> s.status() != 200).count();
      long okAfter = ok.stream().filter(s -> s.sentAt() >= sigterm).count();
      System.out.println("Shutdown under load: " + ok.size() + " answered 200 (" + okAfter + " sent after SIGTERM), "
          + sent.stream().filter(s -> s.status() == 503).count() + " answered 503, "
          + sent.stream().filter(s -> s.status() == -1).count() + " without an answer");
      assertThat(refused).as("the load ran into the shutdown").isPositive();
      // sent before the signal: answered, and answered 2xx (they were in flight or done when it came)
      assertThat(before.stream().filter(s -> s.status() != 200 && s.sentAt() < sigterm - TimeUnit.MILLISECONDS
          .toNanos(100))).as("requests sent well before SIGTERM that got no 200").isEmpty();
      assertThat(sent).allSatisfy(s -> assertThat(s.status()).as(s.toString()).isIn(-1, 200, 503));
      assertThat(sent.stream().filter(s -> s.status() == 503).map(Sent::code)).allMatch("shutting_down"::equals);

      try (SqlSession c = TestDatabase.open(db)) {
        for (Sent s : ok) {
          assertThat(c.number("SELECT count(*) FROM operations WHERE operation_id = ?", s.operationId()))
              .as("2xx %s recorded once", s.operationId()).isEqualTo(1);
        }
        for (Sent s : sent) {
          if (s.status() == 503) {
            assertThat(c.number("SELECT count(*) FROM operations WHERE operation_id = ?", s.operationId()))
                .as("refused %s applied", s.operationId()).isZero();
          }
        }
        assertThat(c.number("SELECT coalesce(-sum(delta), 0) FROM journal WHERE kind = 'consume'"))
            .as("credits consumed = operations recorded").isEqualTo(c.number(
                "SELECT count(*) FROM operations WHERE kind = 'consume'"));
      }
    } finally {
      load.shutdownNow();
      p.destroyForcibly();
    }
  }

  private static HttpResponse<String> send(HttpClient http, int port, String method, String path, JsonObject body,
                                           String token) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .method(method, HttpRequest.BodyPublishers.ofString(body.encode())).build();
    try {
      return ContractCheck.checked(http.send(request, HttpResponse.BodyHandlers.ofString()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
