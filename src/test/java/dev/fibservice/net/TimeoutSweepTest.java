package dev.fibservice.net;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The sweep's own part of the timeouts, ticked by hand: who is asked, who is let go and closed, and only once. */
@ExtendWith(VertxExtension.class)
class TimeoutSweepTest {

  /** A connection that is due from a given tick on and records its closes. */
  private static final class Connection implements TimeoutSweep.Timed {
    final long dueAt;
    final List<Long> asked = new ArrayList<>();
    int expired;

    Connection(long dueAt) {
      this.dueAt = dueAt;
    }

    @Override
    public boolean due(long now) {
      asked.add(now);
      return now >= dueAt;
    }

    @Override
    public void expire() {
      expired++;
    }
  }

  @Test
  void dueConnectionsAreLetGoAndClosedOnceTheOthersKept(Vertx vertx) {
    // a tick of an hour: the test ticks it itself
    TimeoutSweep sweep = new TimeoutSweep(vertx, 3_600_000);
    try {
      Connection early = new Connection(100);
      Connection late = new Connection(300);
      Connection gone = new Connection(100);
      sweep.add(early);
      sweep.add(late);
      sweep.add(gone);
      sweep.remove(gone);
      assertEquals(2, sweep.size());
      sweep.sweep(0);
      sweep.sweep(100);
      assertEquals(1, early.expired);
      assertEquals(0, late.expired);
      assertEquals(1, sweep.size());
      sweep.sweep(200);
      sweep.sweep(300);
      assertEquals(List.of(0L, 100L), early.asked, "an expired connection is not asked again");
      assertEquals(List.of(0L, 100L, 200L, 300L), late.asked);
      assertEquals(1, early.expired);
      assertEquals(1, late.expired);
      assertEquals(List.of(), gone.asked, "a removed connection is not asked");
      assertEquals(0, sweep.size());
    } finally {
      sweep.close();
    }
  }

  @Test
  void theTickIsAQuarterOfTheShortestTimeoutWithinBounds() {
    assertEquals(1000, TimeoutSweep.tickFor(10_000, 60_000));
    assertEquals(125, TimeoutSweep.tickFor(60_000, 500));
    assertEquals(50, TimeoutSweep.tickFor(100));
  }
}
