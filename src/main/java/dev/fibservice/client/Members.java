package dev.fibservice.client;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The computing members of a fib-service cluster as one JVM sees them, shared by all its {@link FibClient}s:
 * who they are (from {@link Membership}), whether they answer (pings over the event bus), and how much of this
 * JVM's work each holds.
 *
 * <p>A member gets requests only once it answered a ping ({@link MemberState#JOINING} until then): with event-bus
 * TLS on, that proves it holds a certificate from the cluster's CA. A live member is pinged every
 * {@link FibClientOptions#pingIntervalMs()}; when a ping has gone unanswered for
 * {@link FibClientOptions#suspectAfterMs()} and nothing else came from the member meanwhile (a computation's
 * reply counts), it is {@link MemberState#SUSPECTED}: it gets no new request, the clients retry what it holds on
 * live members, and it is alive again at its first answer. That takes the member out within about two seconds
 * of its silence, long before the cluster manager removes it, and never for longer than it stays silent.
 *
 * <p>All state changes run on one Vert.x context (the one current when this was created); {@link #pick},
 * {@link #heard} and the in-flight counts are safe from any thread.
 */
public final class Members {

  /**
   * How long a ping may take: the first one to a member includes the TCP and TLS handshakes both ways, seconds on
   * a starved machine; a TLS handshake itself gives up after 10 s (Vert.x's default).
   */
  static final long PING_TIMEOUT_MS = 10_000;
  /** A joining member that does not answer is asked again after 1, 2, 4 ... s, up to this (each costs a handshake). */
  static final long PROBATION_BACKOFF_MAX_MS = 60_000;
  /** ... but a member that answered before (back after a partition) is asked at least this often. */
  static final long KNOWN_BACKOFF_MAX_MS = 2_000;
  /** A member that announced its leave gets nothing new for this long (it leaves the cluster well before). */
  static final long LEAVING_MS = 60_000;
  /**
   * How far above the average load (this JVM's computations in flight per live member) the member a key prefers may
   * be before the key goes to its next member: 1.25, the bound of "consistent hashing with bounded loads" (Mirrokni,
   * Thorup, Zadimoghaddam, 2018) as load balancers use it; the load of any member stays within it.
   */
  static final double LOAD_BOUND = 1.25;
  /** Removed members kept for {@link #snapshot()}: the most recent ones. */
  static final int REMOVED_KEPT = 16;

  private final Vertx vertx;
  private final Context context;
  private final Membership membership;
  private final FibClientOptions options;
  private final String selfId;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  /** The members {@link #pick} chooses from, rebuilt on the context at every change of state. */
  private volatile List<Entry> alive = List.of();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private final Map<RetryReason, LongAdder> retries = new EnumMap<>(RetryReason.class);
  private final List<BiConsumer<String, RetryReason>> lostListeners = new CopyOnWriteArrayList<>();
  private final MemberListener listener;
  /** Waiting for a first live member ({@link #anyAlive()}); on the context only. */
  private final List<Promise<Void>> waitingForAlive = new ArrayList<>();
  private final long timer;
  private long lastTick;
  private volatile boolean closed;

  /** One member's record. Fields written on the context only, unless said otherwise. */
  private static final class Entry {
    final String id;
    final boolean self;
    volatile String name;
    volatile MemberState state = MemberState.JOINING;
    volatile String reason = "has not answered a ping yet";
    volatile long since = System.nanoTime();
    /** System.nanoTime() of its last answer, written from any thread; 0 = never. */
    volatile long lastHeard;
    /** Skipped by {@link #pick} until this System.nanoTime(), written from any thread; 0 = never. */
    volatile long avoidUntil;
    volatile int suspicions;
    final AtomicInteger inFlight = new AtomicInteger();
    final LongAdder retriedAway = new LongAdder();
    boolean pingOutstanding;
    /** Numbers the liveness pings, so that the answer to an older one (before the member left, say) is ignored. */
    long pingSeq;
    long pingSentAt;
    boolean probing;
    boolean answeredOnce;
    boolean reportedSilent;
    long leavingUntil;

    Entry(String id, boolean self) {
      this.id = id;
      this.self = self;
    }
  }

  private Members(Vertx vertx, Membership membership, FibClientOptions options, MemberListener listener) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.membership = membership;
    this.options = options;
    this.listener = listener != null ? listener : new MemberListener() { };
    this.selfId = membership.selfId();
    for (RetryReason r : RetryReason.values()) {
      retries.put(r, new LongAdder());
    }
    membership.onChange(() -> context.runOnContext(v -> refresh()));
    context.runOnContext(v -> refresh());
    timer = vertx.setPeriodic(options.pingIntervalMs(), id -> context.runOnContext(v -> tick()));
  }

  /**
   * Starts watching the members: call once per JVM and share the result. Its work runs on the context current
   * now, or on a new event-loop context when called outside Vert.x.
   */
  public static Members create(Vertx vertx, Membership membership, FibClientOptions options, MemberListener listener) {
    return new Members(vertx, membership, options, listener);
  }

  public FibClientOptions options() {
    return options;
  }

  /** Stops pinging and watching. */
  public void close() {
    closed = true;
    vertx.cancelTimer(timer);
    membership.close();
  }

  // --- what the clients use, from any thread ---

  /**
   * A live member for the next attempt: the one with the fewest computations of this JVM in flight, taking turns
   * among equals, preferring members not in {@code tried}, skipping members at
   * {@link FibClientOptions#maxInFlightPerMember()}. Null when there is none (see {@link #unavailable()}).
   */
  public String pick(Set<String> tried) {
    List<Entry> list = alive;
    int n = list.size();
    if (n == 0) {
      return null;
    }
    long now = System.nanoTime();
    int max = options.maxInFlightPerMember();
    int start = Math.floorMod(roundRobin.getAndIncrement(), n);
    Entry best = null;
    boolean bestTried = true;
    int bestLoad = Integer.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      Entry e = list.get((start + i) % n);
      long avoid = e.avoidUntil;
      if (e.state != MemberState.ALIVE || (avoid != 0 && avoid - now > 0)) {
        continue;
      }
      int load = e.inFlight.get();
      if (load >= max) {
        continue;
      }
      boolean wasTried = tried.contains(e.id);
      if (best == null || (bestTried && !wasTried) || (bestTried == wasTried && load < bestLoad)) {
        best = e;
        bestTried = wasTried;
        bestLoad = load;
      }
    }
    return best == null ? null : best.id;
  }

  /**
   * A live member for the next attempt of a computation with this affinity key: of the members {@link #pick(Set)}
   * would consider, the one with the highest rendezvous weight for the key (highest-random-weight hashing: every front
   * orders the members the same way from the key and the member ids alone, and a member that leaves moves only its own
   * keys, to each key's next member), unless it holds more than its share of this JVM's computations in flight
   * ({@link #LOAD_BOUND} times the average, rounded up, counting this one): then the next in the key's order that does
   * not, so that one hot key, or many keys landing on one member, cannot pile the work onto it. Members not in
   * {@code tried} first. A null key is {@link #pick(Set)}: the least loaded.
   */
  public String pick(Set<String> tried, Object affinity) {
    if (affinity == null) {
      return pick(tried);
    }
    List<Entry> list = alive;
    long now = System.nanoTime();
    int max = options.maxInFlightPerMember();
    int eligible = 0;
    long load = 0;
    for (Entry e : list) {
      if (takes(e, now, max)) {
        eligible++;
        load += e.inFlight.get();
      }
    }
    if (eligible == 0) {
      return null;
    }
    long bound = (long) Math.ceil(LOAD_BOUND * (load + 1) / eligible);
    int key = affinity.hashCode();
    Entry best = null;
    boolean bestTried = true;
    long bestWeight = 0;
    for (Entry e : list) {
      if (!takes(e, now, max) || e.inFlight.get() >= bound) {
        continue;
      }
      boolean wasTried = tried.contains(e.id);
      long weight = weight(key, e.id);
      if (best == null || (bestTried && !wasTried)
        || (bestTried == wasTried && (weight > bestWeight || (weight == bestWeight && e.id.compareTo(best.id) > 0)))) {
        best = e;
        bestTried = wasTried;
        bestWeight = weight;
      }
    }
    return best != null ? best.id : pick(tried);
  }

  /** The rendezvous weight of a member for a key: a 64-bit mix of both (MurmurHash3's finalizer, a bijection). */
  static long weight(int key, String member) {
    long h = ((long) member.hashCode() << 32) ^ (key & 0xffffffffL);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  /** Whether {@link #pick} may choose the member now: alive, not avoided, below the per-member cap. */
  private static boolean takes(Entry e, long now, int max) {
    long avoid = e.avoidUntil;
    return e.state == MemberState.ALIVE && (avoid == 0 || avoid - now <= 0) && e.inFlight.get() < max;
  }

  /** Whether {@link #pick} has a member other than {@code member} to offer. */
  boolean anyOtherAlive(String member) {
    for (Entry e : alive) {
      if (!e.id.equals(member) && e.state == MemberState.ALIVE) {
        return true;
      }
    }
    return false;
  }

  /** Why {@link #pick} found nobody: a 503 failure in the words of fib-service's own errors. */
  public ReplyException unavailable() {
    int full = 0;
    for (Entry e : alive) {
      if (e.state == MemberState.ALIVE && e.inFlight.get() >= options.maxInFlightPerMember()) {
        full++;
      }
    }
    if (full > 0) {
      return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 503, "busy: every live worker member has "
        + options.maxInFlightPerMember() + " computations in flight from this member (cluster.maxInFlightPerMember);"
        + " retry shortly");
    }
    Map<MemberState, Integer> counts = counts();
    List<String> others = new ArrayList<>();
    for (MemberState s : List.of(MemberState.SUSPECTED, MemberState.JOINING, MemberState.LEAVING)) {
      if (counts.get(s) > 0) {
        others.add(counts.get(s) + " " + s.wireName());
      }
    }
    return new ReplyException(ReplyFailure.NO_HANDLERS, 503, "no Fibonacci worker is available in the cluster right now"
      + (others.isEmpty() ? "" : " (worker members " + String.join(", ", others) + ")") + "; try again shortly");
  }

  /** The member answered something (a computation's reply or failure): evidence that it is alive. */
  public void heard(String member) {
    Entry e = entries.get(member);
    if (e != null) {
      e.lastHeard = System.nanoTime();
      if (e.state == MemberState.SUSPECTED) {
        context.runOnContext(v -> revive(e));
      }
    }
  }

  /** Skips a member for a while (it answered NO_HANDLERS: starting or leaving). */
  public void avoid(String member, long millis) {
    Entry e = entries.get(member);
    if (e != null) {
      e.avoidUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }
  }

  /** The member announced its graceful leave: nothing new goes to it once the returned future completes. */
  public Future<Void> leaving(String member) {
    Promise<Void> seen = Promise.promise();
    context.runOnContext(v -> {
      Entry e = entries.get(member);
      if (e != null && e.state != MemberState.REMOVED && !e.self) {
        e.leavingUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LEAVING_MS);
        setState(e, MemberState.LEAVING, "announced its leave");
      }
      seen.complete();
    });
    return seen.future();
  }

  void started(String member) {
    Entry e = entries.get(member);
    if (e != null) {
      e.inFlight.incrementAndGet();
    }
  }

  void ended(String member) {
    Entry e = entries.get(member);
    if (e != null) {
      e.inFlight.decrementAndGet();
    }
  }

  void retried(String from, RetryReason reason) {
    retries.get(reason).increment();
    Entry e = entries.get(from);
    if (e != null) {
      e.retriedAway.increment();
    }
  }

  /**
   * Calls the listener, on this object's context, with each member that is suspected (reason SUSPECTED) or leaves
   * the cluster (MEMBER_LEFT); the returned handle stops it.
   */
  Runnable onLost(BiConsumer<String, RetryReason> lost) {
    lostListeners.add(lost);
    return () -> lostListeners.remove(lost);
  }

  /**
   * Completes once some computing member is alive: a client that has just joined has not heard from anybody yet,
   * and its first computation would find no member. Fails after {@code timeoutMs}.
   */
  public Future<Void> anyAlive(long timeoutMs) {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      if (!alive.isEmpty()) {
        promise.tryComplete();
        return;
      }
      waitingForAlive.add(promise);
      vertx.setTimer(timeoutMs, t -> {
        waitingForAlive.remove(promise);
        promise.tryFail(unavailable());
      });
    });
    return promise.future();
  }

  // --- what owners show ---

  /** The node name of a member, or null when it is not known. */
  public String nameOf(String member) {
    Entry e = entries.get(member);
    return e == null ? null : e.name;
  }

  /** The state of a member, or null when it is not known. */
  public MemberState state(String member) {
    Entry e = entries.get(member);
    return e == null ? null : e.state;
  }

  /** Every known computing member, removed ones included (the latest few), oldest first. */
  public List<MemberView> snapshot() {
    long now = System.nanoTime();
    List<Entry> list = new ArrayList<>(entries.values());
    list.sort(Comparator.comparingLong((Entry e) -> e.state == MemberState.REMOVED ? 1 : 0).thenComparing(e -> e.id));
    List<MemberView> views = new ArrayList<>(list.size());
    for (Entry e : list) {
      views.add(new MemberView(e.id, e.name, e.state, e.reason, TimeUnit.NANOSECONDS.toMillis(now - e.since),
        e.inFlight.get(), e.retriedAway.sum(), e.suspicions));
    }
    return views;
  }

  /** How many known members are in each state (removed: those still kept). */
  public Map<MemberState, Integer> counts() {
    Map<MemberState, Integer> counts = new EnumMap<>(MemberState.class);
    for (MemberState s : MemberState.values()) {
      counts.put(s, 0);
    }
    for (Entry e : entries.values()) {
      counts.merge(e.state, 1, Integer::sum);
    }
    return counts;
  }

  /** Retries made by the clients of this JVM, by reason, since start. */
  public long retries(RetryReason reason) {
    return retries.get(reason).sum();
  }

  // --- on the context ---

  private void refresh() {
    if (closed) {
      return;
    }
    Map<String, String> computing = membership.computing();
    for (Map.Entry<String, String> m : computing.entrySet()) {
      String id = m.getKey();
      Entry e = entries.computeIfAbsent(id, k -> new Entry(k, k.equals(selfId)));
      e.name = m.getValue();
      if (e.state == MemberState.REMOVED || (e.self && e.state != MemberState.ALIVE)) {
        e.pingOutstanding = false;
        e.pingSeq++;
        setState(e, e.self ? MemberState.ALIVE : MemberState.JOINING,
          e.self ? "this member: its gateway is local" : "joined; has not answered a ping yet");
      }
      if (e.state == MemberState.JOINING && !e.probing) {
        probe(e, 0, 0);
      }
    }
    for (Entry e : entries.values()) {
      if (e.state != MemberState.REMOVED && !computing.containsKey(e.id)) {
        setState(e, MemberState.REMOVED, "left the cluster");
        for (BiConsumer<String, RetryReason> l : lostListeners) {
          l.accept(e.id, RetryReason.MEMBER_LEFT);
        }
      }
    }
    pruneRemoved();
  }

  private void pruneRemoved() {
    List<Entry> removed = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.state == MemberState.REMOVED) {
        removed.add(e);
      }
    }
    if (removed.size() > REMOVED_KEPT) {
      removed.sort(Comparator.comparingLong(e -> e.since));
      for (Entry e : removed.subList(0, removed.size() - REMOVED_KEPT)) {
        entries.remove(e.id, e);
      }
    }
  }

  /**
   * The first pings of a joining member. NO_HANDLERS means it has not registered its ping address yet (it is
   * starting): asked again soon. Anything else means the event bus cannot reach it: asked again after 1, 2, 4 ...
   * s, said once. A failed TLS handshake reaches a request only as a TIMEOUT at the end of its timeout, so a
   * one-way copy of the ping goes with it: its write fails with the handshake's own reason.
   */
  private void probe(Entry e, int starting, int silent) {
    if (closed || e.state != MemberState.JOINING) {
      e.probing = false;
      return;
    }
    e.probing = true;
    String address = Protocol.pingOn(e.id);
    Future<Void> written = vertx.eventBus().sender(address).write(null);
    Future<Message<JsonObject>> answered = vertx.eventBus().request(address, null,
      new DeliveryOptions().setSendTimeout(PING_TIMEOUT_MS));
    answered.onSuccess(reply -> {
      if (answersAs(reply, e.id)) {
        e.probing = false;
        e.lastHeard = System.nanoTime();
        if (e.state == MemberState.JOINING) {
          e.answeredOnce = true;
          e.reportedSilent = false;
          setState(e, MemberState.ALIVE, "answered its first ping");
        }
      } else {
        reprobe(e, starting, silent, new IllegalStateException("it answered as another member"));
      }
    });
    Future.join(written, answered).onFailure(x -> {
      if (!answered.succeeded()) {
        reprobe(e, starting, silent, written.failed() ? written.cause() : answered.cause());
      }
    });
  }

  private void reprobe(Entry e, int starting, int silent, Throwable cause) {
    if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      vertx.setTimer(Math.min(50L << Math.min(starting, 5), 1000), t -> probe(e, starting + 1, silent));
      return;
    }
    long max = e.answeredOnce ? KNOWN_BACKOFF_MAX_MS : PROBATION_BACKOFF_MAX_MS;
    vertx.setTimer(Math.min(1000L << Math.min(silent, 6), max), t -> probe(e, starting, silent + 1));
    if (e.state == MemberState.JOINING && !e.reportedSilent) {
      e.reportedSilent = true;
      listener.silent(e.id, e.name, cause);
    }
  }

  /**
   * Every ping interval: a live or suspected member with no ping outstanding gets one; a live member whose ping is
   * older than suspectAfterMs, and which answered nothing since it was sent, is suspected. When this tick itself
   * comes late (this JVM was paused or starved), the silence it sees is ours: outstanding pings get a fresh window.
   */
  private void tick() {
    if (closed) {
      return;
    }
    long now = System.nanoTime();
    long suspectAfter = TimeUnit.MILLISECONDS.toNanos(options.suspectAfterMs());
    boolean paused = lastTick != 0
      && now - lastTick > TimeUnit.MILLISECONDS.toNanos(options.pingIntervalMs()) + suspectAfter / 2;
    lastTick = now;
    for (Entry e : entries.values()) {
      if (e.self || e.state == MemberState.JOINING || e.state == MemberState.REMOVED) {
        continue;
      }
      if (e.state == MemberState.LEAVING && now - e.leavingUntil > 0) {
        setState(e, MemberState.ALIVE, "did not leave after all");
      }
      if (e.pingOutstanding) {
        if (paused) {
          e.pingSentAt = now;
        } else if (e.state == MemberState.ALIVE && now - e.pingSentAt >= suspectAfter && e.lastHeard - e.pingSentAt < 0) {
          suspect(e, "answered nothing for " + TimeUnit.NANOSECONDS.toMillis(now - e.pingSentAt)
            + " ms after a ping (cluster.suspectAfterMs = " + options.suspectAfterMs() + ")");
        }
      } else {
        ping(e, now);
      }
    }
  }

  private void ping(Entry e, long now) {
    long seq = ++e.pingSeq;
    e.pingOutstanding = true;
    e.pingSentAt = now;
    vertx.eventBus().<JsonObject>request(Protocol.pingOn(e.id), null, new DeliveryOptions().setSendTimeout(PING_TIMEOUT_MS))
      .onComplete(ar -> {
        if (seq != e.pingSeq) {
          return; // the member left and came back since: this answer is about its former self
        }
        e.pingOutstanding = false;
        if (ar.succeeded() && answersAs(ar.result(), e.id)) {
          e.lastHeard = System.nanoTime();
          revive(e);
        } else if (ar.succeeded()) {
          suspect(e, "answered its ping as another member");
        } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
          suspect(e, "has no ping consumer (leaving, or its event-bus registrations were lost)");
        } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT) {
          suspect(e, "answered no ping for " + PING_TIMEOUT_MS + " ms");
        } else {
          suspect(e, "cannot be reached: " + ar.cause().getMessage());
        }
      });
  }

  private static boolean answersAs(Message<JsonObject> reply, String id) {
    return reply.body() != null && id.equals(reply.body().getString("member"));
  }

  private void suspect(Entry e, String reason) {
    if (e.state != MemberState.ALIVE || closed) {
      return;
    }
    e.suspicions++;
    setState(e, MemberState.SUSPECTED, reason);
    for (BiConsumer<String, RetryReason> l : lostListeners) {
      l.accept(e.id, RetryReason.SUSPECTED);
    }
  }

  private void revive(Entry e) {
    if (e.state == MemberState.SUSPECTED) {
      setState(e, MemberState.ALIVE, "answers again after "
        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - e.since) + " ms of silence");
    }
  }

  private void setState(Entry e, MemberState to, String reason) {
    MemberState from = e.state;
    e.state = to;
    e.reason = reason;
    e.since = System.nanoTime();
    List<Entry> list = new ArrayList<>();
    for (Entry x : entries.values()) {
      if (x.state == MemberState.ALIVE) {
        list.add(x);
      }
    }
    list.sort(Comparator.comparing(x -> x.id));
    alive = List.copyOf(list);
    if (!list.isEmpty() && !waitingForAlive.isEmpty()) {
      List<Promise<Void>> waiting = new ArrayList<>(waitingForAlive);
      waitingForAlive.clear();
      waiting.forEach(Promise::tryComplete);
    }
    if (from != to) {
      listener.stateChanged(e.id, e.name, from, to, reason);
    }
  }
}
