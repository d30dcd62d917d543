package dev.fibservice.compute;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes an object by reference between verticles of one JVM. The gateway and its workers share
 * {@link Computation} this way, so a cancellation flag set on the event loop is seen by the worker.
 */
final class LocalCodec<T> implements MessageCodec<T, T> {

  private final String name;

  LocalCodec(Class<T> type) {
    this.name = "local-" + type.getSimpleName();
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(name + " is local-only: it never crosses JVMs");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " is local-only: it never crosses JVMs");
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
