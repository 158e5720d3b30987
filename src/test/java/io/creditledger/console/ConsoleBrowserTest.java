package io.creditledger.console;

import io.creditledger.support.Api;
import io.creditledger.support.ContractCheck;
import io.creditledger.support.Eventually;
import io.creditledger.support.FakeStripe;
import io.creditledger.support.TestApp;
import io.creditledger.support.TestAppExtension;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The admin console at {@code /console/}, driven in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}; Selenium is pointed at them and never downloads a browser or a driver). One browser and
 * one service for the class; the tests run in order, signing in once. What the page shows is checked against the
 * API's own answers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
  static final String TOKEN_KEY = "creditLedger.adminToken";
  static final Duration WAIT = Duration.ofSeconds(15);
  static final Duration PATIENCE = Duration.ofSeconds(20);
  static final String HOSTILE = "<img src=x onerror=\"document.title='pwned'\"> & <b>bold</b>";

  /** Closed after the app, which calls it. */
  @AutoClose
  static final FakeStripe stripe = FakeStripe.start();

  static TestApp app;

  // a relay that gives up after one failed send, so that a Stripe outage leaves dead rows at once; the clock stands
  // still unless moved (the journal's times are the test's), and the reset scanner stays out of the way
  @RegisterExtension
  static final TestAppExtension boot = TestAppExtension.perClass(Map.of(
      "STRIPE_API_KEY", "sk_test_console",
      "STRIPE_API_BASE", stripe.baseUrl(),
      "STRIPE_OUTBOX_POLL_INTERVAL", "PT0.2S",
      "STRIPE_TIMEOUT", "PT2S",
      "STRIPE_MAX_ATTEMPTS", "1",
      "STRIPE_MAX_REQUESTS_PER_SECOND", "500",
      "RESET_SCAN_INTERVAL", "PT1H"), started -> app = started);

  static ChromeDriverService service;
  static ChromeDriver driver;
  static String base;

  @BeforeAll
  static void seedAndOpenTheBrowser() throws IOException {
    if (!Files.isExecutable(CHROMEDRIVER) || !Files.isExecutable(CHROMIUM)) {
      fail("No " + CHROMEDRIVER + " or " + CHROMIUM + ": the console's tests run in a real browser; "
          + "install Debian's chromium and chromium-driver; .ci/run does");
    }
    base = "http://127.0.0.1:" + app.ledger.httpPort();
    seed();
    Files.createDirectories(SCREENSHOTS);
    service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
        .withLogFile(SCREENSHOTS.resolve("chromedriver.log").toFile()).build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
        "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--lang=en-US");
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(WAIT);
    desktop();
  }

  /**
   * A viewport of exactly 1280x800 (headless Chromium's window of that size keeps some of it for the browser's
   * own frame), as {@link #phone} gives 375x812.
   */
  static void desktop() {
    driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", 1280, "height", 800,
        "deviceScaleFactor", 1, "mobile", false));
  }

  static void phone() {
    driver.executeCdpCommand("Emulation.setDeviceMetricsOverride", Map.of("width", 375, "height", 812,
        "deviceScaleFactor", 2, "mobile", true));
  }

  static long[] viewport() {
    @SuppressWarnings("unchecked")
    List<Number> size = (List<Number>) js("return [window.innerWidth, window.innerHeight];");
    return new long[] {size.get(0).longValue(), size.get(1).longValue()};
  }

  @AfterAll
  static void closeTheBrowser() {
    if (driver != null) {
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
  }

  // ---- data: alice's ten days (mirrored to Stripe, synced), bob's dead outbox rows, dan's debt

  static void seed() {
    app.user("alice", new JsonObject().put("email", "alice@example.com").put("stripeCustomerId", "cus_alice"));
    app.clock.advance(Duration.ofHours(20));
    created(app.grant("alice", "order-1001", "purchase", 1000));
    for (int i = 0; i < 32; i++) {
      app.clock.advance(Duration.ofHours(5 + i % 4));
      long amount = 10 + (i * 37L) % 45;
      Api.Response r = app.consume("alice", "req-" + (2000 + i), amount);
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      if (i == 12) {
        created(app.grant("alice", "order-1002", "purchase", 200));
        app.clock.advance(Duration.ofHours(3));
        Api.Response revoked = app.admin.post("/v1/grants/order-1002/revoke", new JsonObject().put("reason", "refund"));
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
      }
      if (i == 20) {
        created(app.grant("alice", "order-1003", "purchase", 250));
      }
      if (i == 26) {
        created(app.admin.post("/v1/users/alice/grants", new JsonObject().put("operationId", "goodwill-7")
            .put("type", "admin").put("amount", 50).put("description", "Goodwill: slow week")));
      }
    }
    Eventually.await("alice's grants synced with Stripe", PATIENCE, () -> app.grants("alice").stream()
        .map(g -> ((JsonObject) g).getJsonObject("stripe").getString("state")).allMatch("synced"::equals));
    Eventually.await("alice's outbox delivered", PATIENCE, () -> outbox("pending").isEmpty());

    // bob is mirrored while Stripe is down: his rows go dead after their one attempt
    stripe.outage(true);
    app.user("bob", new JsonObject().put("email", "bob@example.com").put("stripeCustomerId", "cus_bob"));
    created(app.grant("bob", "order-3001", "purchase", 500));
    Eventually.await("bob's two rows dead", PATIENCE, () -> outbox("dead").size() == 2);
    stripe.outage(false);

    // dan (not mirrored) owes credits, and a grant description that is markup
    app.user("dan");
    created(app.admin.post("/v1/users/dan/grants", new JsonObject().put("operationId", "dan-gift").put("type", "admin")
        .put("amount", 10).put("description", HOSTILE)));
    app.clock.advance(Duration.ofHours(1));
    assertThat(app.consume("dan", "dan-1", 150).status()).isEqualTo(200);
    assertThat(app.balance("dan").getLong("totalDebt")).as("dan is in debt").isEqualTo(40);

    // last, as the clock stands from here to the resets: a hold of alice's, open for its 15 minutes
    Api.Response hold = app.api.post("/v1/users/alice/holds", new JsonObject().put("operationId", "job-77")
        .put("amount", 80));
    assertThat(hold.status()).as(hold.toString()).isEqualTo(201);
  }

  static void created(Api.Response r) {
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
  }

  static List<JsonObject> outbox(String status) {
    Api.Response r = app.admin.get("/v1/admin/outbox?limit=500&status=" + status);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return objects(r.json().getJsonArray("rows"));
  }

  static List<JsonObject> objects(JsonArray array) {
    List<JsonObject> out = new ArrayList<>();
    array.forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** The whole journal of a user, newest first, through the API's pages. */
  static List<JsonObject> wholeJournal(String userId) {
    List<JsonObject> entries = new ArrayList<>();
    Long before = null;
    do {
      JsonObject page = app.admin.get("/v1/users/" + userId + "/ledger?limit=500" + (before == null ? "" : "&before="
          + before)).json();
      entries.addAll(objects(page.getJsonArray("entries")));
      before = page.getLong("nextBefore");
    } while (before != null);
    return entries;
  }

  // ---- the browser

  static Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  static <T> T waitFor(String what, Function<ChromeDriver, T> condition) {
    try {
      return new WebDriverWait(driver, WAIT).until(d -> condition.apply(driver));
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("Timed out waiting for " + what + " on " + driver.getCurrentUrl(), e);
    }
  }

  static WebElement byId(String id) {
    return driver.findElement(By.id(id));
  }

  static WebElement byTestId(String testId) {
    return driver.findElement(By.cssSelector("[data-testid='" + testId + "']"));
  }

  static String stateOf(String id) {
    return byId(id).getAttribute("data-state");
  }

  /** Waits until the status line is out of "idle" and "loading", and returns its state. */
  static String settled(String id) {
    return waitFor(id + " to settle", d -> {
      String s = stateOf(id);
      return s != null && !s.equals("loading") && !s.equals("idle") ? s : null;
    });
  }

  static void screenshot(String name) throws IOException {
    Files.write(SCREENSHOTS.resolve(name), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
  }

  /** The whole page, beyond the viewport (the README's picture is cut from it). */
  static void fullPage(String name) throws IOException {
    Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot", Map.of("format", "png",
        "captureBeyondViewport", true));
    Files.write(SCREENSHOTS.resolve(name), java.util.Base64.getDecoder().decode((String) shot.get("data")));
  }

  static void open(String hash) {
    driver.get(base + "/console/" + hash);
  }

  static void signIn() {
    byId("token-input").clear();
    byId("token-input").sendKeys(TestApp.ADMIN_TOKEN);
    byId("signin-button").click();
    waitFor("the signed-in navigation", d -> byId("nav").isDisplayed());
  }

  static void lookUp(String userId) {
    if (!byId("page-user").isDisplayed()) {
      byId("tab-user").click();
    }
    WebElement input = byId("user-input");
    input.clear();
    input.sendKeys(userId);
    byId("lookup-button").click();
  }

  /** Looks the user up and waits for every part of the page (cards, grants, journal, chart) to be there. */
  static void showUser(String userId) {
    lookUp(userId);
    waitFor(userId + "'s page", d -> "ready".equals(stateOf("user-status"))
        && userId.equals(byId("user-title").getText()));
    for (String part : List.of("grants-status", "journal-status", "chart-status")) {
      settled(part);
    }
  }

  static long number(String text) {
    return Long.parseLong(text.replace(",", "").replace("+", "").trim());
  }

  static long card(String id) {
    WebElement value = byId(id);
    assertThat(value.getAttribute("data-value")).as(id + "'s data-value").isEqualTo(String.valueOf(number(value.getText())));
    return number(value.getText());
  }

  /** A table wider than its box scrolls inside the box (the page does not). */
  static void assertScrollsInItsBox(String wrap) {
    Object sizes = js("const b = arguments[0]; return [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX];",
        byTestId(wrap));
    @SuppressWarnings("unchecked")
    List<Object> s = (List<Object>) sizes;
    assertThat(((Number) s.get(0)).longValue()).as(wrap + " holds a wider table").isGreaterThan(((Number) s.get(1)).longValue());
    assertThat(s.get(2)).as(wrap + "'s overflow-x").isEqualTo("auto");
  }

  static void assertNoHorizontalOverflow(String where) {
    Object widths = js("return [document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth];");
    @SuppressWarnings("unchecked")
    List<Number> w = (List<Number>) widths;
    assertThat(w.get(0).longValue()).as("%s: the page's scrollWidth %s within the window's %s", where, w.get(0), w.get(1))
        .isLessThanOrEqualTo(w.get(1).longValue());
    assertThat(w.get(2).longValue()).as("%s: the body's scrollWidth", where).isLessThanOrEqualTo(w.get(1).longValue());
  }

  static String tokenInStorage() {
    return (String) js("return sessionStorage.getItem(arguments[0]);", TOKEN_KEY);
  }

  static void assertTokenNotInTheUrl() {
    assertThat(driver.getCurrentUrl()).doesNotContain(TestApp.ADMIN_TOKEN).doesNotContain("token");
    assertThat((String) js("return document.cookie;")).doesNotContain(TestApp.ADMIN_TOKEN);
    assertThat((Long) js("return localStorage.length;")).isZero();
  }

  // ---- plain HTTP

  @Test
  @Order(1)
  void theConsoleIsServedWithoutATokenWithItsSecurityHeaders() throws Exception {
    HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    HttpResponse<String> redirect = get(http, "/console");
    assertThat(redirect.statusCode()).as(redirect.body()).isIn(301, 302);
    assertThat(redirect.headers().firstValue("Location")).contains("/console/");

    HttpResponse<String> page = get(http, "/console/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'")
        .doesNotContain("unsafe-inline").doesNotContain("unsafe-eval");
    assertThat(page.headers().firstValue("X-Frame-Options")).contains("DENY");
    assertThat(page.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    assertThat(page.headers().firstValue("Cache-Control")).contains("no-store");
    assertThat(page.body()).contains("<script src=\"console.js\" defer></script>")
        .doesNotContain("<script>").doesNotContain("style=").doesNotContainPattern("\\son[a-z]+=");

    HttpResponse<String> script = get(http, "/console/console.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type").orElseThrow()).contains("javascript");
    assertThat(script.body()).doesNotContain(".innerHTML").doesNotContain(".outerHTML").doesNotContain("insertAdjacentHTML")
        .doesNotContain("eval(").doesNotContain("document.write");
    assertThat(get(http, "/console/console.css").headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/css");

    HttpResponse<String> missing = get(http, "/console/nothing-here.js");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(missing.body()).getJsonObject("error").getString("code")).isEqualTo("not_found");
    // nothing outside the console's folder is reachable through it, and /v1 still wants its token
    for (String path : List.of("/console/..%2flogback.xml", "/console/%2e%2e/logback.xml", "/console/.hidden",
        "/console/..%2f..%2fpom.xml", "/console/%2e%2e/v1/admin/audit", "/console/../v1/admin/audit")) {
      HttpResponse<String> r = get(http, path);
      assertThat(r.statusCode()).as("GET %s -> %s", path, r.body()).isIn(401, 404);
      assertThat(r.body()).as("GET %s", path).doesNotContain("<configuration").doesNotContain("problems");
    }
  }

  static HttpResponse<String> get(HttpClient http, String path) throws IOException, InterruptedException {
    return ContractCheck.checked(http.send(HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
  }

  // ---- signing in

  @Test
  @Order(2)
  void aWrongTokenOrTheServiceTokenIsRefusedAtSignIn() {
    open("");
    waitFor("the sign-in form", d -> byId("signin").isDisplayed());
    assertThat(byId("nav").isDisplayed()).isFalse();
    assertNoHorizontalOverflow("sign-in at 1280x800");

    byId("token-input").sendKeys("wrong-token-0123456789abcdef");
    byId("signin-button").click();
    WebElement message = waitFor("the refusal", d -> byId("signin-message").isDisplayed() ? byId("signin-message") : null);
    assertThat(message.getText()).contains("401").contains("refused");
    assertThat(tokenInStorage()).isNull();
    assertThat(byId("token-input").getAttribute("value")).isEmpty();

    byId("token-input").sendKeys(TestApp.SERVICE_TOKEN);
    byId("signin-button").click();
    waitFor("the 403", d -> byId("signin-message").getText().contains("403") ? true : null);
    assertThat(byId("signin-message").getText()).contains("not the admin token");
    assertThat(tokenInStorage()).isNull();
    assertThat(byId("signin").isDisplayed()).isTrue();
    assertTokenNotInTheUrl();
    assertThat(driver.getCurrentUrl()).doesNotContain(TestApp.SERVICE_TOKEN);
  }

  @Test
  @Order(3)
  void signingInKeepsTheTokenInSessionStorageNeverInTheUrl() {
    open("");
    signIn();
    assertThat(tokenInStorage()).isEqualTo(TestApp.ADMIN_TOKEN);
    assertThat(byId("signin").isDisplayed()).isFalse();
    assertThat(byId("token-input").getAttribute("value")).isEmpty();
    assertThat(driver.getPageSource()).doesNotContain(TestApp.ADMIN_TOKEN);
    assertTokenNotInTheUrl();
    // a reload keeps the session (the tab's storage), still without the token anywhere visible
    open("#outbox");
    waitFor("the outbox page", d -> byId("page-outbox").isDisplayed());
    assertThat(byId("signin").isDisplayed()).isFalse();
    assertTokenNotInTheUrl();
  }

  // ---- the user page

  @Test
  @Order(4)
  void theUserPageShowsTheBalanceGrantsJournalAndChartTheApiGives() throws IOException {
    showUser("alice");
    assertThat(driver.getCurrentUrl()).endsWith("/console/#user=alice");
    assertTokenNotInTheUrl();

    JsonObject balance = app.admin.get("/v1/users/alice/balance").json();
    JsonObject user = app.admin.get("/v1/users/alice").json();
    assertThat(balance.getLong("held")).as("alice's hold").isEqualTo(80);
    assertThat(card("card-available")).isEqualTo(balance.getLong("available"));
    assertThat(card("card-held")).isEqualTo(balance.getLong("held"));
    assertThat(card("card-debt")).isEqualTo(balance.getLong("totalDebt")).isZero();
    assertThat(card("card-usage")).isEqualTo(balance.getLong("usageThisCycle")).isEqualTo(user.getLong("usageThisCycle"))
        .isPositive();
    assertThat(byId("card-next-reset").getAttribute("data-value")).isEqualTo(balance.getString("nextQuotaReset"));
    assertThat(byId("card-next-reset").getText()).isEqualTo(balance.getString("nextQuotaReset").substring(0, 10) + " "
        + balance.getString("nextQuotaReset").substring(11, 16) + " UTC");
    assertThat(byId("user-meta").getText()).contains("alice@example.com").contains("cus_alice");

    // the grants, newest first, as the API lists them
    List<JsonObject> grants = objects(app.admin.get("/v1/users/alice/grants?limit=500").json().getJsonArray("grants"));
    assertThat(grants).hasSize(5);
    assertGrantRows("#page-user", grants);
    assertThat(byTestId("grants-count").getText()).isEqualTo("(5)");
    assertThat(grants).extracting(g -> g.getJsonObject("stripe").getString("state")).containsOnly("synced");
    assertThat(grants).extracting(g -> g.getString("state")).contains("active", "revoked");

    // the journal's first page: the 25 newest entries
    List<JsonObject> firstPage = objects(app.admin.get("/v1/users/alice/ledger?limit=25").json().getJsonArray("entries"));
    assertJournalRows("#page-user", firstPage);
    assertThat(byTestId("journal-page").getText()).isEqualTo("Page 1");
    assertThat(byId("journal-newer").isEnabled()).isFalse();
    assertThat(byId("journal-older").isEnabled()).isTrue();

    // the chart: one point per instant at which the journal changed, ending at the net balance
    List<JsonObject> journal = wholeJournal("alice");
    long instants = journal.stream().map(e -> e.getString("createdAt")).distinct().count();
    long sum = journal.stream().mapToLong(e -> e.getLong("delta")).sum();
    assertThat(journal.size()).as("more entries than a journal page").isGreaterThan(25);
    assertThat(sum).as("the journal's sum is the net balance").isEqualTo(balance.getLong("netBalance"));
    WebElement chart = byTestId("chart-svg");
    assertThat(chart.getTagName()).isEqualTo("svg");
    String points = byTestId("chart-line").getAttribute("points");
    assertThat(points.trim().split("\\s+")).hasSize((int) instants);
    assertThat(chart.getAttribute("data-points")).isEqualTo(String.valueOf(instants));
    assertThat(Long.parseLong(chart.getAttribute("data-last"))).isEqualTo(sum);
    assertThat(byTestId("chart-now").getText()).isEqualTo("now " + String.format("%,d", sum));
    assertThat(chart.getSize().getWidth()).as("the chart's width").isGreaterThan(800);
    assertThat(chart.getSize().getHeight()).as("the chart's height").isGreaterThan(100);
    // the polyline rises and falls with the balance: its first point is the first grant, high on the chart
    assertThat(points).doesNotContain("NaN");

    assertNoHorizontalOverflow("alice at 1280x800");
    screenshot("user-1280x800.png");
    fullPage("user-1280-full.png");
  }

  /**
   * The rows the selector finds, read in one call: each row's data attributes (as "@name", camel-cased) and its
   * cells' text by their data-field.
   */
  @SuppressWarnings("unchecked")
  static List<Map<String, String>> rows(String selector) {
    return (List<Map<String, String>>) js("return Array.from(document.querySelectorAll(arguments[0]), row => {"
        + " const out = {};"
        + " for (const [k, v] of Object.entries(row.dataset)) { out['@' + k] = v; }"
        + " for (const cell of row.querySelectorAll('[data-field]')) { out[cell.dataset.field] = cell.textContent; }"
        + " return out; });", selector);
  }

  /** The grant rows on one page (#page-user or #page-org) are the API's grants, in order. */
  static void assertGrantRows(String page, List<JsonObject> grants) {
    List<Map<String, String>> rows = rows(page + " [data-testid='grant-row']");
    assertThat(rows).hasSize(grants.size());
    for (int i = 0; i < rows.size(); i++) {
      JsonObject g = grants.get(i);
      Map<String, String> row = rows.get(i);
      assertThat(row.get("@operationId")).isEqualTo(row.get("operationId")).isEqualTo(g.getString("operationId"));
      assertThat(row.get("type")).isEqualTo(g.getString("type"));
      assertThat(number(row.get("priority"))).isEqualTo(g.getLong("priority"));
      assertThat(number(row.get("principal"))).isEqualTo(g.getLong("principal"));
      assertThat(number(row.get("balance"))).isEqualTo(g.getLong("balance"));
      assertThat(row.get("state")).startsWith(g.getString("state"));
      assertThat(row.get("stripe")).startsWith(g.getJsonObject("stripe").getString("state"));
      assertThat(row.get("expiresAt")).isEqualTo(utc(g.getString("expiresAt")));
    }
  }

  /** An instant as the console shows it: "2026-01-15 10:00 UTC", or "—" for none. */
  static String utc(String iso) {
    return iso == null ? "—" : iso.substring(0, 10) + " " + iso.substring(11, 16) + " UTC";
  }

  /** The journal rows on one page (#page-user or #page-org) are the API's entries, in order. */
  static void assertJournalRows(String page, List<JsonObject> entries) {
    List<Map<String, String>> rows = rows(page + " [data-testid='journal-row']");
    assertThat(rows).extracting(r -> Long.parseLong(r.get("@entryId")))
        .containsExactlyElementsOf(entries.stream().map(e -> e.getLong("entryId")).toList());
    for (int i = 0; i < rows.size(); i++) {
      JsonObject e = entries.get(i);
      Map<String, String> row = rows.get(i);
      assertThat(row.get("kind")).isEqualTo(e.getString("kind"));
      assertThat(number(row.get("delta"))).isEqualTo(e.getLong("delta"));
      assertThat(row.get("delta")).startsWith(e.getLong("delta") > 0 ? "+" : "-");
      assertThat(number(row.get("balanceAfter"))).isEqualTo(e.getLong("balanceAfter"));
      assertThat(row.get("operationId")).isEqualTo(e.getString("operationId"));
      assertThat(row.get("grant")).isEqualTo(e.getString("grantOperationId") + " (" + e.getString("grantType") + ")");
      assertThat(row.get("description")).isEqualTo(java.util.Objects.toString(e.getString("description"), ""));
    }
  }

  @Test
  @Order(5)
  void theJournalPagesGoOlderAndNewerByNextBefore() {
    JsonObject first = app.admin.get("/v1/users/alice/ledger?limit=25").json();
    long nextBefore = first.getLong("nextBefore");
    JsonObject second = app.admin.get("/v1/users/alice/ledger?limit=25&before=" + nextBefore).json();

    byId("journal-older").click();
    waitFor("page 2", d -> "Page 2".equals(byTestId("journal-page").getText()) && "ready".equals(stateOf("journal-status")));
    assertJournalRows("#page-user", objects(second.getJsonArray("entries")));
    assertThat(byId("journal-newer").isEnabled()).isTrue();
    assertThat(byId("journal-older").isEnabled()).as("older while the API has a nextBefore")
        .isEqualTo(second.getValue("nextBefore") != null);
    assertThat(driver.getCurrentUrl()).doesNotContain("before");

    byId("journal-newer").click();
    waitFor("page 1 again", d -> "Page 1".equals(byTestId("journal-page").getText())
        && "ready".equals(stateOf("journal-status")));
    assertJournalRows("#page-user", objects(first.getJsonArray("entries")));
    assertThat(byId("journal-newer").isEnabled()).isFalse();
  }

  @Test
  @Order(6)
  void debtUnknownUsersErrorsAndMarkupInTheDataShowAsText() {
    String title = driver.getTitle();
    showUser("dan");
    JsonObject balance = app.admin.get("/v1/users/dan/balance").json();
    assertThat(card("card-debt")).isEqualTo(balance.getLong("totalDebt")).isEqualTo(40);
    assertThat(card("card-available")).isEqualTo(balance.getLong("available"));
    assertThat(card("card-usage")).isEqualTo(balance.getLong("usageThisCycle")).isEqualTo(150);
    WebElement chart = byTestId("chart-svg");
    assertThat(Long.parseLong(chart.getAttribute("data-last"))).isEqualTo(balance.getLong("netBalance")).isEqualTo(-40);
    assertThat(driver.findElements(By.cssSelector("#chart .chart-zero"))).as("a zero line under a negative balance")
        .hasSize(1);
    // the description is text: shown as it is, never run or parsed as HTML
    assertThat(driver.findElements(By.cssSelector("[data-testid='journal-row'] [data-field='description']"))
        .stream().map(WebElement::getText)).anyMatch(t -> t.contains(HOSTILE));
    assertThat(driver.findElement(By.cssSelector("[data-operation-id='dan-gift'] [data-field='operationId']"))
        .getAttribute("title")).isEqualTo(HOSTILE);
    assertThat(driver.findElements(By.cssSelector("#page-user img, #page-user b"))).isEmpty();
    assertThat(driver.getTitle()).isEqualTo(title).doesNotContain("pwned");

    // a user that does not exist
    lookUp("nobody-here");
    waitFor("the not-found state", d -> "not-found".equals(stateOf("user-status")));
    assertThat(byId("user-status").getText()).isEqualTo("No user “nobody-here”.");
    assertThat(byId("user-detail").isDisplayed()).isFalse();

    // an id the API refuses: its error code and message
    lookUp("no such user");
    waitFor("the error state", d -> "error".equals(stateOf("user-status")));
    Api.Response refused = app.admin.get("/v1/users/no%20such%20user");
    assertThat(byId("user-status").getText()).startsWith("Error " + refused.status() + " " + refused.errorCode() + ": "
        + refused.json().getJsonObject("error").getString("message"));
  }

  // ---- the outbox

  @Test
  @Order(7)
  void aDeadRowIsRetriedFromTheOutboxPage() throws IOException {
    byId("tab-outbox").click();
    waitFor("the outbox page", d -> byId("page-outbox").isDisplayed());
    assertThat(settled("dead-status")).isEqualTo("ready");
    assertThat(settled("pending-status")).isEqualTo("empty");
    assertThat(byId("pending-status").getText()).isEqualTo("No pending rows.");

    List<JsonObject> dead = outbox("dead");
    assertThat(dead).hasSize(2);
    List<Map<String, String>> rows = rows("[data-testid='dead-row']");
    assertThat(rows).extracting(r -> Long.parseLong(r.get("@outboxId")))
        .containsExactlyElementsOf(dead.stream().map(r -> r.getLong("outboxId")).toList());
    for (int i = 0; i < rows.size(); i++) {
      assertThat(rows.get(i).get("userId")).isEqualTo("bob");
      assertThat(rows.get(i).get("action")).isEqualTo(dead.get(i).getString("action"));
      assertThat(rows.get(i).get("grantOperationId")).isEqualTo(dead.get(i).getString("grantOperationId"));
      assertThat(rows.get(i).get("lastError")).isEqualTo(dead.get(i).getString("lastError")).contains("503");
      assertThat(number(rows.get(i).get("attempts"))).isEqualTo(1);
    }
    assertThat(byTestId("dead-count").getText()).isEqualTo("(2)");
    assertNoHorizontalOverflow("outbox at 1280x800");
    screenshot("outbox-1280x800.png");

    JsonObject target = dead.stream().filter(r -> r.getString("grantOperationId").equals("order-3001")).findFirst()
        .orElseThrow();
    long id = target.getLong("outboxId");
    byId("retry-" + id).click();
    waitFor("the retry's answer", d -> byId("outbox-message").isDisplayed() ? true : null);
    assertThat(byId("outbox-message").getText()).startsWith("Row " + id + " is back in line (pending)");
    assertThat(byId("outbox-message").getAttribute("data-state")).isEqualTo("ok");
    waitFor("the lists refreshed without the row", d -> "ready".equals(stateOf("dead-status"))
        && driver.findElements(By.cssSelector("[data-testid='dead-row'][data-outbox-id='" + id + "']")).isEmpty());

    // the API agrees: the row went back in line, and the relay delivers it now that Stripe answers
    Eventually.await("the retried row delivered", PATIENCE, () -> app.admin.get("/v1/admin/outbox?limit=500").json()
        .getJsonArray("rows").stream().map(o -> (JsonObject) o).filter(r -> r.getLong("outboxId") == id)
        .allMatch(r -> r.getString("status").equals("delivered")));
    assertThat(objects(app.admin.get("/v1/users/bob/grants").json().getJsonArray("grants")).stream()
        .filter(g -> g.getString("operationId").equals("order-3001")).findFirst().orElseThrow()
        .getJsonObject("stripe").getString("state")).isEqualTo("synced");
    assertThat(outbox("dead")).hasSize(1);
  }

  // ---- operations

  @Test
  @Order(8)
  void theAuditAndTheResetsRunFromTheOperationsPage() {
    byId("tab-operations").click();
    waitFor("the operations page", d -> byId("page-operations").isDisplayed());

    byId("run-audit").click();
    String state = settled("audit-status");
    JsonObject audit = app.admin.get("/v1/admin/audit").json();
    assertThat(audit.getBoolean("ok")).as("bob's remaining dead row is a problem").isFalse();
    assertThat(state).isEqualTo("problems");
    List<JsonObject> problems = objects(audit.getJsonArray("problems"));
    assertThat(byId("audit-status").getText()).startsWith(problems.size() + (problems.size() == 1 ? " problem" : " problems"));
    assertThat(driver.findElements(By.cssSelector("[data-testid='audit-problem']"))).extracting(WebElement::getText)
        .containsExactlyElementsOf(problems.stream().map(p -> p.getString("check") + ": " + p.getString("problem")).toList());

    // once the dead row is delivered too, the audit is clean
    long last = outbox("dead").get(0).getLong("outboxId");
    assertThat(app.admin.post("/v1/admin/outbox/" + last + "/retry", new JsonObject()).status()).isEqualTo(200);
    Eventually.await("nothing left in the outbox", PATIENCE, () -> outbox("dead").isEmpty() && outbox("pending").isEmpty());
    byId("run-audit").click();
    waitFor("a clean audit", d -> "ok".equals(stateOf("audit-status")) ? true : null);
    assertThat(byId("audit-status").getText()).startsWith("OK: no problems");
    assertThat(byId("audit-problems").isDisplayed()).isFalse();
    assertThat(app.admin.get("/v1/admin/audit").json().getBoolean("ok")).isTrue();

    // a month on, every user is due; the users are not read before the run (a read applies a due reset itself)
    Map<String, Instant> nextReset = new LinkedHashMap<>();
    for (String userId : List.of("alice", "bob", "dan")) {
      nextReset.put(userId, Instant.parse(app.admin.get("/v1/users/" + userId).json().getString("nextQuotaReset")));
    }
    app.clock.advance(Duration.ofDays(32));
    Instant now = app.clock.instant();
    long due = nextReset.values().stream().filter(t -> !t.isAfter(now)).count();
    assertThat(due).isEqualTo(3);
    byId("run-resets").click();
    assertThat(settled("resets-status")).isEqualTo("ok");
    assertThat(byId("resets-status").getText()).isEqualTo("Reset " + due + " users; no failures.");
    assertThat(byId("resets-status").getAttribute("data-reset")).isEqualTo(String.valueOf(due));
    for (String userId : nextReset.keySet()) {
      JsonObject user = app.admin.get("/v1/users/" + userId).json();
      assertThat(Instant.parse(user.getString("nextQuotaReset"))).as(userId + "'s next reset").isAfter(now);
      assertThat(user.getLong("usageThisCycle")).as(userId + "'s usage").isZero();
    }
    byId("run-resets").click();
    waitFor("a second run", d -> "Reset 0 users; no failures.".equals(byId("resets-status").getText()) ? true : null);
  }

  // ---- orgs (seeded after the resets, so that the month the resets test moves on leaves their usage in range)

  static final String ORG = "acme";

  /**
   * acme: a pool with a credit limit, mirrored to Stripe, an organization grant and two members (who must exist
   * as users first) who both spent from it, at times an hour apart.
   */
  static void seedOrg() {
    app.user("carol", new JsonObject().put("email", "carol@example.com"));
    app.user("erin", new JsonObject().put("email", "erin@example.com"));
    created(app.admin.put("/v1/orgs/" + ORG, new JsonObject().put("name", "Acme Robotics").put("creditLimit", 1000)
        .put("stripeCustomerId", "cus_acme")));
    created(app.admin.put("/v1/orgs/" + ORG + "/members/carol", new JsonObject().put("role", "owner")));
    created(app.admin.put("/v1/orgs/" + ORG + "/members/erin", new JsonObject().put("role", "member")));
    app.clock.advance(Duration.ofHours(1));
    created(app.admin.post("/v1/orgs/" + ORG + "/grants", new JsonObject().put("operationId", "acme-pool-1")
        .put("type", "organization").put("amount", 2000)));
    String[][] spends = {{"carol", "120"}, {"erin", "310"}, {"carol", "75"}, {"erin", "55"}, {"carol", "40"}};
    for (int i = 0; i < spends.length; i++) {
      app.clock.advance(Duration.ofHours(1));
      Api.Response r = app.admin.post("/v1/orgs/" + ORG + "/consume", new JsonObject().put("operationId", "acme-run-" + i)
          .put("userId", spends[i][0]).put("amount", Long.parseLong(spends[i][1])));
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }
    Eventually.await("acme's grant synced with Stripe", PATIENCE, () -> objects(app.admin.get("/v1/orgs/" + ORG
        + "/grants").json().getJsonArray("grants")).stream()
        .allMatch(g -> g.getJsonObject("stripe").getString("state").equals("synced")));
    Eventually.await("acme's outbox delivered", PATIENCE, () -> outbox("pending").isEmpty());
    // and an org with nothing: no limit, no members, no grants
    created(app.admin.put("/v1/orgs/bare", new JsonObject().put("name", "Bare Org")));
  }

  static void lookUpOrg(String orgId) {
    if (!byId("page-org").isDisplayed()) {
      byId("tab-org").click();
    }
    WebElement input = byId("org-input");
    input.clear();
    input.sendKeys(orgId);
    byId("org-lookup-button").click();
  }

  static final List<String> ORG_PARTS = List.of("org-members-status", "org-usage-status", "org-grants-status",
      "org-journal-status");

  /** Looks the org up and waits for every part of its page to be there. */
  static void showOrg(String orgId, String name) {
    lookUpOrg(orgId);
    waitFor(orgId + "'s page", d -> "ready".equals(stateOf("org-status")) && name.equals(byId("org-title").getText()));
    for (String part : ORG_PARTS) {
      settled(part);
    }
  }

  @Test
  @Order(9)
  void theOrgPageShowsThePoolMembersUsageGrantsAndJournalTheApiGives() throws IOException {
    seedOrg();
    byId("tab-org").click();
    waitFor("the org page", d -> byId("page-org").isDisplayed());
    assertThat(byId("tab-org").getAttribute("aria-current")).isEqualTo("page");
    assertThat(stateOf("org-status")).isEqualTo("idle");
    assertThat(byId("org-detail").isDisplayed()).isFalse();

    showOrg(ORG, "Acme Robotics");
    assertThat(driver.getCurrentUrl()).endsWith("/console/#org=" + ORG);
    assertTokenNotInTheUrl();
    for (String part : ORG_PARTS) {
      assertThat(stateOf(part)).as(part).isEqualTo("ready");
    }

    // the name, the meta line and the cards
    JsonObject org = app.admin.get("/v1/orgs/" + ORG).json();
    JsonObject balance = app.admin.get("/v1/orgs/" + ORG + "/balance").json();
    assertThat(byId("org-meta").getText()).isEqualTo(ORG + " · Stripe customer cus_acme · " + org.getString("centsPerCredit")
        + "¢ per credit · since " + utc(org.getString("createdAt")));
    assertThat(card("org-card-available")).isEqualTo(balance.getLong("available")).isEqualTo(2000 - 600);
    assertThat(card("org-card-debt")).isEqualTo(balance.getLong("totalDebt")).isZero();
    assertThat(card("org-card-usage")).isEqualTo(balance.getLong("usageThisCycle")).isEqualTo(org.getLong("usageThisCycle"))
        .isEqualTo(600);
    assertThat(card("org-card-limit")).isEqualTo(org.getLong("creditLimit")).isEqualTo(1000);
    assertThat(card("org-card-limit-left")).isEqualTo(org.getLong("creditLimit") - org.getLong("usageThisCycle"))
        .isEqualTo(400);
    assertThat(byId("org-card-next-reset").getAttribute("data-value")).isEqualTo(balance.getString("nextQuotaReset"));
    assertThat(byId("org-card-next-reset").getText()).isEqualTo(utc(balance.getString("nextQuotaReset")));

    // the members, as the API lists them: each user id a link to that user
    List<JsonObject> members = objects(app.admin.get("/v1/orgs/" + ORG + "/members").json().getJsonArray("members"));
    assertThat(members).hasSize(2);
    List<Map<String, String>> memberRows = rows("#page-org [data-testid='member-row']");
    assertThat(memberRows).hasSize(members.size());
    for (int i = 0; i < members.size(); i++) {
      JsonObject m = members.get(i);
      assertThat(memberRows.get(i).get("@userId")).isEqualTo(memberRows.get(i).get("userId")).isEqualTo(m.getString("userId"));
      assertThat(memberRows.get(i).get("role")).isEqualTo(m.getString("role"));
      assertThat(memberRows.get(i).get("addedAt")).isEqualTo(utc(m.getString("addedAt")));
      assertThat(driver.findElement(By.cssSelector("#page-org [data-testid='member-row'][data-user-id='"
          + m.getString("userId") + "'] a")).getAttribute("href")).endsWith("#user=" + m.getString("userId"));
    }
    assertThat(byTestId("org-members-count").getText()).isEqualTo("(2)");

    // usage by member over the last 30 days (the endpoint's default), and the total
    JsonObject usage = app.admin.get("/v1/orgs/" + ORG + "/usage").json();
    List<JsonObject> perMember = objects(usage.getJsonArray("members"));
    assertThat(perMember).extracting(u -> u.getString("userId") + ":" + u.getLong("credits"))
        .containsExactlyInAnyOrder("carol:235", "erin:365");
    List<Map<String, String>> usageRows = rows("#page-org [data-testid='usage-row']");
    assertThat(usageRows).extracting(r -> r.get("userId") + ":" + number(r.get("credits")))
        .containsExactlyElementsOf(perMember.stream().map(u -> u.getString("userId") + ":" + u.getLong("credits")).toList());
    assertThat(card("org-usage-total")).isEqualTo(usage.getLong("total")).isEqualTo(600);
    assertThat(byTestId("org-usage-range").getText()).isEqualTo(utc(usage.getString("from")) + " to "
        + utc(usage.getString("to")));

    // the org's grants and its journal, with the user page's components
    List<JsonObject> grants = objects(app.admin.get("/v1/orgs/" + ORG + "/grants?limit=500").json().getJsonArray("grants"));
    assertThat(grants).extracting(g -> g.getString("type")).containsExactly("organization");
    assertGrantRows("#page-org", grants);
    assertThat(byTestId("org-grants-count").getText()).isEqualTo("(1)");
    List<JsonObject> journal = objects(app.admin.get("/v1/orgs/" + ORG + "/ledger?limit=25").json().getJsonArray("entries"));
    assertThat(journal).hasSize(6);
    assertJournalRows("#page-org", journal);
    assertThat(byTestId("org-journal-page").getText()).isEqualTo("Page 1");
    assertThat(byId("org-journal-newer").isEnabled()).isFalse();
    assertThat(byId("org-journal-older").isEnabled()).isFalse();
    // the user page's tables hold nothing of the org's
    assertThat(driver.findElements(By.cssSelector("#page-user [data-operation-id='acme-pool-1']"))).isEmpty();

    assertNoHorizontalOverflow("acme at 1280x800");
    screenshot("org-1280x800.png");
    fullPage("org-1280-full.png");

    // an org with no credit limit, no members and nothing in its pool: each part says so
    showOrg("bare", "Bare Org");
    assertThat(app.admin.get("/v1/orgs/bare").json().getValue("creditLimit")).isNull();
    assertThat(byId("org-card-limit").getText()).isEqualTo("No limit");
    assertThat(byId("org-card-limit").getAttribute("data-value")).isEmpty();
    assertThat(byId("org-card-limit-left").getText()).isEqualTo("—");
    assertThat(byId("org-meta").getText()).contains("no Stripe customer");
    assertThat(card("org-card-available")).isZero();
    for (String[] part : new String[][] {{"org-members-status", "No members."},
        {"org-usage-status", "No usage in the last 30 days."}, {"org-grants-status", "No grants."},
        {"org-journal-status", "No journal entries."}}) {
      assertThat(stateOf(part[0])).as(part[0]).isEqualTo("empty");
      assertThat(byId(part[0]).getText()).isEqualTo(part[1]);
    }
    assertThat(driver.findElements(By.cssSelector("#page-org [data-testid$='-row']"))).isEmpty();
    for (String table : List.of("org-members-table", "org-usage-table", "org-grants-table", "org-journal-table")) {
      assertThat(byId(table).isDisplayed()).as(table).isFalse();
    }

    // an org that does not exist, then one whose id the API refuses
    lookUpOrg("nobody-org");
    waitFor("the not-found state", d -> "not-found".equals(stateOf("org-status")));
    assertThat(byId("org-status").getText()).isEqualTo("No org “nobody-org”.");
    assertThat(byId("org-detail").isDisplayed()).isFalse();
    assertThat(driver.getCurrentUrl()).endsWith("#org=nobody-org");
    lookUpOrg("no such org");
    waitFor("the error state", d -> "error".equals(stateOf("org-status")));
    Api.Response refused = app.admin.get("/v1/orgs/no%20such%20org");
    assertThat(byId("org-status").getText()).startsWith("Error " + refused.status() + " " + refused.errorCode() + ": "
        + refused.json().getJsonObject("error").getString("message"));
  }

  @Test
  @Order(10)
  void aMemberLinkOpensThatUserOnTheUsersPage() {
    showOrg(ORG, "Acme Robotics");
    driver.findElement(By.cssSelector("#page-org [data-testid='member-row'][data-user-id='erin'] [data-field='userId'] a"))
        .click();
    waitFor("erin's page", d -> byId("page-user").isDisplayed() && "ready".equals(stateOf("user-status"))
        && "erin".equals(byId("user-title").getText()));
    assertThat(driver.getCurrentUrl()).endsWith("/console/#user=erin");
    assertThat(byId("tab-user").getAttribute("aria-current")).isEqualTo("page");
    assertThat(byId("tab-org").getAttribute("aria-current")).isNull();
    assertThat(byId("page-org").isDisplayed()).isFalse();
    assertThat(byId("user-input").getAttribute("value")).isEqualTo("erin");
    assertThat(byId("user-meta").getText()).contains("erin@example.com");
    // erin's own balance is not the pool's: what erin spent from acme is not erin's usage
    assertThat(card("card-usage")).isEqualTo(app.admin.get("/v1/users/erin/balance").json().getLong("usageThisCycle"))
        .isZero();

    // the Orgs tab goes back to the org last shown
    assertThat(byId("tab-org").getAttribute("href")).endsWith("#org=" + ORG);
    byId("tab-org").click();
    waitFor("acme again", d -> byId("page-org").isDisplayed() && byId("org-detail").isDisplayed());
    assertThat(byId("org-title").getText()).isEqualTo("Acme Robotics");
  }

  // ---- layouts

  @Test
  @Order(11)
  void atPhoneWidthNothingOverflowsAndTablesScrollInTheirBox() throws IOException {
    assertThat(viewport()).as("the desktop viewport").containsExactly(1280, 800);
    for (String hash : List.of("#operations", "#outbox")) {
      open(hash);
      waitFor(hash, d -> byId("page-" + hash.substring(1)).isDisplayed());
      assertNoHorizontalOverflow(hash + " at 1280x800");
    }
    open("#org=" + ORG);
    waitFor("acme", d -> byId("page-org").isDisplayed() && "ready".equals(stateOf("org-status")));
    for (String part : ORG_PARTS) {
      settled(part);
    }
    assertNoHorizontalOverflow("acme at 1280x800");

    phone();
    try {
      open("#user=alice");
      waitFor("alice at phone width", d -> "ready".equals(stateOf("user-status")));
      for (String part : List.of("grants-status", "journal-status", "chart-status")) {
        settled(part);
      }
      assertThat(viewport()).as("the phone's viewport").containsExactly(375, 812);
      assertNoHorizontalOverflow("alice at 375x812");
      // the grants and journal tables are wider than a phone: they scroll inside their own box
      assertScrollsInItsBox("grants-wrap");
      assertScrollsInItsBox("journal-wrap");
      assertThat(byTestId("chart-svg").getSize().getWidth()).as("the chart fits the phone").isLessThanOrEqualTo(375);
      screenshot("user-375x812.png");

      open("#org=" + ORG);
      waitFor("acme at phone width", d -> byId("page-org").isDisplayed() && "ready".equals(stateOf("org-status"))
          && byId("org-detail").isDisplayed());
      for (String part : ORG_PARTS) {
        settled(part);
      }
      assertNoHorizontalOverflow("acme at 375x812");
      assertScrollsInItsBox("org-grants-wrap");
      assertScrollsInItsBox("org-journal-wrap");
      for (String wrap : List.of("org-members-wrap", "org-usage-wrap")) {
        assertThat(byTestId(wrap).getSize().getWidth()).as(wrap + " within the phone").isLessThanOrEqualTo(375);
      }
      screenshot("org-375x812.png");
      fullPage("org-375-full.png");
      for (String hash : List.of("#outbox", "#operations")) {
        open(hash);
        waitFor(hash, d -> byId("page-" + hash.substring(1)).isDisplayed());
        if (hash.equals("#outbox")) {
          settled("dead-status");
        }
        assertNoHorizontalOverflow(hash + " at 375x812");
      }
      open("");
      js("sessionStorage.removeItem(arguments[0]);", TOKEN_KEY);
      open("");
      waitFor("sign-in at phone width", d -> byId("signin").isDisplayed());
      assertNoHorizontalOverflow("sign-in at 375x812");
      screenshot("signin-375x812.png");
    } finally {
      desktop();
    }
    signIn();
    assertThat(viewport()).containsExactly(1280, 800);
  }

  // ---- a token that stops working

  @Test
  @Order(12)
  void aTokenRefusedMidSessionLeadsBackToSignIn() {
    open("#user=alice");
    waitFor("alice", d -> "ready".equals(stateOf("user-status")));
    js("sessionStorage.setItem(arguments[0], arguments[1]);", TOKEN_KEY, "rotated-away-0123456789abcdef");
    lookUp("bob");
    waitFor("the sign-in form", d -> byId("signin").isDisplayed());
    assertThat(byId("signin-message").getText()).contains("401").contains("Sign in again");
    assertThat(tokenInStorage()).isNull();
    assertThat(byId("page-user").isDisplayed()).isFalse();
    assertThat(byId("user-detail").isDisplayed()).isFalse();
    assertThat(driver.findElements(By.cssSelector("[data-testid='grant-row'], [data-testid='journal-row'], "
        + "[data-testid='member-row'], [data-testid='usage-row']")))
        .as("nothing of the last user or org stays in the page").isEmpty();
    assertThat(byId("org-detail").getDomProperty("hidden")).as("the org's page is closed too").isEqualTo("true");
    assertTokenNotInTheUrl();

    signIn();
    waitFor("the page again", d -> byId("page-user").isDisplayed());
    assertThat(tokenInStorage()).isEqualTo(TestApp.ADMIN_TOKEN);
  }

  /** A data-testid names one element (rows excepted, which repeat by design). */
  @Test
  @Order(13)
  void everyTestIdIsUnique() {
    open("");
    @SuppressWarnings("unchecked")
    List<String> ids = (List<String>) js("return Array.from(document.querySelectorAll('[data-testid]'), "
        + "e => e.dataset.testid).filter(id => !id.endsWith('-row'));");
    assertThat(new LinkedHashSet<>(ids)).hasSameSizeAs(ids);
  }
}
