package io.creditledger.config;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.SslMode;

import javax.net.ssl.TrustManagerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.Properties;

/**
 * A PostgreSQL location given as {@code postgresql://user:pass@host:port/db?sslmode=...&sslrootcert=...}. It is
 * turned into the options of the reactive pool and into the JDBC URL that only Liquibase uses, with the same TLS
 * settings for both.
 *
 * @param sslMode libpq's: {@code disable} (the default here), {@code prefer} and {@code require} (encrypted, the
 *                server not verified), {@code verify-ca} (its certificate must chain to {@code sslRootCert}, or to
 *                the JVM's trusted authorities without one), {@code verify-full} (and name the host)
 * @param sslRootCert a PEM file of the authorities to trust, or null
 */
public record DatabaseUrl(String host, int port, String database, String user, String password, String sslMode,
                          String sslRootCert) {
  public static final List<String> SSL_MODES = List.of("disable", "prefer", "require", "verify-ca", "verify-full");

  public DatabaseUrl(String host, int port, String database, String user, String password) {
    this(host, port, database, user, password, "disable", null);
  }

  public static DatabaseUrl parse(String setting, String value) {
    URI uri;
    try {
      uri = new URI(value.trim());
    } catch (URISyntaxException e) {
      throw ConfigException.invalid(setting, "not a URL of the form postgresql://user:pass@host:port/db");
    }
    String scheme = uri.getScheme();
    if (!"postgresql".equals(scheme) && !"postgres".equals(scheme)) {
      throw ConfigException.invalid(setting, "must start with postgresql:// (got scheme " + scheme + ")");
    }
    if (uri.getHost() == null || uri.getHost().isBlank()) {
      throw ConfigException.invalid(setting, "has no host");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String database = decode(path.startsWith("/") ? path.substring(1) : path);
    if (database.isBlank() || database.contains("/")) {
      throw ConfigException.invalid(setting, "must name one database after the host, as in postgresql://host:5432/ledger");
    }
    String user = "postgres";
    String password = null;
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    String sslMode = "disable";
    String sslRootCert = null;
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        String given = eq < 0 ? "" : decode(pair.substring(eq + 1));
        switch (name) {
          case "sslmode" -> {
            if (!SSL_MODES.contains(given)) {
              throw ConfigException.invalid(setting, "sslmode must be one of " + String.join(", ", SSL_MODES)
                  + ", got \"" + given + "\"");
            }
            sslMode = given;
          }
          case "sslrootcert" -> {
            if (!Files.isReadable(Path.of(given))) {
              throw ConfigException.invalid(setting, "sslrootcert " + given + " is not a readable file");
            }
            sslRootCert = given;
          }
          default -> throw ConfigException.invalid(setting, "takes only the parameters sslmode and sslrootcert, got \""
              + name + "\"");
        }
      }
    }
    return new DatabaseUrl(uri.getHost(), port, database, user, password, sslMode, sslRootCert);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  public DatabaseUrl withDatabase(String otherDatabase) {
    return new DatabaseUrl(host, port, otherDatabase, user, password, sslMode, sslRootCert);
  }

  private boolean verifies() {
    return sslMode.startsWith("verify-");
  }

  public PgConnectOptions connectOptions() {
    PgConnectOptions options = new PgConnectOptions()
        .setHost(host).setPort(port).setDatabase(database).setUser(user)
        .setCachePreparedStatements(true)
        .setPipeliningLimit(256);
    if (password != null) {
      options.setPassword(password);
    }
    if (sslMode.equals("disable")) {
      return options;
    }
    options.setSslMode(SslMode.of(sslMode));
    ClientSSLOptions ssl = new ClientSSLOptions();
    if (!verifies()) {
      ssl.setTrustAll(true);
    } else {
      ssl.setTrustOptions(sslRootCert != null ? new PemTrustOptions().addCertPath(sslRootCert) : jvmTrust());
      if (sslMode.equals("verify-full")) {
        ssl.setHostnameVerificationAlgorithm("HTTPS");
      }
    }
    return options.setSslOptions(ssl);
  }

  /** The authorities the JVM trusts (its cacerts), for servers with certificates from a public authority. */
  private static TrustOptions jvmTrust() {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      return TrustOptions.wrap(factory.getTrustManagers()[0]);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("The JVM's trusted authorities cannot be read", e);
    }
  }

  /** pgjdbc with the same TLS: not verified for prefer/require, and the JVM's authorities without a root cert. */
  public String jdbcUrl() {
    String url = "jdbc:postgresql://" + host + ":" + port + "/" + database;
    if (sslMode.equals("disable")) {
      return url + "?sslmode=disable";
    }
    url += "?sslmode=" + sslMode;
    if (!verifies()) {
      return url + "&sslfactory=org.postgresql.ssl.NonValidatingFactory";
    }
    return sslRootCert != null ? url + "&sslrootcert=" + URLEncoder.encode(sslRootCert, StandardCharsets.UTF_8)
        : url + "&sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory";
  }

  public Properties jdbcProperties() {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    return p;
  }

  /** The URL without its password, for logs. */
  public String redacted() {
    return "postgresql://" + user + "@" + host + ":" + port + "/" + database
        + (sslMode.equals("disable") ? "" : "?sslmode=" + sslMode);
  }

  @Override
  public String toString() {
    return redacted();
  }
}
