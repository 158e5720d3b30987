package io.creditledger.apikeys;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for users' API keys. The 32-byte secret is a parameter: this class never reads the environment.
 * Each encryption draws a fresh random 12-byte IV; the 16-byte tag authenticates the ciphertext and the
 * associated data (the owner and type of the key, so a stored value moved to another user or type does not
 * decrypt). Stored form: {@code v1:<base64(iv ‖ ciphertext ‖ tag)>}; the version prefix lets a future key
 * rotation tell old values from new. Anything tampered with, or read with the wrong secret, is an error —
 * never garbage.
 */
public final class ApiKeyCrypto {
  public static final int SECRET_BYTES = 32;
  static final String VERSION = "v1:";
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;

  public ApiKeyCrypto(byte[] secret) {
    if (secret == null || secret.length != SECRET_BYTES) {
      throw new IllegalArgumentException("the secret must be exactly " + SECRET_BYTES + " bytes");
    }
    this.key = new SecretKeySpec(Arrays.copyOf(secret, SECRET_BYTES), "AES");
  }

  /** Thrown when a stored value cannot be decrypted: tampered, wrong secret, or not a value of this class. */
  public static final class DecryptionException extends Exception {
    DecryptionException(String message) {
      super(message, null, false, false);
    }
  }

  public String encrypt(String plaintext, String associatedData) {
    byte[] iv = new byte[IV_BYTES];
    RANDOM.nextBytes(iv);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      return VERSION + Base64.getEncoder().encodeToString(ByteBuffer.allocate(IV_BYTES + sealed.length)
          .put(iv).put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  public String decrypt(String stored, String associatedData) throws DecryptionException {
    if (stored == null || !stored.startsWith(VERSION)) {
      throw new DecryptionException("not a " + VERSION + " value");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(stored.substring(VERSION.length()));
    } catch (IllegalArgumentException e) {
      throw new DecryptionException("not base64");
    }
    if (raw.length < IV_BYTES + TAG_BITS / 8) {
      throw new DecryptionException("too short");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, IV_BYTES));
      cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
      byte[] plain = cipher.doFinal(raw, IV_BYTES, raw.length - IV_BYTES);
      return new String(plain, StandardCharsets.UTF_8);
    } catch (AEADBadTagException e) {
      throw new DecryptionException("authentication failed: tampered, or another secret");
    } catch (GeneralSecurityException e) {
      throw new DecryptionException("cannot decrypt: " + e.getClass().getSimpleName());
    }
  }

  @Override
  public String toString() {
    return "ApiKeyCrypto[secret redacted]";
  }
}
