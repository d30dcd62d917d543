package dev.fibservice;

import dev.fibservice.ops.BlockedThreadCounter;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Applied to every test class (autodetected): fails the class if Vert.x's blocked-thread checker
 * reported any event loop blocked while it ran, unless the class says why it may ({@link Exempt}).
 */
public final class NoBlockedEventLoops implements BeforeAllCallback, AfterAllCallback {

  /** A test class whose event loops may be reported blocked, and why (on the class, for a reader). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.TYPE)
  public @interface Exempt {
    String value();
  }

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoBlockedEventLoops.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getStore(NS).put("before", BlockedThreadCounter.eventLoopBlocked());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (context.getRequiredTestClass().isAnnotationPresent(Exempt.class)) {
      return;
    }
    long before = context.getStore(NS).get("before", Long.class);
    assertEquals(before, BlockedThreadCounter.eventLoopBlocked(),
      "an event loop was reported blocked during " + context.getDisplayName() + " (see the test log)");
  }
}
