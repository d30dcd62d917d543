package dev.fibservice.http;

import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The large /hello pages as files, sent with sendfile: the kernel hands the page-cache pages to the socket
 * instead of copying the body from memory for every response, which on large pages is most of what serving them
 * costs. A page gets its file the first time it is asked for, written by a worker
 * thread while that request and the next are served from memory. The file is unlinked as soon as it is open, so a
 * node that dies leaves nothing on disk; the kernel frees it when the node's channels close.
 *
 * <p>Bounded: only pages of {@link #MIN_BYTES} or more (below that the copy costs less than it saves), and at most
 * {@code http.pageFileCacheMb} of files per HTTP verticle instance. Past that budget the other pages keep being served
 * from memory; nothing is evicted, so no file is ever closed under a transfer in progress. One per HTTP verticle
 * instance, used on its event loop only: a channel shared by two event loops made them contend for its position lock
 * (the JDK takes it in {@code transferTo}).
 */
final class PageFiles {

  /** Pages smaller than this are always sent from memory. */
  static final int MIN_BYTES = 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(PageFiles.class);
  /** The marker in {@link #files} of a page whose file is being written. */
  private static final Object PENDING = new Object();

  private final Vertx vertx;
  private final long budget;
  /** Where the files are made (and at once unlinked). */
  private final Path dir;
  private final AtomicInteger open;
  private final Map<Integer, Object> files = new HashMap<>();
  private long used;
  /** No more files: the verticle stopped, or making one failed. */
  private boolean closed;

  /**
   * To be created in an HTTP verticle's start(), on its event loop, and used there only.
   *
   * @param open the node's count of page files held open, shared by its HTTP instances
   */
  PageFiles(Vertx vertx, int budgetMb, AtomicInteger open) {
    this(vertx, budgetMb, open, Path.of(System.getProperty("java.io.tmpdir")));
  }

  PageFiles(Vertx vertx, int budgetMb, AtomicInteger open, Path dir) {
    this.vertx = vertx;
    this.budget = budgetMb * 1024L * 1024L;
    this.dir = dir;
    this.open = open;
  }

  /**
   * The open file that holds exactly the page with {@code repeat} blocks, or null when it is to be sent from memory:
   * it is small, over the budget, or its file is still being written (which the first call starts).
   */
  FileChannel file(int repeat) {
    if (budget == 0 || HelloPages.length(repeat) < MIN_BYTES) {
      return null;
    }
    Object file = files.get(repeat);
    if (file instanceof FileChannel channel) {
      return channel;
    }
    if (file == null && !closed) {
      create(repeat);
    }
    return null;
  }

  /** False once no more files are made: the verticle stopped, or making one failed. */
  boolean enabled() {
    return !closed;
  }

  /** Closes the files (the verticle has stopped: no transfer is in progress). */
  void close() {
    closed = true;
    for (Object file : files.values()) {
      if (file instanceof FileChannel channel) {
        open.decrementAndGet();
        closeQuietly(channel);
      }
    }
    files.clear();
  }

  private void create(int repeat) {
    long length = HelloPages.length(repeat);
    if (used + length > budget) {
      return; // over budget: this page stays in memory (nothing is remembered, so the map stays small)
    }
    used += length;
    files.put(repeat, PENDING);
    vertx.executeBlocking(() -> write(dir, repeat), false).onComplete(ar -> {
      if (ar.failed()) {
        // a temp dir that cannot take one file will not take the next: no more attempts, one log line
        closed = true;
        files.remove(repeat);
        log.warn("/hello pages stay in memory: a page file could not be made ({})", ar.cause().toString());
      } else if (closed) {
        closeQuietly(ar.result());
      } else {
        files.put(repeat, ar.result());
        open.incrementAndGet();
      }
    });
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing a page file failed", e);
    }
  }

  private static FileChannel write(Path dir, int repeat) throws IOException {
    byte[] page = (HelloPages.HEAD + HelloPages.BLOCK.repeat(repeat) + HelloPages.TAIL).getBytes(StandardCharsets.US_ASCII);
    Path path = Files.createTempFile(dir, "fib-page-", ".html");
    try {
      try (FileChannel out = FileChannel.open(path, StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap(page);
        while (bytes.hasRemaining()) {
          out.write(bytes);
        }
      }
      FileChannel in = FileChannel.open(path, StandardOpenOption.READ);
      long size = in.size();
      if (size != page.length) {
        in.close();
        throw new IOException("page file " + path + " has " + size + " bytes, expected " + page.length);
      }
      return in;
    } finally {
      Files.deleteIfExists(path);
    }
  }
}
