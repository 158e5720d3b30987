package io.creditledger.apikeys;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiKeyCryptoTest {
  static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  static final String KEY = "sk-ant-api03-secret-value-\u00e9\u2603";
  static final String OWNER = "alice\u0000anthropic";

  private final ApiKeyCrypto crypto = new ApiKeyCrypto(SECRET);

  @Test
  void roundTripsWithAVersionPrefix() throws Exception {
    String stored = crypto.encrypt(KEY, OWNER);
    assertThat(stored).startsWith("v1:").doesNotContain(KEY);
    assertThat(Base64.getDecoder().decode(stored.substring(3))).hasSize(12 + KEY.getBytes(StandardCharsets.UTF_8).length + 16);
    assertThat(crypto.decrypt(stored, OWNER)).isEqualTo(KEY);
  }

  @Test
  void twoEncryptionsOfOneKeyDiffer() throws Exception {
    String a = crypto.encrypt(KEY, OWNER);
    String b = crypto.encrypt(KEY, OWNER);
    assertThat(a).isNotEqualTo(b);
    byte[] ivA = java.util.Arrays.copyOf(Base64.getDecoder().decode(a.substring(3)), 12);
    byte[] ivB = java.util.Arrays.copyOf(Base64.getDecoder().decode(b.substring(3)), 12);
    assertThat(ivA).isNotEqualTo(ivB);
    assertThat(crypto.decrypt(b, OWNER)).isEqualTo(KEY);
  }

  @Test
  void aFlippedByteInTheIvCiphertextOrTagIsAnErrorNeverGarbage() {
    byte[] raw = Base64.getDecoder().decode(crypto.encrypt(KEY, OWNER).substring(3));
    int[] positions = {0, 11, 12, 12 + 3, raw.length - 16, raw.length - 1};
    for (int p : positions) {
      byte[] tampered = raw.clone();
      tampered[p] ^= 0x01;
      String stored = "v1:" + Base64.getEncoder().encodeToString(tampered);
      assertThatThrownBy(() -> crypto.decrypt(stored, OWNER)).as("byte " + p)
          .isInstanceOf(ApiKeyCrypto.DecryptionException.class);
    }
  }

  @Test
  void theWrongSecretOwnerOrFormatIsAClearError() {
    String stored = crypto.encrypt(KEY, OWNER);
    ApiKeyCrypto other = new ApiKeyCrypto("fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> other.decrypt(stored, OWNER)).isInstanceOf(ApiKeyCrypto.DecryptionException.class)
        .hasMessageContaining("another secret");
    assertThatThrownBy(() -> crypto.decrypt(stored, "bob\u0000anthropic"))
        .isInstanceOf(ApiKeyCrypto.DecryptionException.class);
    assertThatThrownBy(() -> crypto.decrypt("v2:" + stored.substring(3), OWNER))
        .isInstanceOf(ApiKeyCrypto.DecryptionException.class);
    assertThatThrownBy(() -> crypto.decrypt("v1:@@@", OWNER)).isInstanceOf(ApiKeyCrypto.DecryptionException.class);
    assertThatThrownBy(() -> crypto.decrypt("v1:AAAA", OWNER)).isInstanceOf(ApiKeyCrypto.DecryptionException.class);
    assertThatThrownBy(() -> new ApiKeyCrypto(new byte[31])).isInstanceOf(IllegalArgumentException.class);
    assertThat(crypto.toString()).doesNotContain("0123456789abcdef");
  }
}
