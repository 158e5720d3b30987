package io.creditledger.http;

import io.creditledger.support.ContractCheck;
import io.creditledger.support.Api;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A seeded, reproducible fuzz of the HTTP edge: thousands of malformed and hostile requests, with valid tokens so
 * they reach validation, across every endpoint. Every answer must be below 500, an error must be
 * {@code {"error":{"code","message"}}}, no answer may carry a stack trace, and when the fuzz is over the ledger must
 * be exactly as it was: no request may write anything.
 *
 * <p>No request is built to be valid: every request to an operation that writes is broken on purpose (a field
 * missing, mistyped or out of range, an unknown field, a body that is not a JSON object, a wrong content type, a
 * body over the limit, an id that breaks the id rules), or aimed at a user, grant or outbox row that does not
 * exist, or refused by a rule (an operationId already used for another request, a consumption far beyond the
 * balance, a user already referred). So an answer of 2xx to one of them, or any change in the database, is a bug.
 *
 * <p>The seed is printed in every failure; rerun one with {@code -Dedge.fuzz.seed=<seed>}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("slow")
class EdgeFuzzTest {
  static final long SEED = Long.getLong("edge.fuzz.seed", 0x5EED_2026_1125L);
  static final int RANDOM_REQUESTS = 3200;
  static final int BODY_LIMIT = 65536;
  static final String WEBHOOK_SECRET = "whsec_edge_fuzz_0123456789abcdef";
  static final String VAULT_SECRET = "edge-fuzz-vault-secret-32-bytes!"; // exactly 32 bytes
  static final List<String> MARKERS = List.of("Exception", "\tat ", "java.", "io.vertx");
  static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]*");
  static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}");

  static final String ALICE = "fz-alice";
  static final String BOB = "fz-bob";
  /** Only the hand-written probes touch carol, so a probe that writes shows up in the final diff under her name. */
  static final String CAROL = "fz-carol";
  static final List<String> KEY_TYPES = List.of("anthropic", "gemini", "openai");

  static TestApp app;

  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET,
      "API_KEY_ENCRYPTION_SECRET", VAULT_SECRET), started -> app = started);

  static HttpClient http;
  static ExecutorService executor;
  static String base;
  static Random rnd;

  static Map<String, List<String>> tablesBefore;
  static Map<String, String> viewsBefore;
  static final List<String> seedOps = new ArrayList<>();
  static final List<Long> outboxIds = new ArrayList<>();
  static final Set<String> realRoutes = new LinkedHashSet<>();

  static int sent;
  static int skipped;
  static final List<String> skippedExamples = new ArrayList<>();

  // ---- boot and seed

  @BeforeAll
  static void prepare() {
    executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "edge-fuzz-http");
      t.setDaemon(true);
      return t;
    });
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
        .connectTimeout(Duration.ofSeconds(5)).build();
    base = "http://127.0.0.1:" + app.ledger.httpPort();

    app.user(ALICE, new JsonObject().put("email", "alice@example.com").put("stripeCustomerId", "cus_fzalice")
        .put("centsPerCredit", "0.5"));
    app.user(BOB, new JsonObject().put("email", "bob@example.com"));
    seed(app.grant(ALICE, "fz-a-p1", "purchase", 1000), 201);
    seed(app.grant(ALICE, "fz-a-adm", "admin", 50), 201);
    seed(app.grant(ALICE, "fz-a-roll", "rollover", 10), 201);
    seed(app.admin.post("/v1/grants/fz-a-roll/revoke", new JsonObject().put("reason", "seed")), 200);
    seed(app.grant(BOB, "fz-b-p1", "purchase", 300), 201);
    app.user(CAROL, new JsonObject().put("email", "carol@example.com"));
    seed(app.grant(CAROL, "fz-c-p1", "purchase", 200), 201);
    seed(app.api.post("/v1/referrals", new JsonObject().put("operationId", "fz-ref-1").put("referrerId", ALICE)
        .put("referredId", BOB).put("credits", 25)), 201);
    seed(app.consume(ALICE, "fz-a-c1", 120), 200);
    seed(app.consume(BOB, "fz-b-c1", 30), 200);
    seed(app.api.put("/v1/users/" + ALICE + "/api-keys/openai", new JsonObject().put("apiKey", "sk-fz-alice-0123456789")), 201);

    for (String user : List.of(ALICE, BOB, CAROL)) {
      app.grants(user).forEach(g -> seedOps.add(((JsonObject) g).getString("operationId")));
    }
    seedOps.addAll(List.of("fz-ref-1", "fz-a-c1", "fz-b-c1"));
    seedOps.removeIf(op -> !ID.matcher(op).matches()); // the free grants' ids hold '/': not usable in a body
    app.admin.get("/v1/admin/outbox?limit=500").json().getJsonArray("rows")
        .forEach(r -> outboxIds.add(((JsonObject) r).getLong("outboxId")));
    assertThat(outboxIds).as("alice has a Stripe customer: her grants wait in the outbox").isNotEmpty();

    for (String route : List.of("GET /health", "GET /ready", "PUT /v1/users/{}", "GET /v1/users/{}",
        "POST /v1/users/{}/grants", "GET /v1/users/{}/grants", "POST /v1/users/{}/consume", "GET /v1/users/{}/balance",
        "GET /v1/users/{}/ledger", "POST /v1/grants/{}/revoke", "POST /v1/referrals", "PUT /v1/users/{}/api-keys/{}",
        "GET /v1/users/{}/api-keys/{}", "DELETE /v1/users/{}/api-keys/{}", "POST /v1/stripe/webhook",
        "GET /v1/admin/outbox", "POST /v1/admin/outbox/{}/retry", "POST /v1/admin/resets/run", "GET /v1/admin/audit")) {
      realRoutes.add(route);
    }

    tablesBefore = tables();
    viewsBefore = views();
  }

  static void seed(Api.Response r, int status) {
    if (r.status() != status) {
      throw new AssertionError("seeding: " + r);
    }
  }

  @AfterAll
  static void stop() {
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  // ---- requests and what their answers must look like

  /** What an answer may be: any status of {@code statuses}, or (when empty) any in [min, max]; codes when given. */
  record Expect(int min, int max, Set<Integer> statuses, Set<String> codes) {
    static Expect anyBelow500() {
      return new Expect(200, 499, Set.of(), Set.of());
    }

    static Expect clientError() {
      return new Expect(400, 499, Set.of(), Set.of());
    }

    static Expect status(int status, String... codes) {
      return new Expect(status, status, Set.of(status), Set.of(codes));
    }

    static Expect oneOf(Set<Integer> statuses) {
      return new Expect(0, 0, statuses, Set.of());
    }

    boolean allows(int status) {
      return statuses.isEmpty() ? status >= min && status <= max : statuses.contains(status);
    }

    @Override
    public String toString() {
      return (statuses.isEmpty() ? min + ".." + max : statuses.toString()) + (codes.isEmpty() ? "" : " " + codes);
    }
  }

  static final class Case {
    final String family;
    String label;
    String method = "GET";
    String path;
    String token = TestApp.SERVICE_TOKEN;
    String contentType;
    byte[] body;
    final List<String[]> headers = new ArrayList<>();
    Expect expect = Expect.anyBelow500();
    /** A request written byte for byte on a socket, for what java.net.http refuses to send. */
    String raw;

    Case(String family, String label) {
      this.family = family;
      this.label = label;
    }

    Case json(String method, String path, String bodyText) {
      this.method = method;
      this.path = path;
      this.contentType = "application/json";
      this.body = bodyText == null ? null : bodyText.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    Case get(String path) {
      this.method = "GET";
      this.path = path;
      return this;
    }

    Case token(String token) {
      this.token = token;
      return this;
    }

    Case expect(Expect expect) {
      this.expect = expect;
      return this;
    }

    Case header(String name, String value) {
      headers.add(new String[] {name, value});
      return this;
    }

    String describe() {
      StringBuilder s = new StringBuilder();
      if (raw != null) {
        return "[" + family + "] " + label + "\n      raw request: " + printable(raw, 300);
      }
      s.append('[').append(family).append("] ").append(label).append("\n      ").append(method).append(' ')
          .append(printable(path, 300));
      s.append("\n      Authorization: ").append(token == null ? "(none)" : token.equals(TestApp.ADMIN_TOKEN)
          ? "Bearer <admin token>" : token.equals(TestApp.SERVICE_TOKEN) ? "Bearer <service token>" : token);
      s.append("\n      Content-Type: ").append(contentType == null ? "(none)" : contentType);
      for (String[] h : headers) {
        s.append("\n      ").append(printable(h[0], 80)).append(": ").append(printable(h[1], 200));
      }
      if (body != null) {
        s.append("\n      body (").append(body.length).append(" bytes): ")
            .append(printable(new String(body, StandardCharsets.UTF_8), 400));
      }
      s.append("\n      expected: ").append(expect);
      return s.toString();
    }
  }

  record Answer(int status, String contentType, String body) {
    @Override
    public String toString() {
      return status + " " + (contentType == null ? "(no content type)" : contentType) + " " + printable(body, 400);
    }
  }

  /** Sends the case; null when java.net.http refuses to build it (CRLF in a header, a restricted header). */
  static Answer send(Case c) throws IOException, InterruptedException {
    if (c.raw != null) {
      sent++;
      return sendRaw(c.raw);
    }
    HttpRequest request;
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + c.path)).timeout(Duration.ofSeconds(20));
      if (c.token != null) {
        b.header("Authorization", "Bearer " + c.token);
      }
      if (c.contentType != null) {
        b.header("Content-Type", c.contentType);
      }
      for (String[] h : c.headers) {
        b.header(h[0], h[1]);
      }
      b.method(c.method, c.body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body));
      request = b.build();
    } catch (IllegalArgumentException e) {
      // the client will not put CRLF into a header, nor send restricted headers or methods: they never reach the server
      skipped++;
      if (skippedExamples.size() < 5) {
        skippedExamples.add(c.label + ": " + e.getMessage().replaceAll("[\\r\\n]", "\\\\n"));
      }
      return null;
    }
    sent++;
    HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    Answer answer = new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(null),
        new String(r.body(), StandardCharsets.UTF_8));
    ContractCheck.get().check(c.method, request.uri().getRawPath(), answer.status(), answer.contentType(), answer.body());
    return answer;
  }

  /** One HTTP/1.1 request on its own connection; reads the status, the headers and a Content-Length body. */
  static Answer sendRaw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", app.ledger.httpPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.write(b);
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      if (lines.length == 0 || lines[0].split(" ").length < 2) {
        throw new IOException("no HTTP answer, got \"" + printable(head.toString(StandardCharsets.ISO_8859_1), 200) + "\"");
      }
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      String contentType = null;
      int length = 0;
      for (String line : lines) {
        String lower = line.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-type:")) {
          contentType = line.substring(13).trim();
        } else if (lower.startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      byte[] body = in.readNBytes(length);
      return new Answer(status, contentType, new String(body, StandardCharsets.UTF_8));
    }
  }

  /** Every rule an answer must keep; returns what it broke (empty when fine). */
  static List<String> problems(Case c, Answer a) {
    List<String> problems = new ArrayList<>();
    if (a.status() >= 500) {
      problems.add("answered " + a.status() + " (never 5xx: the database is healthy)");
    } else if (a.status() < 200 || a.status() >= 300 && a.status() < 400) {
      problems.add("answered " + a.status());
    }
    for (String marker : MARKERS) {
      if (a.body().contains(marker)) {
        problems.add("the body carries a stack-trace marker \"" + marker.replace("\t", "\\t") + "\"");
      }
    }
    boolean head = c.method.equals("HEAD");
    if (a.status() >= 400 && !head) {
      String shape = errorShape(a);
      if (shape != null) {
        problems.add(shape);
      }
    } else if (a.status() < 300 && !head) {
      try {
        new JsonObject(a.body());
      } catch (RuntimeException e) {
        problems.add("a 2xx answer that is not a JSON object");
      }
    }
    if (a.status() >= 500) {
      return problems; // already said: one group per cause is enough
    }
    if (!c.expect.allows(a.status())) {
      problems.add("expected " + c.expect + ", answered " + a.status());
    } else if (!c.expect.codes().isEmpty() && a.status() >= 400 && !head) {
      String code = errorCode(a.body());
      if (!c.expect.codes().contains(code)) {
        problems.add("expected code " + c.expect.codes() + ", got " + code);
      }
    }
    return problems;
  }

  static String errorShape(Answer a) {
    if (a.contentType() == null || !a.contentType().toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return "an error answer (" + a.status() + ") without Content-Type application/json";
    }
    JsonObject json;
    try {
      json = new JsonObject(a.body());
    } catch (RuntimeException e) {
      return "an error answer (" + a.status() + ") whose body is not a JSON object";
    }
    Object error = json.getValue("error");
    if (json.size() != 1 || !(error instanceof JsonObject e)) {
      return "an error answer (" + a.status() + ") not shaped {\"error\":{...}}";
    }
    if (!(e.getValue("code") instanceof String code) || !CODE.matcher(code).matches()
        || !(e.getValue("message") instanceof String)) {
      return "an error answer (" + a.status() + ") without a snake_case code and a message";
    }
    return null;
  }

  static String errorCode(String body) {
    try {
      return new JsonObject(body).getJsonObject("error").getString("code");
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Sends every case and returns the broken rules, grouped by family and rule, with the first examples of each. */
  static Map<String, List<String>> run(List<Case> cases) throws InterruptedException {
    Map<String, List<String>> failures = new TreeMap<>();
    for (Case c : cases) {
      Answer a;
      try {
        a = send(c);
      } catch (HttpTimeoutException e) {
        failures.computeIfAbsent("[" + c.family + "] no answer within 20 s", k -> new ArrayList<>()).add(c.describe());
        continue;
      } catch (IOException e) {
        failures.computeIfAbsent("[" + c.family + "] no answer: " + e, k -> new ArrayList<>()).add(c.describe());
        continue;
      }
      if (a == null) {
        continue;
      }
      for (String problem : problems(c, a)) {
        failures.computeIfAbsent("[" + c.family + "] " + problem, k -> new ArrayList<>())
            .add(c.describe() + "\n      answer: " + a);
      }
    }
    return failures;
  }

  static String report(String what, int requests, Map<String, List<String>> failures) {
    StringBuilder s = new StringBuilder(what + " (seed " + SEED + ", rerun with -Dedge.fuzz.seed=" + SEED + "): "
        + requests + " requests, " + failures.values().stream().mapToInt(List::size).sum() + " broken rules in "
        + failures.size() + " groups\n");
    failures.forEach((rule, examples) -> {
      s.append("\n  ").append(rule).append(" — ").append(examples.size()).append(" request(s), e.g.\n");
      examples.stream().limit(3).forEach(e -> s.append("    - ").append(e).append('\n'));
    });
    return s.toString();
  }

  // ---- the tests

  /** Hand-written hostile requests, one or a few of each kind the fuzz generates, with the exact answer expected. */
  @Test
  @Order(1)
  void hostileProbesAreRefusedCleanly() throws InterruptedException {
    rnd = new Random(SEED);
    int before = sent;
    List<Case> probes = probes();
    Map<String, List<String>> failures = run(probes);
    if (!failures.isEmpty()) {
      fail(report("hostile probes", sent - before, failures));
    }
  }

  @Test
  @Order(2)
  void seededFuzzNeverBreaksTheEdge() throws InterruptedException {
    rnd = new Random(SEED);
    int before = sent;
    Map<String, List<String>> failures = new TreeMap<>();
    int generated = 0;
    while (sent - before < RANDOM_REQUESTS) {
      Case c = randomCase(generated++);
      run(List.of(c)).forEach((k, v) -> failures.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
    }
    System.out.printf("EdgeFuzzTest: seed %d, %d fuzzed requests sent (%d generated, %d refused by java.net.http before "
        + "sending, e.g. %s)%n", SEED, sent - before, generated, skipped, skippedExamples);
    assertThat(sent - before).isGreaterThanOrEqualTo(3000);
    if (!failures.isEmpty()) {
      fail(report("seeded fuzz", sent - before, failures));
    }
  }

  /** After everything the fuzz sent: the ledger, the users, the keys and the outbox are byte for byte as before. */
  @Test
  @Order(3)
  void theFuzzChangedNothing() {
    Map<String, List<String>> tablesAfter = tables();
    StringBuilder diff = new StringBuilder();
    for (String table : tablesBefore.keySet()) {
      List<String> was = tablesBefore.get(table);
      List<String> is = tablesAfter.getOrDefault(table, List.of());
      if (!was.equals(is)) {
        List<String> gone = new ArrayList<>(was);
        gone.removeAll(is);
        List<String> added = new ArrayList<>(is);
        added.removeAll(was);
        diff.append("\n  ").append(table).append(": ").append(was.size()).append(" rows before, ").append(is.size())
            .append(" after");
        gone.stream().limit(10).forEach(r -> diff.append("\n    - ").append(printable(r, 300)));
        added.stream().limit(10).forEach(r -> diff.append("\n    + ").append(printable(r, 300)));
      }
    }
    Map<String, String> viewsAfter = views();
    viewsBefore.forEach((path, text) -> {
      if (!text.equals(viewsAfter.get(path))) {
        diff.append("\n  GET ").append(path).append(" changed:\n    before ").append(printable(text, 300))
            .append("\n    after  ").append(printable(viewsAfter.get(path), 300));
      }
    });
    if (diff.length() > 0) {
      fail("The fuzz (seed " + SEED + ") changed the database; every request was built to write nothing:" + diff);
    }
  }

  // ---- state

  /** Every row of every table a request could write, as text, in a stable order. */
  static Map<String, List<String>> tables() {
    Map<String, List<String>> rows = new TreeMap<>();
    try (SqlSession db = app.db()) {
      for (String table : List.of("users", "grants", "journal", "operations", "referrals", "api_keys", "stripe_outbox",
          "stripe_events", "sync_failure", "reset_claims")) {
        if (db.hasTable(table)) {
          rows.put(table, db.texts("SELECT t::text FROM " + table + " t ORDER BY 1"));
        }
      }
    }
    return rows;
  }

  /** The users as the API shows them: user, balance, grants, journal, keys; and the outbox. */
  static Map<String, String> views() {
    Map<String, String> views = new TreeMap<>();
    List<String> paths = new ArrayList<>();
    for (String user : List.of(ALICE, BOB, CAROL)) {
      paths.addAll(List.of("/v1/users/" + user, "/v1/users/" + user + "/balance", "/v1/users/" + user + "/grants?limit=500",
          "/v1/users/" + user + "/ledger?limit=500"));
      KEY_TYPES.forEach(t -> paths.add("/v1/users/" + user + "/api-keys/" + t));
    }
    paths.add("/v1/admin/outbox?limit=500");
    for (String path : paths) {
      Api.Response r = app.admin.get(path);
      // each answer has its own request id: the rest must not change
      views.put(path, r.status() + " " + r.text().replaceAll("\"requestId\":\"[^\"]*\"", "\"requestId\":\"-\""));
    }
    return views;
  }

  // ---- hand-written probes

  static List<Case> probes() {
    List<Case> p = new ArrayList<>();
    String grants = "/v1/users/" + CAROL + "/grants";

    // text PostgreSQL cannot store, or that is not Unicode: refused as invalid, never a 500 or a silent '?'
    p.add(new Case("text", "NUL in the email of a new user").json("PUT", "/v1/users/fz-probe-nul-email",
        obj("email", q("nul\u0000@example.com"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in the email of an existing user").json("PUT", "/v1/users/" + CAROL,
        obj("email", q("carol\u0000@example.com"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in a grant description").json("POST", grants,
        obj("operationId", q("fz-probe-nul-desc"), "type", q("purchase"), "amount", "5", "description", q("nul\u0000byte")))
        .expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in a revoke reason").json("POST", "/v1/grants/fz-c-p1/revoke",
        obj("reason", q("nul\u0000byte"))).token(TestApp.ADMIN_TOKEN).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in an API key").json("PUT", "/v1/users/" + CAROL + "/api-keys/gemini",
        obj("apiKey", q("sk-nul\u0000byte"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "a lone high surrogate in the email of a new user").json("PUT", "/v1/users/fz-probe-surrogate",
        obj("email", q("lone\ud800@example.com"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "a lone low surrogate in a grant description").json("POST", grants,
        obj("operationId", q("fz-probe-surrogate-desc"), "type", q("purchase"), "amount", "5",
            "description", q("lone \udc00 surrogate"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "a lone surrogate in an API key").json("PUT", "/v1/users/" + CAROL + "/api-keys/gemini",
        obj("apiKey", q("sk-lone\ud800"))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in the path id").get("/v1/users/a%00b").expect(Expect.status(400, "invalid_field")));
    p.add(new Case("text", "NUL in a Stripe customer id").json("PUT", "/v1/users/fz-probe-nul-cus",
        obj("email", q("x@example.com"), "stripeCustomerId", q("cus_\u0000"))).expect(Expect.status(400, "invalid_field")));

    // instants Java reads but PostgreSQL cannot store
    for (String at : List.of("+294277-01-01T00:00:00Z", "+1000000000-12-31T23:59:59Z", "+999999999-12-31T23:59:59.999999999Z")) {
      p.add(new Case("expiresAt", "expiresAt " + at + " (beyond PostgreSQL's timestamptz)").json("POST", grants,
          obj("operationId", q("fz-probe-far-" + Math.abs(at.hashCode())), "type", q("purchase"), "amount", "5",
              "expiresAt", q(at))).expect(Expect.status(400, "invalid_field")));
    }
    for (String at : List.of("tomorrow", "2020-01-01T00:00:00Z", "2026-01-15T10:00:00Z", "2027-13-01T00:00:00Z", "2027-01-01",
        "-999999999-01-01T00:00:00Z", "")) {
      p.add(new Case("expiresAt", "expiresAt " + at).json("POST", grants, obj("operationId", q("fz-probe-exp"),
          "type", q("purchase"), "amount", "5", "expiresAt", q(at))).expect(Expect.status(400, "invalid_field")));
    }

    // numbers
    for (String amount : List.of("1e400", "-1e400", "99999999999999999999999", "9223372036854775808", "-0", "0", "-5", "1.5",
        "0.0", "1e-400", "1000000001", "\"10\"", "\"NaN\"", "\"Infinity\"", "true", "[]", "{}", "[1]")) {
      p.add(new Case("numbers", "consume amount " + amount).json("POST", "/v1/users/" + ALICE + "/consume",
          obj("operationId", q("fz-probe-num"), "amount", amount)).expect(Expect.status(400, "invalid_field")));
    }
    for (String amount : List.of("NaN", "Infinity", "-Infinity", "0x10", "01", "+1", "1.", ".5", "9".repeat(2000))) {
      p.add(new Case("numbers", "grant amount " + printable(amount, 20) + " (not JSON)").json("POST", grants,
          obj("operationId", q("fz-probe-num"), "type", q("purchase"), "amount", amount)).expect(Expect.clientError()));
    }
    for (String cents : List.of("0", "-1", "1e400", "\"1e400\"", "\"NaN\"", "\"Infinity\"", "0.00001", "1000001", "\"-0.5\"",
        "\"\"", "\" \"", "[]", "true", "\"1e-999999999\"", "\"1e999999999\"", "1e-400")) {
      p.add(new Case("numbers", "centsPerCredit " + cents).json("PUT", "/v1/users/fz-probe-cents",
          obj("email", q("c@example.com"), "centsPerCredit", cents)).expect(Expect.status(400, "invalid_field")));
    }

    // SQL injection and path injection in ids
    for (String id : List.of("'; DROP TABLE users;--", "1 OR 1=1", "1' OR '1'='1", "fz-alice' --", "fz-alice\" OR \"\"=\"")) {
      p.add(new Case("injection", "SQL in the path id " + id).get("/v1/users/" + enc(id, false) + "/balance")
          .expect(Expect.status(400, "invalid_field")));
      p.add(new Case("injection", "SQL in operationId " + id).json("POST", "/v1/users/" + ALICE + "/consume",
          obj("operationId", q(id), "amount", "1")).expect(Expect.status(400, "invalid_field")));
      p.add(new Case("injection", "SQL in referrerId " + id).json("POST", "/v1/referrals",
          obj("operationId", q("fz-probe-sql"), "referrerId", q(id), "referredId", q(BOB), "credits", "1"))
          .expect(Expect.status(400, "invalid_field")));
      p.add(new Case("injection", "SQL in the outbox id " + id).json("POST", "/v1/admin/outbox/" + enc(id, false) + "/retry", null)
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(400, "invalid_field")));
    }
    for (String segment : List.of("%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2F..%2Fadmin", "a%2Fb", "%00", "a%20b", "%20",
        "%E2%80%AE", "%F0%9F%98%80", "a%C0%AFb", "a%FFb", "x".repeat(300), "%2e%2e", "a%3Bb", "a%3Fb", "a%23b")) {
      p.add(new Case("injection", "path id " + printable(segment, 40)).get("/v1/users/" + segment + "/ledger")
          .expect(Expect.clientError()));
      p.add(new Case("injection", "path id " + printable(segment, 40) + " in a grant with a valid body")
          .json("POST", "/v1/users/" + segment + "/grants",
              obj("operationId", q("fz-probe-path"), "type", q("purchase"), "amount", "5")).expect(Expect.clientError()));
      p.add(new Case("injection", "path type " + printable(segment, 40)).json("PUT",
          "/v1/users/" + BOB + "/api-keys/" + segment, obj("apiKey", q("sk-path"))).expect(Expect.clientError()));
    }

    // bodies that are not a JSON object, deeply nested, duplicated keys, unknown fields
    for (String body : List.of("", "null", "[]", "[{}]", "\"str\"", "42", "true", "{", "}", "{\"operationId\":", "{}garbage",
        "{'operationId':'x'}", "{\"a\":1,}", "/* c */ []", "\uFEFF[]", " ", "[" .repeat(200) + "]".repeat(200),
        "[".repeat(5000) + "]".repeat(5000))) {
      p.add(new Case("not an object", "consume body " + printable(body, 30)).json("POST", "/v1/users/" + ALICE + "/consume", body)
          .expect(Expect.status(400, "invalid_json")));
    }
    p.add(new Case("nesting", "200 levels inside a field").json("POST", "/v1/users/" + ALICE + "/consume",
        obj("operationId", q("fz-probe-deep"), "amount", nested(200))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("nesting", "5000 levels inside a field").json("POST", "/v1/users/" + ALICE + "/consume",
        obj("operationId", q("fz-probe-deep"), "amount", nested(5000))).expect(Expect.clientError()));
    p.add(new Case("nesting", "200 levels of objects as the body").json("PUT", "/v1/users/fz-probe-deep",
        "{\"email\":\"d@example.com\",\"x\":" + nestedObjects(200) + "}").expect(Expect.status(400, "unknown_field")));
    p.add(new Case("duplicates", "amount twice, both invalid").json("POST", "/v1/users/" + ALICE + "/consume",
        "{\"operationId\":\"fz-probe-dup\",\"amount\":0,\"amount\":\"1\"}").expect(Expect.clientError()));
    p.add(new Case("duplicates", "email twice, the last invalid").json("PUT", "/v1/users/fz-probe-dup",
        "{\"email\":\"d@example.com\",\"centsPerCredit\":0,\"email\":\"not an email\"}").expect(Expect.clientError()));
    for (String name : List.of("balance", "__proto__", "constructor", "$where", "'; DROP TABLE users;--", "Amount", "",
        "amount ", "isAdmin", "\u0000", "\ud800", "😀")) {
      p.add(new Case("unknown field", "unknown field " + printable(name, 20)).json("POST", grants,
          obj("operationId", q("fz-probe-unknown"), "type", q("purchase"), "amount", "5", name, "1"))
          .expect(Expect.status(400, "unknown_field")));
    }

    // invalid UTF-8
    byte[] valid = obj("operationId", q("fz-probe-utf8"), "amount", "5").getBytes(StandardCharsets.UTF_8);
    for (byte[] bad : List.of(new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0x80},
        new byte[] {(byte) 0xFE, (byte) 0xFF})) {
      byte[] body = splice(valid, "fz-probe".length() + 16, bad);
      Case c = new Case("utf-8", "invalid UTF-8 " + Arrays.toString(bad)).json("POST", "/v1/users/" + ALICE + "/consume", null)
          .expect(Expect.status(400, "invalid_json"));
      c.body = body;
      p.add(c);
      Case w = new Case("utf-8", "invalid UTF-8 to the webhook").json("POST", "/v1/stripe/webhook", null).token(null)
          .expect(Expect.status(400, "invalid_signature"));
      w.body = body;
      p.add(w);
    }

    // content types and body sizes, on every route that reads a body (valid bodies, aimed at nothing that exists)
    Map<String, String[]> bodyRoutes = new LinkedHashMap<>();
    bodyRoutes.put("PUT user", new String[] {"PUT", "/v1/users/fz-probe-ct", obj("email", q("ct@example.com")) + "!"});
    bodyRoutes.put("grant", new String[] {"POST", "/v1/users/fz-ghost-ct/grants",
        obj("operationId", q("fz-probe-ct"), "type", q("purchase"), "amount", "5")});
    bodyRoutes.put("consume", new String[] {"POST", "/v1/users/fz-ghost-ct/consume", obj("operationId", q("fz-probe-ct"), "amount", "5")});
    bodyRoutes.put("revoke", new String[] {"POST", "/v1/grants/fz-ghost-ct/revoke", obj("reason", q("ct"))});
    bodyRoutes.put("referral", new String[] {"POST", "/v1/referrals",
        obj("operationId", q("fz-probe-ct"), "referrerId", q("fz-ghost-ct"), "referredId", q(BOB), "credits", "5")});
    bodyRoutes.put("api key", new String[] {"PUT", "/v1/users/fz-ghost-ct/api-keys/openai", obj("apiKey", q("sk-ct"))});
    for (Map.Entry<String, String[]> route : bodyRoutes.entrySet()) {
      String[] r = route.getValue();
      for (String ct : Arrays.asList(null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
          "application/xml", "text/json", "application/jso", "*/*", "application/vnd.api+json")) {
        Case c = new Case("content type", route.getKey() + " sent as " + ct).json(r[0], r[1], r[2])
            .token(TestApp.ADMIN_TOKEN).expect(Expect.status(415, "unsupported_media_type"));
        c.contentType = ct;
        p.add(c);
      }
      Case noBody = new Case("content type", route.getKey() + " without body or content type").json(r[0], r[1], null)
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(415, "unsupported_media_type"));
      noBody.contentType = null;
      p.add(noBody);
      p.add(new Case("size", route.getKey() + " with a body of exactly the limit").json(r[0], r[1], padded(BODY_LIMIT))
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(400, "unknown_field", "invalid_json")));
      p.add(new Case("size", route.getKey() + " with a body one byte over the limit").json(r[0], r[1], padded(BODY_LIMIT + 1))
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(413, "body_too_large")));
      p.add(new Case("size", route.getKey() + " with a 300 KiB body").json(r[0], r[1], padded(300 * 1024))
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(413, "body_too_large")));
      String tenK = q("x".repeat(10_000));
      p.add(new Case("size", route.getKey() + " with 10k-character strings").json(r[0], r[1],
          obj("operationId", tenK, "email", tenK, "description", tenK, "reason", tenK, "apiKey", tenK, "referrerId", tenK))
          .token(TestApp.ADMIN_TOKEN).expect(Expect.status(400, "unknown_field", "invalid_field")));
    }
    p.add(new Case("size", "webhook one byte over the limit").json("POST", "/v1/stripe/webhook", padded(BODY_LIMIT + 1)).token(null)
        .expect(Expect.status(413, "body_too_large")));

    // rules that refuse otherwise valid requests
    p.add(new Case("rules", "an admin grant with the service token").json("POST", grants,
        obj("operationId", q("fz-probe-admin"), "type", q("admin"), "amount", "5")).expect(Expect.status(403, "forbidden")));
    p.add(new Case("rules", "a revoke with the service token").json("POST", "/v1/grants/fz-a-p1/revoke", obj("reason", q("x")))
        .expect(Expect.status(403, "forbidden")));
    p.add(new Case("rules", "a consumption far beyond the balance").json("POST", "/v1/users/" + ALICE + "/consume",
        obj("operationId", q("fz-probe-overdraft"), "amount", "1000000000")).expect(Expect.status(402, "insufficient_credits")));
    p.add(new Case("rules", "a used operationId with another amount").json("POST", "/v1/users/" + ALICE + "/consume",
        obj("operationId", q("fz-a-p1"), "amount", "7")).expect(Expect.status(409, "operation_conflict")));
    p.add(new Case("rules", "a user referred twice").json("POST", "/v1/referrals", obj("operationId", q("fz-probe-ref"),
        "referrerId", q(ALICE), "referredId", q(BOB), "credits", "5")).expect(Expect.status(409, "already_referred")));
    p.add(new Case("rules", "a self-referral").json("POST", "/v1/referrals", obj("operationId", q("fz-probe-ref"),
        "referrerId", q(ALICE), "referredId", q(ALICE), "credits", "5")).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("rules", "an unknown key type").json("PUT", "/v1/users/" + ALICE + "/api-keys/claude",
        obj("apiKey", q("sk-x"))).expect(Expect.status(400, "unknown_key_type")));
    p.add(new Case("rules", "a key with spaces around it").json("PUT", "/v1/users/" + ALICE + "/api-keys/openai",
        obj("apiKey", q(" sk-x "))).expect(Expect.status(400, "invalid_field")));
    p.add(new Case("rules", "an outbox row that does not exist").json("POST", "/v1/admin/outbox/999999999/retry", null)
        .token(TestApp.ADMIN_TOKEN).expect(Expect.status(404, "outbox_row_not_found")));
    p.add(new Case("rules", "an outbox status that does not exist").get("/v1/admin/outbox?status=%27%20OR%201%3D1")
        .token(TestApp.ADMIN_TOKEN).expect(Expect.status(400, "invalid_field")));

    // query parameters
    for (String q : List.of("limit=abc", "limit=", "limit=0", "limit=-1", "limit=501", "limit=1e3", "limit=9223372036854775808",
        "limit=%00", "limit=1%3BDROP%20TABLE%20journal", "before=0", "before=-9223372036854775808", "before=abc",
        "before=1.5", "limit=abc&limit=5", "limit=%E2%80%AE5", "limit=1%20OR%201%3D1", "before=%27%3B%20DROP%20TABLE%20journal%3B--")) {
      p.add(new Case("query", "ledger?" + q).get("/v1/users/" + ALICE + "/ledger?" + q).expect(Expect.status(400, "invalid_field")));
      p.add(new Case("query", "grants?" + q).get("/v1/users/" + BOB + "/grants?" + q).expect(Expect.status(400, "invalid_field")));
      p.add(new Case("query", "outbox?" + q).get("/v1/admin/outbox?" + q).token(TestApp.ADMIN_TOKEN)
          .expect(Expect.status(400, "invalid_field")));
    }
    for (String q : List.of("limit=5&limit=abc", "limit=%2B5", "limit=500&before=9223372036854775807", "x=%00&limit=1",
        "limit=1&&&before", "status=dead&status=%27")) {
      p.add(new Case("query", "ledger?" + q).get("/v1/users/" + ALICE + "/ledger?" + q));
      p.add(new Case("query", "outbox?" + q).get("/v1/admin/outbox?" + q).token(TestApp.ADMIN_TOKEN));
    }

    // the webhook: without a valid signature, always 400 invalid_signature (or stale / unreadable), never 401
    for (String[] w : List.of(new String[] {"", null}, new String[] {"", "t=1,v1=abc"}, new String[] {"{}", null},
        new String[] {"{}", ""}, new String[] {"{}", "x".repeat(5000)}, new String[] {"{}", "t=abc,v1=zz"},
        new String[] {"null", null}, new String[] {"[]", "t=" + now() + ",v1=" + "0".repeat(64)},
        new String[] {eventFor(ALICE), "t=" + now() + ",v1=" + "0".repeat(64)},
        new String[] {eventFor(ALICE), "t=" + (now() - 100_000) + ",v1=" + "0".repeat(64)})) {
      Case c = new Case("webhook", "webhook body " + printable(w[0], 30) + " signature " + printable(w[1], 30))
          .json("POST", "/v1/stripe/webhook", w[0]).token(null)
          .expect(Expect.status(400, "invalid_signature", "stale_timestamp", "invalid_payload"));
      if (w[1] != null) {
        c.header("Stripe-Signature", w[1]);
      }
      p.add(c);
    }

    // methods and paths that do not exist
    for (String method : List.of("PATCH", "OPTIONS", "TRACE", "FOO", "PROPFIND", "get", "DELETE")) {
      for (String path : List.of("/v1/users/" + ALICE, "/v1/users/" + ALICE + "/grants", "/v1/users/" + ALICE + "/consume",
          "/v1/referrals", "/v1/admin/resets/run", "/v1/grants/fz-a-p1/revoke", "/v1/stripe/webhook")) {
        p.add(new Case("methods", method + " " + path).json(method, path, "{}").token(TestApp.ADMIN_TOKEN)
            .expect(Expect.oneOf(Set.of(404, 405))));
      }
    }
    for (String path : List.of("/", "/v1", "/v1/", "/v2/users/" + ALICE, "/v1/users", "/v1/users/" + ALICE + "/grants/1",
        "/v1/admin", "/v1/admin/outbox/1", "/.env", "/v1/users/" + ALICE + "/api-keys", "/v1/users/" + ALICE + "/api-keys/openai/x",
        "/health/x", "/v1/stripe/webhook/x", "/V1/users/" + ALICE, "/v1/users/" + ALICE + "/balance.json",
        "/console/nothing-here.js", "/console/.env", "/console/..%2flogback.xml", "/console/%2e%2e/pom.xml")) {
      p.add(new Case("paths", "GET " + path).get(path).token(TestApp.ADMIN_TOKEN).expect(Expect.status(404, "not_found")));
    }

    // header injection: java.net.http will not send CRLF in a header, so these never reach the server
    for (String[] h : List.of(new String[] {"X-Note", "a\r\nAuthorization: Bearer " + TestApp.ADMIN_TOKEN},
        new String[] {"X-Note", "a\nX-Injected: 1"}, new String[] {"X-Note", "a\rb"},
        new String[] {"Content-Type", "application/json\r\nX-Injected: 1"}, new String[] {"X Bad Name", "1"},
        new String[] {"Content-Length", "5"}, new String[] {"Host", "evil.example"})) {
      p.add(new Case("headers", "header " + printable(h[0], 20) + ": " + printable(h[1], 40)).get("/v1/users/" + ALICE)
          .header(h[0], h[1]));
    }
    for (String[] h : List.of(new String[] {"X-HTTP-Method-Override", "DELETE"}, new String[] {"X-Original-URL", "/v1/admin/resets/run"},
        new String[] {"X-Forwarded-For", "127.0.0.1, ' OR 1=1 --"}, new String[] {"Accept", "text/html"},
        new String[] {"Accept-Encoding", "gzip, deflate, br"}, new String[] {"X-Long", "h".repeat(3000)},
        new String[] {"Stripe-Signature", "t=1,v1=0"}, new String[] {"Authorization", "Bearer wrong-second-token"})) {
      p.add(new Case("headers", "header " + h[0] + ": " + printable(h[1], 40)).get("/v1/users/" + ALICE).header(h[0], h[1])
          .expect(Expect.status(200)));
    }

    // a form or multipart content type on a request without a body method
    for (String method : List.of("GET", "OPTIONS", "TRACE", "FOO")) {
      for (String ct : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=x")) {
        for (String body : Arrays.asList(null, "a=1&b=2")) {
          String path = method.equals("GET") ? "/v1/users/" + ALICE + "/balance" : "/v1/users/" + ALICE;
          Case c = new Case("form on " + method, method + " " + path + " as " + ct + (body == null ? " without body" : " with a body"))
              .json(method, path, body).expect(method.equals("GET") ? Expect.anyBelow500() : Expect.clientError());
          c.contentType = ct;
          p.add(c);
        }
      }
    }

    // a JSON body sent as a form or as multipart: the API reads only JSON, so 415 (not the form decoder's 400)
    for (String ct : List.of("multipart/form-data; boundary=x", "application/x-www-form-urlencoded")) {
      for (String body : List.of(obj("reason", q("x".repeat(2000))), obj("reason", q("😀".repeat(500))), obj("reason", q("ct")))) {
        Case c = new Case("content type", "revoke sent as " + ct + ", " + body.length() + " bytes")
            .json("POST", "/v1/grants/fz-ghost-ct/revoke", body).token(TestApp.ADMIN_TOKEN)
            .expect(Expect.status(415, "unsupported_media_type"));
        c.contentType = ct;
        p.add(c);
      }
    }

    // requests java.net.http will not send, written on a socket
    String auth = "Authorization: Bearer " + TestApp.ADMIN_TOKEN + "\r\n";
    p.add(rawCase("a malformed escape in the path", "GET /v1/users/a%zz HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
        Expect.status(400)));
    p.add(rawCase("a malformed escape in the query", "GET /v1/users/" + ALICE + "/ledger?limit=%zz HTTP/1.1\r\nHost: x\r\n" + auth
        + "\r\n", Expect.status(400)));
    p.add(rawCase("a truncated escape in the query", "GET /v1/users/" + ALICE + "/ledger?limit=5% HTTP/1.1\r\nHost: x\r\n" + auth
        + "\r\n", Expect.status(400)));
    p.add(rawCase("raw UTF-8 in the path", "GET /v1/users/fz-\u00e9l\u00e8ve HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
        Expect.status(400, "invalid_field")));
    p.add(rawCase("a 10k-character path", "GET /v1/users/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
        Expect.clientError()));
    p.add(rawCase("a 10k-character header", "GET /v1/users/" + ALICE + " HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(10_000)
        + "\r\n" + auth + "\r\n", Expect.clientError()));
    return p;
  }

  static Case rawCase(String label, String raw, Expect expect) {
    Case c = new Case("raw", label).expect(expect);
    c.raw = raw;
    return c;
  }

  // ---- the seeded generator

  static final String[] FAMILIES = {"user", "grant", "consume", "revoke", "referral", "key-put", "key-delete",
      "outbox-retry", "read", "resets", "webhook", "no-route", "headers"};
  static final int[] WEIGHTS = {12, 16, 11, 7, 9, 8, 4, 4, 15, 1, 7, 4, 2};

  static Case randomCase(int n) {
    for (int attempt = 0; ; attempt++) {
      String family = weighted(FAMILIES, WEIGHTS);
      Case c = switch (family) {
        case "user" -> userCase();
        case "grant" -> grantCase();
        case "consume" -> consumeCase();
        case "revoke" -> revokeCase();
        case "referral" -> referralCase();
        case "key-put" -> keyPutCase();
        case "key-delete" -> keyDeleteCase();
        case "outbox-retry" -> outboxRetryCase();
        case "read" -> readCase();
        case "resets" -> resetsCase();
        case "webhook" -> webhookCase();
        case "no-route" -> noRouteCase();
        default -> headersCase();
      };
      c.label = "#" + n + " " + c.label;
      // a response may echo a field name or id: keep the stack-trace markers out of what is sent
      String text = c.path + (c.body == null ? "" : new String(c.body, StandardCharsets.UTF_8));
      if (MARKERS.stream().noneMatch(text::contains) || attempt > 20) {
        return c;
      }
    }
  }

  /** How a body that writes is made unable to write. */
  enum Mode { BROKEN, MISSING_TARGET, RULE }

  /** A body as ordered fields of JSON text (valid values), broken on demand. */
  static final class Body {
    final LinkedHashMap<String, String> fields = new LinkedHashMap<>();
    final Map<String, Supplier<String>> invalid = new LinkedHashMap<>();
    final Set<String> required = new LinkedHashSet<>();
    final Set<String> allowed = new LinkedHashSet<>();
    String whole;
    boolean broken;
    boolean unparseable;
    String why = "";

    Body field(String name, String validJson, boolean required, Supplier<String> invalidJson) {
      if (validJson != null) {
        fields.put(name, validJson);
      }
      invalid.put(name, invalidJson);
      allowed.add(name);
      if (required) {
        this.required.add(name);
      }
      return this;
    }

    /** Makes the body invalid in one way that no reading of it can repair. */
    void breakOnce() {
      int choice = rnd.nextInt(100);
      List<String> names = new ArrayList<>(invalid.keySet());
      if (choice < 55) {
        String name = pick(names);
        fields.put(name, invalid.get(name).get());
        why += " " + name + " invalid;";
      } else if (choice < 70 && !required.isEmpty()) {
        String name = pick(new ArrayList<>(required));
        fields.remove(name);
        why += " " + name + " missing;";
      } else if (choice < 85) {
        String name;
        do {
          name = pick(UNKNOWN_FIELDS);
        } while (ALL_FIELDS.contains(name));
        fields.put(name, anyJson(3));
        why += " unknown field;";
      } else {
        whole = pick(NOT_OBJECTS).get();
        unparseable = true;
        why += " not an object;";
      }
      broken = true;
    }

    /** Valid-but-hostile noise that never repairs a broken body: reordering, unicode in free text. */
    void noise() {
      if (rnd.nextInt(4) == 0 && fields.size() > 1) {
        List<Map.Entry<String, String>> entries = new ArrayList<>(fields.entrySet());
        java.util.Collections.shuffle(entries, rnd);
        fields.clear();
        entries.forEach(e -> fields.put(e.getKey(), e.getValue()));
      }
    }

    String text() {
      if (whole != null) {
        return whole;
      }
      StringBuilder s = new StringBuilder("{");
      String sep = rnd.nextInt(10) == 0 ? " ,\n\t " : ",";
      boolean first = true;
      for (Map.Entry<String, String> e : fields.entrySet()) {
        if (!first) {
          s.append(sep);
        }
        first = false;
        s.append(q(e.getKey())).append(':').append(e.getValue());
      }
      return s.append('}').toString();
    }
  }

  /** Applies a byte-level transformation; returns null when none. Marks unparseable ones. */
  static byte[] transform(Body body) {
    String text = body.text();
    int choice = rnd.nextInt(100);
    if (choice >= 25 || body.whole != null) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    String why;
    String out;
    boolean unparseable = true;
    switch (rnd.nextInt(14)) {
      case 0 -> {
        out = text.substring(0, rnd.nextInt(Math.max(1, text.length())));
        why = "truncated";
      }
      case 1 -> {
        out = text + pick(List.of("garbage", "}", "]", ",", "{}", "\u0000", "x"));
        why = "trailing garbage";
      }
      case 2 -> {
        out = text.replace('"', '\'');
        why = "single quotes";
      }
      case 3 -> {
        out = text.endsWith("}") && text.length() > 2 ? text.substring(0, text.length() - 1) + ",}" : text + ",";
        why = "trailing comma";
      }
      case 4 -> {
        // Vert.x reads JSON with comments allowed: still the same object
        out = "/* comment */" + text;
        why = "comment";
        unparseable = false;
      }
      case 5 -> {
        out = "[" + text + "]";
        why = "wrapped in an array";
      }
      case 6 -> {
        out = "[".repeat(200) + text + "]".repeat(200);
        why = "200 levels of arrays";
      }
      case 7 -> {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] bad = pick(List.of(new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xFE}, new byte[] {(byte) 0x80},
            new byte[] {(byte) 0xC3, 0x28}));
        body.why += " invalid UTF-8;";
        body.unparseable = true;
        return splice(bytes, Math.min(bytes.length, 2 + rnd.nextInt(Math.max(1, bytes.length - 2))), bad);
      }
      case 8 -> {
        out = text.replaceFirst(":", ":NaN,\"x\":");
        why = "NaN literal";
      }
      case 9 -> {
        // still a JSON object: the byte-order mark and whitespace do not change what the body means
        out = "\uFEFF" + text;
        why = "byte-order mark";
        unparseable = false;
      }
      case 10 -> {
        out = " \t\r\n " + text + " \n";
        why = "whitespace";
        unparseable = false;
      }
      case 11 -> {
        // an earlier occurrence of a key with a value invalid everywhere: first-wins or last-wins, still invalid
        out = text.length() > 2 ? "{\"operationId\":[],\"amount\":[],\"email\":[]," + text.substring(1) : text;
        why = "duplicate keys";
        unparseable = false;
        if (!body.broken) {
          return text.getBytes(StandardCharsets.UTF_8);
        }
      }
      case 12 -> {
        out = "";
        why = "empty";
      }
      default -> {
        out = text.replace("{", "{\n").replace(",", ",\n");
        why = "newlines";
        unparseable = false;
      }
    }
    body.why += " " + why + ";";
    body.unparseable |= unparseable;
    return out.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The common part of every body route: the body made unable to write, maybe transformed, maybe sent with the
   * wrong content type or over the size limit; the expectation follows from what was done.
   */
  static Case bodyCase(String family, String method, String path, Body body, Mode mode, Expect ruleExpect,
                       boolean serviceOnAdmin) {
    if (mode == Mode.BROKEN) {
      body.breakOnce();
      if (rnd.nextInt(4) == 0) {
        body.breakOnce();
      }
    }
    body.noise();
    byte[] bytes = transform(body);
    boolean big = false;
    if (rnd.nextInt(60) == 0) {
      String text = new String(bytes, StandardCharsets.UTF_8);
      int target = BODY_LIMIT + 1 + rnd.nextInt(20_000);
      bytes = (text + " ".repeat(Math.max(0, target - bytes.length))).getBytes(StandardCharsets.UTF_8);
      big = bytes.length > BODY_LIMIT;
      body.why += " over the size limit;";
    }
    String contentType = pick(JSON_TYPES);
    boolean wrongType = rnd.nextInt(12) == 0;
    if (wrongType) {
      contentType = pick(WRONG_TYPES);
      body.why += " content type " + contentType + ";";
    }
    Case c = new Case(family, mode + body.why).json(method, path, null);
    c.body = bytes.length == 0 && rnd.nextBoolean() ? null : bytes;
    c.contentType = contentType;

    Set<Integer> early = new TreeSet<>();
    if (mayNotRoute(path)) {
      // a path that normalizes elsewhere (dot segments, empty segments) may find no route, or a route for
      // other methods, before any other check
      early.add(404);
      early.add(405);
    }
    if (big) {
      early.add(413);
    }
    if (serviceOnAdmin) {
      early.add(403);
    }
    if (wrongType) {
      early.add(415);
    }
    if (early.size() == 2 && early.contains(404) && early.contains(405)) {
      early.clear();
    }
    if (!early.isEmpty()) {
      c.expect = early.size() == 1 ? Expect.status(early.iterator().next()) : Expect.oneOf(early);
    } else if (body.unparseable && !body.broken) {
      c.expect = Expect.status(400, "invalid_json");
    } else if (mode == Mode.RULE && !body.unparseable && ruleExpect != null) {
      c.expect = ruleExpect;
    } else {
      c.expect = Expect.clientError();
    }
    if (rnd.nextInt(20) == 0) {
      c.header(pick(List.of("X-Forwarded-For", "X-Request-Id", "Accept-Language", "User-Agent")), pick(HOSTILE_STRINGS)
          .replaceAll("[\\x00-\\x1f\\x7f]", "").replaceAll("[^\\x20-\\x7e]", "?"));
    }
    return c;
  }

  static Case userCase() {
    // never valid: a valid PUT would create or update a user
    String id = pathId(true);
    Body b = new Body()
        .field("email", q(pick(List.of("new@example.com", "😀@example.com", "\u202eevil@example.com", "e\u0301@example.com",
            "مرحبا@example.com", "a+b@example.com"))), true, () -> pick(INVALID_EMAILS))
        .field("stripeCustomerId", rnd.nextBoolean() ? q("cus_" + alnum(8)) : null, false, () -> pick(INVALID_CUSTOMERS))
        .field("centsPerCredit", rnd.nextBoolean() ? pick(List.of("1", "0.5", "\"2.25\"", "1000000", "0.0001")) : null, false,
            () -> pick(INVALID_CENTS));
    if (rnd.nextInt(5) == 0) {
      b.fields.put("userId", pick(List.of(q(ALICE), q(BOB), "42", "[]", q("'; DROP TABLE users;--"))));
    }
    return bodyCase("user", "PUT", "/v1/users/" + id, b, Mode.BROKEN, null, false);
  }

  static Case grantCase() {
    int m = rnd.nextInt(100);
    Mode mode = m < 70 ? Mode.BROKEN : m < 88 ? Mode.MISSING_TARGET : Mode.RULE;
    String token = rnd.nextInt(4) == 0 ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN;
    String type = pick(List.of("purchase", "free", "referral", "rollover", "admin"));
    String op = "fz-op-" + alnum(10);
    Expect rule = null;
    String user = mode == Mode.MISSING_TARGET ? ghostId() : mode == Mode.RULE ? pick(List.of(ALICE, BOB)) : pathId(false);
    if (mode == Mode.RULE) {
      if (rnd.nextBoolean()) {
        op = pick(seedOps);
        rule = Expect.status(409, "operation_conflict");
        if (type.equals("admin") && !token.equals(TestApp.ADMIN_TOKEN)) {
          rule = Expect.status(403, "forbidden");
        }
      } else {
        type = "admin";
        token = TestApp.SERVICE_TOKEN;
        rule = Expect.status(403, "forbidden");
      }
    }
    Body b = new Body()
        .field("operationId", q(op), true, EdgeFuzzTest::invalidId)
        .field("type", q(type), true, () -> pick(INVALID_TYPES))
        .field("amount", mode == Mode.RULE ? "7777" : pick(List.of("1", "5", "1000", "1000000000")), true, () -> pick(INVALID_AMOUNTS))
        .field("description", rnd.nextBoolean() ? q(freeText(500)) : null, false, () -> pick(INVALID_DESCRIPTIONS))
        .field("expiresAt", rnd.nextInt(4) == 0 ? q("2027-06-01T00:00:00Z") : null, false, () -> pick(INVALID_INSTANTS));
    if (rnd.nextInt(6) == 0) {
      b.fields.put("userId", pick(List.of(q(ALICE), q(BOB), "[]", q(ghostId()))));
    }
    Case c = bodyCase("grant", "POST", "/v1/users/" + user + "/grants", b, mode, rule, false);
    return c.token(token);
  }

  static Case consumeCase() {
    int m = rnd.nextInt(100);
    Mode mode = m < 70 ? Mode.BROKEN : m < 85 ? Mode.MISSING_TARGET : Mode.RULE;
    String user = mode == Mode.MISSING_TARGET ? ghostId() : mode == Mode.RULE ? pick(List.of(ALICE, BOB)) : pathId(false);
    String op = "fz-op-" + alnum(10);
    String amount = pick(List.of("1", "5", "99"));
    Expect rule = null;
    if (mode == Mode.RULE) {
      if (rnd.nextBoolean()) {
        op = pick(seedOps);
        amount = "7";
        rule = Expect.status(409, "operation_conflict");
      } else {
        amount = pick(List.of("1000000", "999999999", "1000000000"));
        rule = Expect.status(402, "insufficient_credits");
      }
    }
    Body b = new Body()
        .field("operationId", q(op), true, EdgeFuzzTest::invalidId)
        .field("amount", amount, true, () -> pick(INVALID_AMOUNTS));
    return bodyCase("consume", "POST", "/v1/users/" + user + "/consume", b, mode, rule, false)
        .token(rnd.nextInt(5) == 0 ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN);
  }

  static Case revokeCase() {
    int m = rnd.nextInt(100);
    Mode mode = m < 65 ? Mode.BROKEN : m < 85 ? Mode.MISSING_TARGET : Mode.RULE;
    boolean serviceToken = rnd.nextInt(8) == 0;
    String op = mode == Mode.MISSING_TARGET ? ghostId() : mode == Mode.RULE ? "fz-a-roll" : pick(List.of(
        pick(seedOps), ghostId(), invalidPathSegment()));
    Expect rule = serviceToken ? Expect.status(403, "forbidden") : Expect.status(200);
    Body b = new Body().field("reason", q(freeText(500)), true, () -> pick(INVALID_DESCRIPTIONS));
    Case c = bodyCase("revoke", "POST", "/v1/grants/" + (mode == Mode.BROKEN ? op : enc(op, false)) + "/revoke", b, mode,
        rule, serviceToken);
    if (mode == Mode.RULE && c.expect.statuses().equals(Set.of(200))) {
      // revoking the revoked grant again changes nothing: any answer below 500 is fine
      c.expect = Expect.anyBelow500();
    }
    return c.token(serviceToken ? TestApp.SERVICE_TOKEN : TestApp.ADMIN_TOKEN);
  }

  static Case referralCase() {
    int m = rnd.nextInt(100);
    Mode mode = m < 65 ? Mode.BROKEN : m < 85 ? Mode.MISSING_TARGET : Mode.RULE;
    String referrer;
    String referred;
    Expect rule = null;
    if (mode == Mode.MISSING_TARGET) {
      boolean ghostReferrer = rnd.nextBoolean();
      referrer = ghostReferrer ? ghostId() : pick(List.of(ALICE, BOB, ghostId()));
      referred = ghostReferrer ? pick(List.of(ALICE, BOB, ghostId())) : ghostId();
    } else if (mode == Mode.RULE) {
      referrer = ALICE;
      referred = BOB; // already referred
      rule = Expect.status(409, "already_referred");
    } else {
      referrer = pick(List.of(ALICE, BOB, ghostId()));
      referred = pick(List.of(ALICE, BOB, ghostId()));
    }
    Body b = new Body()
        .field("operationId", q("fz-op-" + alnum(10)), true, EdgeFuzzTest::invalidId)
        .field("referrerId", q(referrer), true, EdgeFuzzTest::invalidId)
        .field("referredId", q(referred), true, EdgeFuzzTest::invalidId)
        .field("credits", pick(List.of("1", "25", "1000000000")), true, () -> pick(INVALID_AMOUNTS));
    return bodyCase("referral", "POST", "/v1/referrals", b, mode, rule, false);
  }

  static Case keyPutCase() {
    int m = rnd.nextInt(100);
    Mode mode = m < 75 ? Mode.BROKEN : Mode.MISSING_TARGET;
    String user = mode == Mode.MISSING_TARGET ? ghostId() : pathId(false);
    String type = mode == Mode.MISSING_TARGET || rnd.nextBoolean() ? pick(KEY_TYPES) : pick(List.of("claude", "OPENAI",
        "open%20ai", "openai%00", "..", "%2e%2e", "x".repeat(70), "gemini%2F..", "anthropic;", "%F0%9F%98%80"));
    Body b = new Body().field("apiKey", q(pick(List.of("sk-" + alnum(20), "AIza" + alnum(30), "sk-ant-" + alnum(40)))), true,
        () -> pick(INVALID_KEYS));
    if (rnd.nextInt(6) == 0) {
      b.fields.put(pick(List.of("userId", "type")), pick(List.of(q(ALICE), q("openai"), "[]", "null")));
    }
    return bodyCase("key-put", "PUT", "/v1/users/" + user + "/api-keys/" + type, b, mode, null, false)
        .token(rnd.nextInt(5) == 0 ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN);
  }

  static Case keyDeleteCase() {
    // never alice's openai key, the one that exists
    String user = pick(List.of(BOB, ghostId(), enc(pick(INVALID_ID_STRINGS_NO_DOTS), rnd.nextBoolean())));
    String type = pick(List.of(pick(KEY_TYPES), "claude", "OPENAI", "x".repeat(65), "%00", "open%20ai"));
    Case c = new Case("key-delete", "DELETE " + printable(user, 30) + "/" + type).get("/v1/users/" + user + "/api-keys/" + type);
    c.method = "DELETE";
    if (rnd.nextInt(4) == 0) {
      c.contentType = "application/json";
      c.body = anyJson(4).getBytes(StandardCharsets.UTF_8);
    }
    c.expect = Expect.clientError();
    return c.token(rnd.nextInt(5) == 0 ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN);
  }

  static Case outboxRetryCase() {
    String id;
    while (true) {
      id = pick(List.of("0", "-1", "999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e3",
          "0x1", "%201", "1.0", "abc", "%00", "1%00", "'%20OR%201%3D1", "%2B1", "٣", "%D9%A3", alnum(5),
          Long.toString(1_000_000L + rnd.nextInt(1_000_000_000))));
      String decoded = decode(id);
      try {
        long v = Long.parseLong(decoded);
        if (v >= 1 && v < 1_000_000) {
          continue; // might be a real row: a retry would change it
        }
      } catch (NumberFormatException ignored) {
        // not a number: refused
      }
      break;
    }
    Case c = new Case("outbox-retry", "retry " + id).json("POST", "/v1/admin/outbox/" + id + "/retry", null)
        .token(TestApp.ADMIN_TOKEN).expect(Expect.clientError());
    if (rnd.nextInt(3) == 0) {
      c.body = anyJson(4).getBytes(StandardCharsets.UTF_8);
      c.contentType = rnd.nextBoolean() ? "application/json" : pick(WRONG_TYPES);
    }
    if (rnd.nextInt(8) == 0) {
      c.token = TestApp.SERVICE_TOKEN;
      c.expect = Expect.status(403, "forbidden");
    }
    return c;
  }

  static Case readCase() {
    String id = pathId(false);
    boolean invalidId = isSafelyInvalidSegment(id);
    String query = "";
    if (rnd.nextBoolean()) {
      List<String> params = new ArrayList<>();
      for (int i = rnd.nextInt(3); i >= 0; i--) {
        params.add(pick(List.of("limit", "before", "status", "userId", "x", "limit[]", "")) + "=" + encQuery(pick(QUERY_VALUES)));
      }
      query = "?" + String.join("&", params);
    }
    String path = switch (rnd.nextInt(10)) {
      case 0 -> "/v1/users/" + id;
      case 1 -> "/v1/users/" + id + "/grants" + query;
      case 2 -> "/v1/users/" + id + "/ledger" + query;
      case 3 -> "/v1/users/" + id + "/balance" + query;
      case 4 -> "/v1/users/" + id + "/api-keys/" + pick(List.of(pick(KEY_TYPES), "claude", "%00", "..", "x".repeat(80)));
      case 5 -> "/v1/admin/outbox" + query;
      case 6 -> "/v1/admin/audit" + (query.isEmpty() ? "?userId=" + id : query);
      case 7 -> pick(List.of("/health", "/ready")) + query;
      default -> "/v1/users/" + id + "/" + pick(List.of("grants", "ledger")) + "?limit=" + encQuery(pick(QUERY_VALUES))
          + "&before=" + encQuery(pick(QUERY_VALUES));
    };
    Case c = new Case("read", "GET " + printable(path, 60)).get(path);
    c.token = path.startsWith("/v1/admin") || rnd.nextInt(5) == 0 ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN;
    if (invalidId && path.startsWith("/v1/users/") && !path.contains("/api-keys/")) {
      c.expect = Expect.clientError();
    }
    if (rnd.nextInt(8) == 0) {
      c.contentType = rnd.nextBoolean() ? "application/json" : pick(WRONG_TYPES);
      c.body = anyJson(5).getBytes(StandardCharsets.UTF_8);
    }
    return c;
  }

  static Case resetsCase() {
    Case c = new Case("resets", "resets run with junk").json("POST", "/v1/admin/resets/run", rnd.nextBoolean() ? anyJson(4) : null)
        .token(TestApp.ADMIN_TOKEN).expect(Expect.anyBelow500());
    if (rnd.nextBoolean()) {
      c.contentType = pick(WRONG_TYPES);
    }
    if (rnd.nextInt(4) == 0) {
      c.token = TestApp.SERVICE_TOKEN;
      c.expect = Expect.status(403, "forbidden");
    }
    return c;
  }

  static Case webhookCase() {
    String body = switch (rnd.nextInt(6)) {
      case 0 -> "";
      case 1 -> anyJson(6);
      case 2 -> eventFor(pick(List.of(ALICE, BOB, ghostId())));
      case 3 -> pick(NOT_OBJECTS).get();
      case 4 -> "{\"id\":" + anyJson(2) + ",\"type\":" + q(pick(List.of("charge.refunded", "payment_intent.succeeded",
          "billing.credit_grant.created", "x"))) + ",\"data\":" + anyJson(3) + "}";
      default -> freeText(200);
    };
    Case c = new Case("webhook", "webhook").json("POST", "/v1/stripe/webhook", body).token(null);
    c.expect = Expect.status(400, "invalid_signature", "stale_timestamp", "invalid_payload");
    if (rnd.nextInt(40) == 0) {
      c.body = padded(BODY_LIMIT + 1 + rnd.nextInt(5000)).getBytes(StandardCharsets.UTF_8);
      c.expect = Expect.status(413, "body_too_large");
    } else if (rnd.nextInt(15) == 0) {
      c.body = splice(c.body, c.body.length / 2, new byte[] {(byte) 0xFF, (byte) 0xC3, 0x28});
    }
    int s = rnd.nextInt(10);
    if (s < 6) {
      long t = now() + pick(List.of(0L, -100_000L, 100_000L, -301L));
      c.header("Stripe-Signature", pick(List.of("t=" + t + ",v1=" + hex(64), "v1=" + hex(64), "t=" + t,
          "t=" + t + ",v0=" + hex(64), "t=" + t + ",v1=" + hex(64) + ",v1=" + hex(64), "t=,v1=", "t=" + t + ",v1=",
          "garbage", "t=-1,v1=00", "t=99999999999999999999,v1=00", ",,,", "=", "t=" + t + ",v1=" + freeText(20)
              .replaceAll("[^\\x21-\\x7e]", "x"))));
    }
    if (rnd.nextBoolean()) {
      c.token = pick(List.of(TestApp.SERVICE_TOKEN, TestApp.ADMIN_TOKEN, "wrong-token-0123456789"));
    }
    c.contentType = rnd.nextInt(5) == 0 ? pick(WRONG_TYPES) : "application/json";
    if (!c.contentType.startsWith("application/json")) {
      // a body that is not JSON is refused before anything reads it, signature included
      c.expect = Expect.status(415, "unsupported_media_type");
    }
    return c;
  }

  static Case noRouteCase() {
    String[] templates = {"/v1/users/{}", "/v1/users/{}/grants", "/v1/users/{}/consume", "/v1/users/{}/balance",
        "/v1/users/{}/ledger", "/v1/grants/{}/revoke", "/v1/referrals", "/v1/users/{}/api-keys/{}", "/v1/admin/outbox",
        "/v1/admin/outbox/{}/retry", "/v1/admin/resets/run", "/v1/admin/audit", "/health", "/ready"};
    Case c;
    if (rnd.nextBoolean()) {
      String template;
      String method;
      do {
        template = pick(List.of(templates));
        method = pick(List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "PROPFIND", "M-SEARCH"));
      } while (realRoutes.contains(method + " " + template));
      String path = template.replaceFirst("\\{}", pick(List.of(ALICE, BOB, "fz-a-p1", "1"))).replace("{}", "openai");
      c = new Case("no-route", method + " " + path).json(method, path, rnd.nextBoolean() ? anyJson(4) : null);
    } else {
      String path = pick(List.of("/", "/v1", "/v2/users/" + ALICE, "/v1/users", "/v1/users/" + ALICE + "/grants/1",
          "/v1/admin", "/v1/admin/outbox/1", "/.env", "/v1/users/" + ALICE + "/api-keys", "/health/x", "/v1/stripe",
          "/v1/users/" + ALICE + "/api-keys/openai/extra", "/V1/users/" + ALICE, "/v1/grants", "/v1/referrals/x",
          "/wp-admin", "/v1/admin/resets", "/v1/users/" + ALICE + "/consume/x"));
      String method = pick(List.of("GET", "POST", "PUT", "DELETE", "PATCH", "FOO"));
      c = new Case("no-route", method + " " + path).json(method, path, rnd.nextBoolean() ? anyJson(4) : null);
    }
    c.token = rnd.nextBoolean() ? TestApp.ADMIN_TOKEN : TestApp.SERVICE_TOKEN;
    boolean adminArea = c.path.startsWith("/v1/admin/") || c.path.matches("/v1/grants/[^/]+/revoke/?");
    // the service token learns nothing about what exists in the admin area: 403 there, whatever the path
    c.expect = adminArea && TestApp.SERVICE_TOKEN.equals(c.token) ? Expect.oneOf(Set.of(403))
        : Expect.oneOf(Set.of(404, 405));
    return c;
  }

  static Case headersCase() {
    Case c = new Case("headers", "hostile headers").get(pick(List.of("/v1/users/" + ALICE, "/v1/users/" + BOB + "/balance",
        "/v1/admin/outbox", "/health")));
    c.token = TestApp.ADMIN_TOKEN;
    for (int i = rnd.nextInt(3); i >= 0; i--) {
      String value = pick(List.of(pick(HOSTILE_STRINGS), "a\r\nX-Injected: 1", "a\nAuthorization: Bearer " + TestApp.ADMIN_TOKEN,
          "x".repeat(3000), "\u00e9t\u00e9", "\t", "a\u0000b"));
      String name = pick(List.of("X-Note", "X-Forwarded-For", "Accept", "Origin", "Referer", "Cookie", "X-HTTP-Method-Override",
          "X-Original-URL", "Forwarded", "If-None-Match", "Range", "Stripe-Signature", "Bad Name", "X-\u00e9"));
      c.header(name, value);
    }
    c.expect = Expect.anyBelow500();
    return c;
  }

  // ---- value pools

  static final Set<String> ALL_FIELDS = Set.of("userId", "email", "stripeCustomerId", "centsPerCredit", "operationId", "type",
      "amount", "description", "expiresAt", "reason", "referrerId", "referredId", "credits", "apiKey", "payload", "signature",
      "outboxId", "limit", "before", "status");
  static final List<String> UNKNOWN_FIELDS = List.of("balance", "Amount", "__proto__", "constructor", "$where", "isAdmin", "role",
      "userid", "operation_id", "'; DROP TABLE users;--", "1 OR 1=1", "😀", "\u202e", "", " ", "email ", "a".repeat(300),
      "\u0000", "priority", "principal", "debtSettled", "grantId", "cents");
  static final List<String> INVALID_ID_STRINGS = List.of("", " ", "a b", "-lead", ".lead", "_lead", "@lead", ":lead",
      "'; DROP TABLE users;--", "1 OR 1=1", "1' OR '1'='1", "../../etc/passwd", "..", ".", "a/b", "a\\b", "a\u0000b", "\u0000",
      "%00", "😀", "ü", "\u202eevil", "e\u0301", "a\ud800b", "\ud800", "\udfff", "x".repeat(129), "y".repeat(300), "a\r\nb",
      "a\tb", "<script>alert(1)</script>", "${jndi:ldap://x/a}", "{{7*7}}", "a;b", "a,b", "a?b", "a#b", "a&b=c", "a+b",
      "a%2Fb", "a*", "a\u200bb", "ａｂｃ", "a\"b", "a'b", "a`b", "a|b", "a~b", "a=b");
  static final List<String> INVALID_ID_STRINGS_NO_DOTS = INVALID_ID_STRINGS.stream()
      .filter(s -> !s.contains(".") && !s.contains("/") && !s.contains("\\") && !s.contains("%") && !s.isEmpty()).toList();
  static final List<String> INVALID_AMOUNTS = List.of("0", "-1", "-0", "-0.0", "1.5", "0.5", "1e400", "-1e400",
      "99999999999999999999999", "1000000001", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "\"10\"",
      "\"NaN\"", "\"Infinity\"", "\"1e3\"", "\"\"", "true", "false", "null", "[]", "{}", "[1]", "{\"$gt\":0}", "1e-400", "-5",
      "0.0", "1.0000001", "-1e-400");
  static final List<String> INVALID_TYPES = List.of(q("gift"), q("ADMIN"), q("Purchase"), q("purchase "), q(" free"), q(""),
      q("free\u0000"), q("admin'--"), q("rollover; DROP TABLE grants"), "1", "null", "[]", "{\"type\":\"admin\"}", q("😀"),
      q("x".repeat(10_000)), q("admin\u200b"), "true");
  static final List<String> INVALID_DESCRIPTIONS = List.of(q(""), q("x".repeat(501)), q("é".repeat(501)), q("😀".repeat(501)),
      q("x".repeat(10_000)), "123", "[]", "{}", "true", "[\"a\"]");
  static final List<String> INVALID_INSTANTS = List.of(q("tomorrow"), q("2020-01-01T00:00:00Z"), q("1970-01-01T00:00:00Z"),
      q("2026-01-15T10:00:00Z"), q("2026-01-15T09:59:59Z"), q("2027-13-01T00:00:00Z"), q("2027-01-01"), q("2027-01-01T00:00:00"),
      q("2027-01-01T25:00:00Z"), q(""), q("x".repeat(65)), q("-999999999-01-01T00:00:00Z"), q("NaN"), "1767225600", "[]", "true",
      "{}", q("2027-01-01T00:00:00Z".repeat(4)));
  static final List<String> INVALID_EMAILS = List.of(q(""), q("plain"), q("a@"), q("@b"), q("a@b@c"), q("a b@c.d"), q("a@b c"),
      q("a\t@b"), q("\n@x"), q("x".repeat(65) + "@d.com"), q("a@" + "d".repeat(191)), "42", "[]", "{}", "true", "null",
      q("x".repeat(10_000)), q("'; DROP TABLE users;--"), q("1 OR 1=1"));
  static final List<String> INVALID_CUSTOMERS = List.of(q(""), q("cus_"), q("cus_ab cd"), q("sk_test_123"), q("CUS_abc"),
      q("cus_" + "a".repeat(251)), "42", "[]", "{}", "true", q("cus_abc\u0000"), q("cus_😀"), q("cus_abc'--"));
  static final List<String> INVALID_CENTS = List.of("0", "-1", q("-0.5"), q("abc"), q("NaN"), q("Infinity"), "1e400", q("1e400"),
      "0.00001", q("0.00001"), "1000001", q("1000000.0001"), "[]", "{}", "true", q(""), q(" "), "1e-400", "-0", q("1,5"),
      q("0x10"), q("1e999999999"), q("-1e-999999999"), q("0." + "0".repeat(5000) + "1"));
  static final List<String> INVALID_KEYS = List.of(q(""), q(" sk-lead"), q("sk-trail "), q("sk\nnewline"), q("sk\ttab"),
      q("sk\u007fdel"), q("sk\u0085nel"), q("sk\u001besc"), q("x".repeat(4097)), "42", "[]", "{}", "true", q("\u0000"));
  static final List<String> QUERY_VALUES = List.of("abc", "", "0", "-1", "1", "5", "500", "501", "+5", "1e3", "1.5",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "\u0000", "'; DROP TABLE journal;--", "1 OR 1=1",
      "😀", "x".repeat(300), "dead", "pending", "delivered", "DEAD", "null", "[]", "%zz", "\u202e5", "٣");
  static final List<String> HOSTILE_STRINGS = List.of("'; DROP TABLE users;--", "1 OR 1=1", "😀", "\u202eevil", "e\u0301",
      "مرحبا", "\u0000", "\ud800", "<script>", "${jndi:ldap://x/a}", "../../etc/passwd", "%00", "\u200b", "ａ",
      "\\u0000", "\"", "\\", "null");
  static final List<String> JSON_TYPES = List.of("application/json", "application/json; charset=utf-8", "Application/JSON",
      "application/json;charset=UTF-8");
  static final List<String> WRONG_TYPES = List.of("text/plain", "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x", "application/xml", "text/json", "application/jso", "*/*", "application/octet-stream",
      "text/html; charset=utf-8", "application/vnd.api+json");
  static final List<Supplier<String>> NOT_OBJECTS = List.of(() -> "null", () -> "[]", () -> "[{}]", () -> "42", () -> "-0",
      () -> "\"str\"", () -> "true", () -> "", () -> " ", () -> "{", () -> "}", () -> "{\"a\"", () -> "{\"a\":}",
      () -> "[" .repeat(200) + "]".repeat(200), () -> "[" + anyJson(4) + "]", () -> q(freeText(50)), () -> "1e400",
      () -> "{\"a\":1}{\"b\":2}", () -> "\u0000", () -> "NaN");

  // ---- generators

  static String pathId(boolean anyId) {
    int c = rnd.nextInt(10);
    if (c < 3) {
      return enc(pick(List.of(ALICE, BOB)), rnd.nextInt(4) == 0);
    } else if (c < 5) {
      return ghostId();
    } else {
      return invalidPathSegment();
    }
  }

  static String invalidPathSegment() {
    return enc(pick(INVALID_ID_STRINGS), rnd.nextInt(3) == 0);
  }

  /** True when the path holds dot segments or encoded slashes, so the router may send it elsewhere. */
  static boolean mayNotRoute(String path) {
    String lower = path.toLowerCase(Locale.ROOT);
    if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("//")) {
      return true;
    }
    for (String segment : path.split("/")) {
      String decoded = decode(segment);
      if (decoded.equals(".") || decoded.equals("..") || decoded.isEmpty() && !segment.isEmpty()) {
        return true;
      }
    }
    return path.contains("//") || path.endsWith("/");
  }

  /** An encoded path segment whose decoded value surely breaks the id rules and cannot walk to another path. */
  static boolean isSafelyInvalidSegment(String segment) {
    String decoded = decode(segment);
    String lower = segment.toLowerCase(Locale.ROOT);
    return !decoded.isEmpty() && !ID.matcher(decoded).matches() && !decoded.contains(".") && !decoded.contains("/")
        && !decoded.contains("\\") && !lower.contains("%2e") && !lower.contains("%2f") && !lower.contains("%5c")
        && !decoded.contains("?") && !decoded.contains("#") && !decoded.contains(";") && decoded.length() < 1000;
  }

  static String ghostId() {
    return "fz-ghost-" + alnum(6) + pick(List.of("", ".x", ":y", "@z", "_w", "-v"));
  }

  /** JSON text that is surely not a valid id: a string breaking the id rules, or another JSON value. */
  static String invalidId() {
    if (rnd.nextInt(6) != 0) {
      return q(pick(INVALID_ID_STRINGS));
    }
    while (true) {
      String v = anyJson(2);
      boolean validString = v.startsWith("\"") && ID.matcher(v.substring(1, v.length() - 1)).matches();
      if (!validString && !v.equals("null")) {
        return v;
      }
    }
  }

  static String freeText(int max) {
    StringBuilder s = new StringBuilder();
    int parts = 1 + rnd.nextInt(4);
    for (int i = 0; i < parts; i++) {
      s.append(pick(List.of("refund", "😀", "\u202eRTL", "مرحبا", "e\u0301", "日本語", "'; DROP TABLE grants;--", "1 OR 1=1",
          "<b>x</b>", " ", "\u200b", "Ω", "%00", "\\n", "{\"a\":1}")));
    }
    String out = s.toString();
    return out.length() > max ? out.substring(0, max) : out;
  }

  /** A random JSON value: objects, arrays, strings, numbers, literals, nested up to {@code depth}. */
  static String anyJson(int depth) {
    int c = rnd.nextInt(depth <= 0 ? 6 : 9);
    return switch (c) {
      case 0 -> "null";
      case 1 -> rnd.nextBoolean() ? "true" : "false";
      case 2 -> pick(List.of("0", "-0", "1", "-1", "1.5", "1e400", "99999999999999999999999", "-9223372036854775809", "0.1e-7"));
      case 3 -> q(pick(HOSTILE_STRINGS));
      case 4 -> q(freeText(40));
      case 5 -> q(alnum(rnd.nextInt(12)));
      case 6 -> {
        StringBuilder s = new StringBuilder("[");
        for (int i = rnd.nextInt(4); i > 0; i--) {
          s.append(anyJson(depth - 1)).append(i > 1 ? "," : "");
        }
        yield s.append(']').toString();
      }
      case 7 -> {
        StringBuilder s = new StringBuilder("{");
        for (int i = rnd.nextInt(4); i > 0; i--) {
          s.append(q(pick(List.of("a", "b", "id", "type", "data", "object", "😀", "")))).append(':').append(anyJson(depth - 1))
              .append(i > 1 ? "," : "");
        }
        yield s.append('}').toString();
      }
      default -> rnd.nextBoolean() ? nested(50 + rnd.nextInt(200)) : "{}";
    };
  }

  static String nested(int depth) {
    return "[".repeat(depth) + "1" + "]".repeat(depth);
  }

  static String nestedObjects(int depth) {
    return "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
  }

  /** A JSON object of exactly {@code size} bytes, with one unknown field carrying the padding. */
  static String padded(int size) {
    String head = "{\"padding\":\"";
    String tail = "\"}";
    return head + "p".repeat(size - head.length() - tail.length()) + tail;
  }

  static String eventFor(String userId) {
    JsonObject session = new JsonObject().put("id", "cs_fz").put("object", "checkout.session").put("payment_status", "paid")
        .put("payment_intent", "pi_fz").put("metadata", new JsonObject().put("userId", userId).put("credits", "999")
            .put("operationId", "fz-stripe-" + Math.abs(userId.hashCode())));
    return new JsonObject().put("id", "evt_fz_" + Math.abs(userId.hashCode())).put("object", "event")
        .put("type", "checkout.session.completed").put("created", now())
        .put("data", new JsonObject().put("object", session)).encode();
  }

  static long now() {
    return app.clock.instant().getEpochSecond();
  }

  // ---- text helpers

  /** JSON text of a string: quotes, backslashes, control characters and unpaired surrogates escaped. */
  static String q(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
      boolean pairedLow = Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7f || (Character.isSurrogate(c) && !pairedHigh && !pairedLow)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  /** A JSON object from name, value-text pairs. */
  static String obj(String... namesAndValues) {
    StringBuilder s = new StringBuilder("{");
    for (int i = 0; i < namesAndValues.length; i += 2) {
      s.append(i == 0 ? "" : ",").append(q(namesAndValues[i])).append(':').append(namesAndValues[i + 1]);
    }
    return s.append('}').toString();
  }

  /** Percent-encodes a path segment: every byte outside the unreserved set, and with {@code all} the rest too. */
  static String enc(String s, boolean all) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean unreserved = c < 0x80 && (Character.isLetterOrDigit(c) || "-._~".indexOf(c) >= 0);
      if (unreserved && !all) {
        out.append((char) c);
      } else {
        String hex = String.format("%%%02X", c);
        out.append(rnd != null && rnd.nextBoolean() ? hex.toLowerCase(Locale.ROOT) : hex);
      }
    }
    return out.toString();
  }

  static String encQuery(String s) {
    return s.equals("%zz") ? "%25zz" : enc(s, false);
  }

  /** Percent-decodes like the router (invalid escapes are kept as they are). */
  static String decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()
          && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
        out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(bytes, 0, bytes.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  static byte[] splice(byte[] bytes, int at, byte[] insert) {
    int i = Math.max(0, Math.min(at, bytes.length));
    byte[] out = new byte[bytes.length + insert.length];
    System.arraycopy(bytes, 0, out, 0, i);
    System.arraycopy(insert, 0, out, i, insert.length);
    System.arraycopy(bytes, i, out, i + insert.length, bytes.length - i);
    return out;
  }

  static String alnum(int n) {
    String chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(chars.charAt(rnd.nextInt(chars.length())));
    }
    return s.toString();
  }

  static String hex(int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(Character.forDigit(rnd.nextInt(16), 16));
    }
    return s.toString();
  }

  static <T> T pick(List<T> list) {
    return list.get(rnd.nextInt(list.size()));
  }

  static String weighted(String[] names, int[] weights) {
    int total = Arrays.stream(weights).sum();
    int r = rnd.nextInt(total);
    for (int i = 0; i < names.length; i++) {
      r -= weights[i];
      if (r < 0) {
        return names[i];
      }
    }
    return names[names.length - 1];
  }

  /** Control characters and non-ASCII shown escaped, long text cut. */
  static String printable(String s, int max) {
    if (s == null) {
      return "null";
    }
    String cut = s.length() > max ? s.substring(0, max) + "...(" + s.length() + " chars)" : s;
    StringBuilder out = new StringBuilder();
    for (char c : cut.toCharArray()) {
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c) || (c >= 0x80 && c < 0xa0) || c == 0x202e || c == 0x200b) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
