package dev.fibservice.client;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.impl.MessageConsumerImpl;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Computing members on one local event bus, each answering its ping and compute addresses as a fib-service
 * worker member does, and each able to stop answering (a partition or a pause, seen from the client) and to
 * come back: what {@link Members} and {@link FibClient} need, with no cluster manager.
 */
final class FakeCluster implements Membership {

  private final Vertx vertx;
  private final Map<String, Worker> workers = new ConcurrentHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  /** Every fib.cancel id published on the bus, in order. */
  final List<String> cancels = new CopyOnWriteArrayList<>();

  FakeCluster(Vertx vertx) {
    this.vertx = vertx;
    vertx.eventBus().<JsonObject>consumer(Protocol.FIB_CANCEL, m -> cancels.add(m.body().getString("id")));
  }

  /** A worker member that answers at once (pings and computations). */
  Worker add(String id) {
    Worker w = new Worker(id);
    workers.put(id, w);
    listeners.forEach(Runnable::run);
    return w;
  }

  /** The members, by id. */
  Map<String, Worker> workers() {
    return workers;
  }

  /** The member leaves the membership, as when the cluster manager removes it. */
  void remove(String id) {
    Worker w = workers.remove(id);
    if (w != null) {
      w.close();
    }
    listeners.forEach(Runnable::run);
  }

  @Override
  public String selfId() {
    return "client";
  }

  @Override
  public Map<String, String> computing() {
    Map<String, String> map = new LinkedHashMap<>();
    workers.keySet().stream().sorted().forEach(id -> map.put(id, "fake " + id));
    return map;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** One fake worker member. Its replies name it in "worker", as fib-service's do ("node/lane"). */
  final class Worker {
    final String id;
    final AtomicInteger computed = new AtomicInteger();
    final AtomicInteger received = new AtomicInteger();
    /** Messages its gateway discarded: queued in a paused consumer when it was unregistered (Vert.x replies TIMEOUT). */
    final AtomicInteger discarded = new AtomicInteger();
    /** The cancel ids of the computations it received, in order. */
    final List<String> cancelIds = new CopyOnWriteArrayList<>();
    volatile boolean answersPings = true;
    volatile boolean answersComputations = true;
    /** When set, computations are refused with this code, as a busy gateway does (503). */
    volatile int failsWith;
    /** How long a computation takes, in ms (0: at once). */
    volatile long computeMs;
    private final List<Message<JsonObject>> held = new ArrayList<>();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private final List<Message<Object>> heldPings = new ArrayList<>();

    Worker(String id) {
      this.id = id;
      consumers.add(vertx.eventBus().consumer(Protocol.pingOn(id), m -> {
        synchronized (this) {
          if (!answersPings) {
            heldPings.add(m);
            return;
          }
        }
        m.reply(new JsonObject().put("member", id));
      }));
      consumers.add(vertx.eventBus().<JsonObject>consumer(Protocol.computeOn(id), m -> {
        received.incrementAndGet();
        cancelIds.add(m.headers().get(Protocol.CANCEL_ID_HEADER));
        synchronized (this) {
          if (!answersComputations) {
            held.add(m);
            return;
          }
        }
        answer(m);
      }));
    }

    private void answer(Message<JsonObject> m) {
      if (failsWith != 0) {
        m.fail(failsWith, "busy: 256 computations are already queued or running on this node");
        return;
      }
      Runnable reply = () -> {
        computed.incrementAndGet();
        m.reply(new JsonObject().put("n", m.body().getInteger("n")).put("value", "v").put("worker", id + "/heavy-1"));
      };
      if (computeMs > 0) {
        vertx.setTimer(computeMs, t -> reply.run());
      } else {
        reply.run();
      }
    }

    /** Stops answering anything: what arrives waits, as on a partitioned or stopped member. */
    synchronized void silence() {
      answersPings = false;
      answersComputations = false;
    }

    /** Answers again, what waited first (late replies). */
    void resume() {
      List<Message<JsonObject>> late;
      List<Message<Object>> pings;
      synchronized (this) {
        answersPings = true;
        answersComputations = true;
        late = new ArrayList<>(held);
        pings = new ArrayList<>(heldPings);
        held.clear();
        heldPings.clear();
      }
      late.forEach(this::answer);
      pings.forEach(m -> m.reply(new JsonObject().put("member", id)));
    }

    /** Its gateway stops taking messages: they queue in the consumer, as on a gateway whose context is busy. */
    void pauseGateway() {
      MessageConsumer<?> gateway = consumers.get(1);
      ((MessageConsumerImpl<?>) gateway).discardHandler(m -> discarded.incrementAndGet());
      gateway.pause();
    }

    /** Keeps answering pings but has no gateway any more: computations sent to it get NO_HANDLERS. */
    void dropGateway() {
      consumers.get(1).unregister().await();
    }

    void close() {
      consumers.forEach(MessageConsumer::unregister);
    }
  }
}
