package dev.fibservice;

import dev.fibservice.ops.BlockedThreadCounter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Applied to every test class (autodetected): fails the class if Vert.x's blocked-thread checker
 * reported any event loop blocked while it ran.
 */
public final class NoBlockedEventLoops implements BeforeAllCallback, AfterAllCallback {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoBlockedEventLoops.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put("before", BlockedThreadCounter.eventLoopBlocked());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    long before = context.getStore(NS).get("before", Long.class);
    assertEquals(before, BlockedThreadCounter.eventLoopBlocked(),
      "an event loop was reported blocked during " + context.getDisplayName() + " (see the test log)");
  }
}
