package io.creditledger.config;

import java.util.Arrays;

/** Secret bytes that never show up in a log line, an error or a configuration dump. */
public final class Secret {
  private final byte[] bytes;

  public Secret(byte[] bytes) {
    this.bytes = Arrays.copyOf(bytes, bytes.length);
  }

  public byte[] bytes() {
    return Arrays.copyOf(bytes, bytes.length);
  }

  @Override
  public String toString() {
    return "[redacted]";
  }
}
