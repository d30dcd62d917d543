package dev.fibservice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.charset.StandardCharsets;

/**
 * The /hello page, built once: a fixed body for the plain page, and for {@code ?repeat=N} a view over
 * one pre-built run of {@code <h1>} blocks between the fixed head and tail, so no request copies or
 * formats the body. The bytes live off-heap, ready for the socket.
 */
final class HelloPages {

  static final String HEAD = "<html><head><title>Example</title></head><body>";
  static final String BLOCK = "<h1>Hello, World!</h1>";
  static final String TAIL = "</body></html>\n";
  /** The Content-Length of the plain page, encoded once. */
  static final CharSequence SINGLE_LENGTH = HttpHeaders.createOptimized(String.valueOf(length(1)));

  private static volatile HelloPages shared;

  private final ByteBuf head = direct(HEAD);
  private final ByteBuf tail = direct(TAIL);
  private final ByteBuf blocks;
  private final Buffer single;
  private final int maxRepeat;

  private HelloPages(int maxRepeat) {
    this.maxRepeat = maxRepeat;
    this.blocks = direct(BLOCK.repeat(maxRepeat));
    this.single = BufferInternal.buffer(direct(HEAD + BLOCK + TAIL));
  }

  /** One set of pages per JVM, shared by every HTTP verticle instance. */
  static HelloPages atLeast(int maxRepeat) {
    HelloPages pages = shared;
    if (pages == null || pages.maxRepeat < maxRepeat) {
      synchronized (HelloPages.class) {
        pages = shared;
        if (pages == null || pages.maxRepeat < maxRepeat) {
          pages = new HelloPages(maxRepeat);
          shared = pages;
        }
      }
    }
    return pages;
  }

  /** The page with the block repeated {@code repeat} times (1 <= repeat <= the max it was built for). */
  Buffer page(int repeat) {
    if (repeat == 1) {
      return single;
    }
    ByteBuf body = Unpooled.wrappedUnmodifiableBuffer(head.duplicate(),
      blocks.slice(0, repeat * BLOCK.length()), tail.duplicate());
    return BufferInternal.buffer(body);
  }

  static int length(int repeat) {
    return HEAD.length() + repeat * BLOCK.length() + TAIL.length();
  }

  private static ByteBuf direct(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    ByteBuf buf = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    return Unpooled.unreleasableBuffer(buf.asReadOnly());
  }
}
