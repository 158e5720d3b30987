package io.creditledger.wire;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes a command object by reference over the local event bus: the HTTP verticle and the typed client send the
 * {@link io.creditledger.domain.Command} they built, and the ledger's endpoint uses it as it is (commands are
 * immutable records). The endpoints' JSON answers travel back the same way, uncopied: each is built for its one
 * reply. Never for the wire: a clustered bus would need JSON.
 */
public final class LocalCodec implements MessageCodec<Object, Object> {
  public static final String NAME = "creditledger-command";
  private static final LocalCodec INSTANCE = new LocalCodec();

  private LocalCodec() {
  }

  /** Registers the codec on {@code bus} once (a second call is harmless). */
  public static synchronized void register(EventBus bus) {
    try {
      bus.registerCodec(INSTANCE);
    } catch (IllegalStateException alreadyRegistered) {
      // registered by an earlier deployment in this Vert.x instance
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, Object o) {
    throw new IllegalStateException("commands travel only on the local event bus");
  }

  @Override
  public Object decodeFromWire(int pos, Buffer buffer) {
    throw new IllegalStateException("commands travel only on the local event bus");
  }

  @Override
  public Object transform(Object o) {
    return o;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
