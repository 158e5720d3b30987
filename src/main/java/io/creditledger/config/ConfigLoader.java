package io.creditledger.config;

import io.creditledger.domain.GrantType;
import io.creditledger.money.CentsPerCredit;
import io.creditledger.time.ResetCycle;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code conf/config.json} (from the working directory when present, otherwise the copy packaged in
 * the jar), lets environment variables of the same names override it, and validates every value. A bad value
 * throws {@link ConfigException} naming the setting.
 */
public final class ConfigLoader {
  public static final String CONFIG_FILE = "conf/config.json";

  private final Map<String, String> values;

  private ConfigLoader(Map<String, String> values) {
    this.values = values;
  }

  /** Defaults from {@code conf/config.json}, overridden by the process environment. */
  public static LedgerConfig fromEnvironment() {
    return load(readDefaults(), System.getenv());
  }

  /** Defaults from {@code conf/config.json}, overridden by {@code overrides} (same names as the environment). */
  public static LedgerConfig load(Map<String, String> overrides) {
    return load(readDefaults(), overrides);
  }

  public static LedgerConfig load(JsonObject defaults, Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>();
    for (Map.Entry<String, Object> e : defaults) {
      merged.put(e.getKey(), e.getValue() == null ? null : String.valueOf(e.getValue()));
    }
    for (String name : defaults.fieldNames()) {
      String v = overrides.get(name);
      if (v != null && !v.isBlank()) {
        merged.put(name, v);
      }
    }
    for (String name : SECRETS) {
      String file = overrides.get(name + FILE_SUFFIX);
      if (file != null && !file.isBlank()) {
        String direct = overrides.get(name);
        if (direct != null && !direct.isBlank()) {
          throw new ConfigException("Set " + name + " or " + name + FILE_SUFFIX + ", not both");
        }
        merged.put(name, readSecretFile(name + FILE_SUFFIX, Path.of(file.strip())));
      }
    }
    return new ConfigLoader(merged).build();
  }

  /** Settings that hold secrets: each may instead be read from the file its {@code _FILE} twin names. */
  public static final List<String> SECRETS = List.of("LEDGER_API_TOKEN", "LEDGER_ADMIN_TOKEN",
      "API_KEY_ENCRYPTION_SECRET", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "METRICS_TOKEN");
  public static final String FILE_SUFFIX = "_FILE";

  /** A secret file's content without the line break (or spaces) editors and {@code echo} leave at its end. */
  private static String readSecretFile(String setting, Path file) {
    try {
      String content = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (content.isEmpty()) {
        throw new ConfigException("Invalid setting " + setting + ": " + file + " is empty");
      }
      return content;
    } catch (IOException | UncheckedIOException e) {
      throw new ConfigException("Invalid setting " + setting + ": cannot read " + file + " ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  static JsonObject readDefaults() {
    Path local = Path.of(CONFIG_FILE);
    try {
      if (Files.isRegularFile(local)) {
        return parse(Files.readString(local, StandardCharsets.UTF_8), local.toAbsolutePath().toString());
      }
      try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(CONFIG_FILE)) {
        if (in == null) {
          throw new ConfigException("No " + CONFIG_FILE + " in the working directory or in the jar");
        }
        return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "classpath:" + CONFIG_FILE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonObject parse(String text, String where) {
    try {
      return new JsonObject(text);
    } catch (DecodeException e) {
      throw new ConfigException("Invalid configuration file " + where + ": not a JSON object");
    }
  }

  private LedgerConfig build() {
    int verticleInstances = verticleInstances();
    LedgerConfig config = new LedgerConfig(
        required("HTTP_HOST"),
        integer("HTTP_PORT", 0, 65535),
        integer("HTTP_BODY_LIMIT_BYTES", 1024, 10 * 1024 * 1024),
        verticleInstances,
        eventLoops(verticleInstances),
        databaseUrl(),
        new PoolSettings(
            integer("DATABASE_POOL_SIZE", 1, 1000),
            integer("DATABASE_POOL_MAX_WAITING", 1, 100_000),
            duration("DATABASE_ACQUIRE_TIMEOUT")),
        new BatchSettings(
            integer("LEDGER_BATCH_SIZE", 1, 10_000),
            integer("LEDGER_BATCH_CONCURRENCY", 1, 64),
            integer("LEDGER_BATCH_OVERLAP_MIN", 1, 10_000),
            integer("LEDGER_QUEUE_MAX", 1, 1_000_000)),
        Path.of(required("DATA_DIR")),
        tokens("LEDGER_API_TOKEN"),
        tokens("LEDGER_ADMIN_TOKEN"),
        resetCycle(),
        centsPerCredit("DEFAULT_CENTS_PER_CREDIT"),
        longValue("MAX_DEBT", 0, 1_000_000_000_000L),
        grantPriorities(),
        longValue("FREE_GRANT_CREDITS", 0, 1_000_000_000_000L),
        integer("REFERRAL_LIMIT", 0, 1_000_000),
        longValue("MAX_CREDITS_PER_OPERATION", 1, 1_000_000_000_000_000L),
        stripe(),
        new ResetSettings(
            duration("RESET_SCAN_INTERVAL"),
            integer("RESET_BATCH_SIZE", 1, 100_000),
            integer("RESET_CONCURRENCY", 1, 256),
            nonNegativeDuration("RESET_BATCH_PAUSE"),
            duration("RESET_CLAIM_LEASE"),
            longValue("REFERRAL_RESET_CREDITS", 0, 1_000_000_000_000L),
            longValue("ORG_FREE_GRANT_CREDITS", 0, 1_000_000_000_000L)),
        holds(),
        new EventSettings(
            longValue("LOW_BALANCE_THRESHOLD", 0, 1_000_000_000_000L),
            duration("EVENTS_POLL_INTERVAL"),
            duration("WEBHOOK_TIMEOUT"),
            integer("WEBHOOK_CONCURRENCY", 1, 256),
            integer("WEBHOOK_MAX_ATTEMPTS", 1, 100),
            duration("WEBHOOK_BACKOFF_BASE"),
            duration("WEBHOOK_BACKOFF_MAX"),
            duration("EVENTS_RETENTION")),
        longValue("AUTO_TOP_UP_MIN_CREDITS", 1, 1_000_000_000_000L),
        new MetricsSettings(tokens("METRICS_TOKEN"), duration("METRICS_POLL_INTERVAL")),
        apiKeySecret(),
        apiKeyTypes(),
        Clock.systemUTC());
    // read by logback.xml from the environment; checked here so that a typo stops startup instead of all output
    String logFormat = required("LOG_FORMAT");
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      throw ConfigException.invalid("LOG_FORMAT", "must be text or json, got \"" + logFormat + "\"");
    }
    if (config.metrics().tokens().stream().anyMatch(t -> config.apiTokens().contains(t)
        || config.adminTokens().contains(t))) {
      throw ConfigException.invalid("METRICS_TOKEN", "must differ from the service and admin tokens");
    }
    if (config.adminTokens().stream().anyMatch(config.apiTokens()::contains)) {
      throw ConfigException.invalid("LEDGER_ADMIN_TOKEN", "must differ from LEDGER_API_TOKEN");
    }
    return config;
  }

  private HoldSettings holds() {
    HoldSettings holds = new HoldSettings(duration("HOLD_DEFAULT_TTL"), duration("HOLD_MAX_TTL"),
        duration("HOLD_SWEEP_INTERVAL"));
    if (holds.defaultTtl().compareTo(holds.maxTtl()) > 0) {
      throw ConfigException.invalid("HOLD_DEFAULT_TTL", "must not exceed HOLD_MAX_TTL");
    }
    return holds;
  }

  private String optional(String name) {
    String v = values.get(name);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private String required(String name) {
    String v = optional(name);
    if (v == null) {
      throw ConfigException.invalid(name, "must be set");
    }
    return v;
  }

  private int integer(String name, int min, int max) {
    return (int) longValue(name, min, max);
  }

  private long longValue(String name, long min, long max) {
    String v = required(name);
    try {
      long n = Long.parseLong(v);
      if (n < min || n > max) {
        throw ConfigException.invalid(name, "must be between " + min + " and " + max + ", got " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw ConfigException.invalid(name, "must be an integer, got \"" + v + "\"");
    }
  }

  /** A JSON object naming a priority for each grant type, e.g. {"free":20,"referral":40,...}. */
  private Map<GrantType, Integer> grantPriorities() {
    String name = "GRANT_PRIORITIES";
    JsonObject json;
    try {
      json = new JsonObject(required(name));
    } catch (DecodeException | ClassCastException e) {
      throw ConfigException.invalid(name, "must be a JSON object such as {\"free\":20,\"referral\":40,...}");
    }
    Map<GrantType, Integer> priorities = new EnumMap<>(GrantType.class);
    for (String key : json.fieldNames()) {
      GrantType type = GrantType.fromWire(key);
      if (type == null) {
        throw ConfigException.invalid(name, "unknown grant type \"" + key + "\" (types: " + GrantType.NAMES + ")");
      }
      if (!(json.getValue(key) instanceof Integer p) || p < 0) {
        throw ConfigException.invalid(name, "the priority of " + key + " must be a non-negative integer");
      }
      priorities.put(type, p);
    }
    // organization grants came later: a setting written before them keeps working
    priorities.putIfAbsent(GrantType.ORGANIZATION, GrantType.DEFAULT_ORGANIZATION_PRIORITY);
    if (priorities.size() != GrantType.values().length) {
      throw ConfigException.invalid(name, "must name a priority for each of " + GrantType.NAMES);
    }
    return Map.copyOf(priorities);
  }

  private StripeSettings stripe() {
    String currency = required("STRIPE_CURRENCY").toLowerCase(java.util.Locale.ROOT);
    if (!currency.matches("[a-z]{3}")) {
      throw ConfigException.invalid("STRIPE_CURRENCY", "must be a three-letter ISO currency code such as usd");
    }
    String apiBase = required("STRIPE_API_BASE");
    if (!apiBase.matches("https?://[^\\s/]+(:\\d+)?/?")) {
      throw ConfigException.invalid("STRIPE_API_BASE", "must be a base URL such as https://api.stripe.com");
    }
    return new StripeSettings(
        optional("STRIPE_API_KEY"),
        optional("STRIPE_WEBHOOK_SECRET"),
        apiBase.endsWith("/") ? apiBase.substring(0, apiBase.length() - 1) : apiBase,
        currency,
        integer("STRIPE_MAX_REQUESTS_PER_SECOND", 1, 10_000),
        integer("STRIPE_MAX_ATTEMPTS", 1, 1000),
        duration("STRIPE_OUTBOX_POLL_INTERVAL"),
        duration("STRIPE_OUTBOX_LEASE"),
        duration("STRIPE_OUTBOX_RETENTION"),
        duration("STRIPE_TIMEOUT"),
        integer("STRIPE_CONCURRENCY", 1, 256),
        duration("STRIPE_BACKOFF_BASE"),
        duration("STRIPE_BACKOFF_MAX"),
        meterEventName());
  }

  /** The Stripe meter's event name: unset means usage is not reported. */
  private String meterEventName() {
    String v = optional("STRIPE_METER_EVENT_NAME");
    if (v != null && !v.matches("[A-Za-z0-9_.:-]{1,100}")) {
      throw ConfigException.invalid("STRIPE_METER_EVENT_NAME", "must be 1-100 letters, digits or _ . : -");
    }
    return v;
  }

  /** A positive ISO-8601 duration such as PT5S or P7D. */
  private Duration duration(String name) {
    Duration d = nonNegativeDuration(name);
    if (d.isZero()) {
      throw ConfigException.invalid(name, "must be a positive duration, got " + values.get(name));
    }
    return d;
  }

  private Duration nonNegativeDuration(String name) {
    String v = required(name);
    try {
      Duration d = Duration.parse(v);
      if (d.isNegative()) {
        throw ConfigException.invalid(name, "must not be negative, got " + v);
      }
      return d;
    } catch (java.time.format.DateTimeParseException e) {
      throw ConfigException.invalid(name, "must be an ISO-8601 duration such as PT5S or P7D, got \"" + v + "\"");
    }
  }

  /**
   * Exactly 32 bytes: 32 characters (as UTF-8), or {@code base64:} followed by 32 bytes in base64. The value is
   * never echoed in the message.
   */
  private Secret apiKeySecret() {
    String name = "API_KEY_ENCRYPTION_SECRET";
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    byte[] bytes;
    if (v.startsWith("base64:")) {
      try {
        bytes = java.util.Base64.getDecoder().decode(v.substring("base64:".length()).trim());
      } catch (IllegalArgumentException e) {
        throw ConfigException.invalid(name, "after base64: must come valid base64");
      }
    } else {
      bytes = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    if (bytes.length != 32) {
      throw ConfigException.invalid(name, "must be exactly 32 bytes (32 characters, or base64:<32 bytes in base64>), got "
          + bytes.length + " bytes");
    }
    return new Secret(bytes);
  }

  private List<String> apiKeyTypes() {
    String name = "API_KEY_TYPES";
    List<String> types = new java.util.ArrayList<>();
    for (String t : required(name).split(",")) {
      String type = t.trim();
      if (!type.matches("[a-z0-9_-]{1,32}")) {
        throw ConfigException.invalid(name, "must be a comma-separated list of names such as anthropic,gemini,openai");
      }
      types.add(type);
    }
    return List.copyOf(types);
  }

  /**
   * {@code VERTICLE_INSTANCES}, and for 0 one per core but one (at least one), a core being left to PostgreSQL and
   * the rest of the machine: on 2 cores, two HTTP event loops cost the service a fifth more CPU per consumption in
   * hand-overs and wake-ups than one (bench/RESULTS.md).
   */
  private int verticleInstances() {
    int n = integer("VERTICLE_INSTANCES", 0, 256);
    return n == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors() - 1) : n;
  }

  /**
   * {@code EVENT_LOOPS}, and for 0 one per HTTP verticle instance: the writer and the background verticles share
   * those loops rather than each waking a thread of its own. On 2 cores (one loop), a consumption handed from the
   * HTTP verticle to the writer and back stays on one thread: 12% less service CPU per consumption and 5-7% more
   * throughput than with Vert.x's default of two loops per core, where each had a thread (bench/RESULTS.md).
   */
  private int eventLoops(int verticleInstances) {
    int n = integer("EVENT_LOOPS", 0, 256);
    return n == 0 ? verticleInstances : n;
  }

  private DatabaseUrl databaseUrl() {
    String v = optional("DATABASE_URL");
    return v == null ? null : DatabaseUrl.parse("DATABASE_URL", v);
  }

  /**
   * One token, or several separated by commas (during a rotation: the new one and the one it replaces); empty when
   * the setting is not set.
   */
  private List<String> tokens(String name) {
    String v = optional(name);
    if (v == null) {
      return List.of();
    }
    List<String> tokens = new java.util.ArrayList<>();
    for (String part : v.split(",", -1)) {
      String t = part.strip();
      if (t.length() < 16 || !t.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw ConfigException.invalid(name, "must be at least 16 printable ASCII characters without spaces (several "
            + "tokens: separated by commas)");
      }
      tokens.add(t);
    }
    return List.copyOf(tokens);
  }

  private ResetCycle resetCycle() {
    try {
      return ResetCycle.parse(required("RESET_CYCLE"));
    } catch (IllegalArgumentException e) {
      throw ConfigException.invalid("RESET_CYCLE", e.getMessage());
    }
  }

  private BigDecimal centsPerCredit(String name) {
    String v = required(name);
    try {
      return CentsPerCredit.parse(v);
    } catch (IllegalArgumentException e) {
      throw ConfigException.invalid(name, e.getMessage());
    }
  }
}
