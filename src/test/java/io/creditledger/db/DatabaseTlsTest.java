package io.creditledger.db;

import io.creditledger.CreditLedger;
import io.creditledger.config.ConfigLoader;
import io.creditledger.config.DatabaseUrl;
import io.creditledger.config.LedgerConfig;
import io.creditledger.support.Api;
import io.creditledger.support.SqlSession;
import io.creditledger.support.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.creditledger.support.TestApp.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS to PostgreSQL: an embedded server with {@code ssl=on} and a certificate for {@code localhost} from an
 * authority this test makes (with the JDK's keytool); the service connects with {@code sslmode} and
 * {@code sslrootcert}, for its pool and for Liquibase alike.
 */
class DatabaseTlsTest {
  @TempDir
  static Path certs;
  static EmbeddedPostgres tls;
  static Path ca;

  @BeforeAll
  static void start() throws Exception {
    ca = certs.resolve("ca.pem");
    Path cert = certs.resolve("server.pem");
    Path key = certs.resolve("server.key");
    keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=Ledger Test CA",
        "-ext", "bc:c", "-validity", "30", "-keystore", "ca.p12", "-storetype", "PKCS12", "-storepass", "changeit");
    keytool("-exportcert", "-alias", "ca", "-rfc", "-keystore", "ca.p12", "-storepass", "changeit", "-file", "ca.pem");
    keytool("-genkeypair", "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
        "-validity", "30", "-keystore", "server.p12", "-storetype", "PKCS12", "-storepass", "changeit");
    keytool("-certreq", "-alias", "server", "-keystore", "server.p12", "-storepass", "changeit", "-file", "server.csr");
    keytool("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-storepass", "changeit", "-infile", "server.csr",
        "-outfile", "server.pem", "-rfc", "-ext", "SAN=dns:localhost", "-validity", "30");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(certs.resolve("server.p12"))) {
      store.load(in, "changeit".toCharArray());
    }
    PrivateKey privateKey = (PrivateKey) store.getKey("server", "changeit".toCharArray());
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(privateKey.getEncoded())
        + "\n-----END PRIVATE KEY-----\n");
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    tls = EmbeddedPostgres.builder()
        .setServerConfig("ssl", "on")
        .setServerConfig("ssl_cert_file", cert.toString())
        .setServerConfig("ssl_key_file", key.toString())
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (tls != null) {
      tls.close();
    }
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool");
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(certs.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("keytool %s: %s", args[0], out).isZero();
  }

  private static String url(String host, String query) {
    return "postgresql://postgres@" + host + ":" + tls.getPort() + "/postgres?" + query;
  }

  private static LedgerConfig config(String databaseUrl, Path dataDir) {
    return ConfigLoader.load(Map.of("DATABASE_URL", databaseUrl, "DATA_DIR", dataDir.toString(), "HTTP_PORT", "0",
        "HTTP_HOST", "127.0.0.1", "VERTICLE_INSTANCES", "1", "LEDGER_API_TOKEN", "service-token-tls-000001",
        "LEDGER_ADMIN_TOKEN", "admin-token-tls-00000001"));
  }

  /** Starts the service, creates a user, and answers how many of its connections to the server are encrypted. */
  private static long encryptedConnectionsOfARunningService(String databaseUrl, Path dataDir) {
    Vertx vertx = Vertx.vertx();
    try {
      CreditLedger ledger = await(CreditLedger.deploy(vertx, config(databaseUrl, dataDir)));
      try {
        Api api = new Api(ledger.httpPort(), "service-token-tls-000001");
        assertThat(api.get("/ready").status()).isEqualTo(200);
        assertThat(api.put("/v1/users/tls-" + dataDir.getFileName(), new JsonObject().put("email", "t@example.com"))
            .status()).isEqualTo(201);
        try (SqlSession db = TestDatabase.open(new DatabaseUrl("localhost", tls.getPort(), "postgres", "postgres",
            null))) {
          return db.number("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid "
              + "WHERE s.ssl AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()");
        }
      } finally {
        await(ledger.close());
      }
    } finally {
      await(vertx.close());
    }
  }

  @Test
  void requireEncryptsThePoolAndTheMigrations(@TempDir Path dataDir) {
    assertThat(encryptedConnectionsOfARunningService(url("127.0.0.1", "sslmode=require"), dataDir)).isPositive();
  }

  @Test
  void verifyFullWithTheAuthorityAndTheCertificatesHostWorks(@TempDir Path dataDir) {
    assertThat(encryptedConnectionsOfARunningService(url("localhost", "sslmode=verify-full&sslrootcert=" + ca),
        dataDir)).isPositive();
  }

  @Test
  void verifyFullAgainstAnotherHostNameStopsTheStartWithOneLine(@TempDir Path dataDir) {
    Vertx vertx = Vertx.vertx();
    try {
      assertThatThrownBy(() -> await(CreditLedger.deploy(vertx,
          config(url("127.0.0.1", "sslmode=verify-full&sslrootcert=" + ca), dataDir))))
          .hasMessageContaining("127.0.0.1")
          .hasMessageContaining("sslmode=verify-full")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    } finally {
      await(vertx.close());
    }
  }

  @Test
  void requireAgainstAServerWithoutTlsStopsTheStartWithOneLine(@TempDir Path dataDir) {
    DatabaseUrl plain = TestDatabase.fresh();
    Vertx vertx = Vertx.vertx();
    try {
      assertThatThrownBy(() -> await(CreditLedger.deploy(vertx, config("postgresql://" + plain.user() + "@"
          + plain.host() + ":" + plain.port() + "/" + plain.database() + "?sslmode=require", dataDir))))
          .hasMessageContaining("does not support SSL")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    } finally {
      await(vertx.close());
    }
  }

  @Test
  void theUrlTakesOnlyKnownTlsParameters() {
    assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", "postgresql://h/db?sslmode=sometimes"))
        .hasMessageContaining("sslmode must be one of disable, prefer, require, verify-ca, verify-full");
    assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", "postgresql://h/db?sslrootcert=/no/such/file.pem"))
        .hasMessageContaining("is not a readable file");
    assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", "postgresql://h/db?application_name=x"))
        .hasMessageContaining("takes only the parameters sslmode and sslrootcert");
    DatabaseUrl url = DatabaseUrl.parse("DATABASE_URL", "postgresql://u:p@h:6543/db?sslmode=verify-full&sslrootcert="
        + ca);
    assertThat(url.jdbcUrl()).startsWith("jdbc:postgresql://h:6543/db?sslmode=verify-full&sslrootcert=");
    assertThat(url.redacted()).isEqualTo("postgresql://u@h:6543/db?sslmode=verify-full");
  }
}
