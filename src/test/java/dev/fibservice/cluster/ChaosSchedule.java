package dev.fibservice.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The faults of a chaos run, drawn from a seed: which fault, on which member, after how long a calm, for how long. The
 * same seed gives the same schedule (the checker draws it again and compares). Faults come one after the other, each
 * healed before the next.
 */
public record ChaosSchedule(long seed, List<Fault> faults) {

  /** What a fault does; each is undone at its end (the heal). */
  public enum Kind {
    /** SIGKILL of a worker member; at the heal, the same member started again. */
    KILL_WORKER,
    /** SIGSTOP of a member (the front or a worker); SIGCONT at the heal. */
    STOP_MEMBER,
    /** nft rules in a worker's namespace drop every packet in and out; deleted at the heal. */
    PARTITION_WORKER,
    /** SIGKILL of the database process and its MariaDB; started again on the same port and data at the heal. */
    KILL_DB,
    /** SIGTERM of the front (it drains), then started again at once: the heal is its return. */
    RESTART_FRONT
  }

  /** One fault: its kind, its target ({@code front}, {@code wa}, {@code wb}, {@code db}), the calm before it, its length. */
  public record Fault(Kind kind, String target, long calmMs, long durationMs) {
    @Override
    public String toString() {
      return kind + " " + target + " after " + calmMs + " ms, for " + durationMs + " ms";
    }
  }

  /**
   * {@code count} faults from {@code seed}; with {@code everyKind}, the first five are each kind once, in an order the
   * seed picks (so that a short run covers them all); calms of {@code minMs} to {@code maxMs}, faults as long.
   */
  public static ChaosSchedule draw(long seed, int count, boolean everyKind, long minMs, long maxMs) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Kind> kinds = new ArrayList<>();
    if (everyKind) {
      List<Kind> all = new ArrayList<>(List.of(Kind.values()));
      while (!all.isEmpty()) {
        kinds.add(all.remove(r.nextInt(all.size())));
      }
    }
    while (kinds.size() < count) {
      kinds.add(Kind.values()[r.nextInt(Kind.values().length)]);
    }
    List<Fault> faults = new ArrayList<>();
    for (Kind k : kinds.subList(0, count)) {
      String target = switch (k) {
        case KILL_WORKER, PARTITION_WORKER -> r.nextBoolean() ? NamespacedCluster.WORKER_A : NamespacedCluster.WORKER_B;
        case STOP_MEMBER -> List.of(NamespacedCluster.FRONT, NamespacedCluster.WORKER_A, NamespacedCluster.WORKER_B)
          .get(r.nextInt(3));
        case KILL_DB -> "db";
        case RESTART_FRONT -> NamespacedCluster.FRONT;
      };
      faults.add(new Fault(k, target, r.nextLong(minMs, maxMs + 1), r.nextLong(minMs, maxMs + 1)));
    }
    return new ChaosSchedule(seed, List.copyOf(faults));
  }
}
