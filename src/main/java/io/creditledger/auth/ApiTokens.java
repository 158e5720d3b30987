package io.creditledger.auth;

import io.creditledger.config.LedgerConfig;
import io.creditledger.config.PrivateFile;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/**
 * The bearer tokens of the HTTP API: a service token for normal calls and an admin token for admin
 * operations. Configured tokens win; missing ones are generated at first start and kept in
 * {@code DATA_DIR/tokens.json} (owner-only), so a restart keeps them.
 */
public final class ApiTokens {
  public enum Role { SERVICE, ADMIN }

  static final String FILE = "tokens.json";
  /** One digest per thread (an event loop checks a token per request): getInstance looks the provider up each time. */
  private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private final List<byte[]> serviceDigests;
  private final List<byte[]> adminDigests;
  private final List<byte[]> metricsDigests;
  private final String service;
  private final String admin;
  private final boolean generated;

  /**
   * The first of each list is the current token (shown, when generated); the others are still accepted.
   * {@code metrics} may read {@code GET /metrics} and nothing else.
   */
  private ApiTokens(List<String> services, List<String> admins, List<String> metrics, boolean generated) {
    this.service = services.get(0);
    this.admin = admins.get(0);
    this.serviceDigests = services.stream().map(ApiTokens::digest).toList();
    this.adminDigests = admins.stream().map(ApiTokens::digest).toList();
    this.metricsDigests = metrics.stream().map(ApiTokens::digest).toList();
    this.generated = generated;
  }

  public static ApiTokens of(String service, String admin) {
    return new ApiTokens(List.of(service), List.of(admin), List.of(), false);
  }

  /** The configured tokens, completed from (or into) {@code DATA_DIR/tokens.json}. Blocking file I/O. */
  public static ApiTokens resolve(LedgerConfig config) {
    if (!config.apiTokens().isEmpty() && !config.adminTokens().isEmpty()) {
      return new ApiTokens(config.apiTokens(), config.adminTokens(), config.metrics().tokens(), false);
    }
    Path file = config.dataDir().resolve(FILE);
    try {
      JsonObject stored = Files.isRegularFile(file)
          ? new JsonObject(Files.readString(file, StandardCharsets.UTF_8)) : new JsonObject();
      boolean generated = false;
      if (stored.getString("service") == null) {
        stored.put("service", "svc_" + randomToken());
        generated = true;
      }
      if (stored.getString("admin") == null) {
        stored.put("admin", "adm_" + randomToken());
        generated = true;
      }
      if (generated) {
        PrivateFile.write(file, stored.encodePrettily());
      }
      List<String> services = !config.apiTokens().isEmpty() ? config.apiTokens() : List.of(stored.getString("service"));
      List<String> admins = !config.adminTokens().isEmpty() ? config.adminTokens() : List.of(stored.getString("admin"));
      return new ApiTokens(services, admins, config.metrics().tokens(), generated);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or write " + file, e);
    }
  }


  private static String randomToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The role a presented token grants, or null. Compares digests in constant time. */
  public Role roleOf(String presented) {
    if (presented == null) {
      return null;
    }
    byte[] d = digest(presented);
    boolean isAdmin = false;
    boolean isService = false;
    // every digest is compared, so the time taken does not tell which (or whether one) matched
    for (byte[] admin : adminDigests) {
      isAdmin |= MessageDigest.isEqual(d, admin);
    }
    for (byte[] service : serviceDigests) {
      isService |= MessageDigest.isEqual(d, service);
    }
    return isAdmin ? Role.ADMIN : isService ? Role.SERVICE : null;
  }

  /** Whether {@code presented} may read the metrics: the admin token, or a metrics token. Constant time. */
  public boolean mayReadMetrics(String presented) {
    if (presented == null) {
      return false;
    }
    byte[] d = digest(presented);
    boolean metrics = false;
    for (byte[] m : metricsDigests) {
      metrics |= MessageDigest.isEqual(d, m);
    }
    return roleOf(presented) == Role.ADMIN | metrics;
  }

  /** True when this start generated a token, which is then shown once. */
  public boolean generated() {
    return generated;
  }

  public String service() {
    return service;
  }

  public String admin() {
    return admin;
  }

  private static byte[] digest(String s) {
    return SHA_256.get().digest(s.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "ApiTokens[redacted]";
  }
}
