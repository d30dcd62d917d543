package dev.fibservice.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import dev.fibservice.api.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * This member's view of the cluster, shared by every verticle of the JVM: who the members are, which
 * of them compute, and a round-robin choice among those. Kept current by Hazelcast membership events,
 * which arrive about a third of a second after a member dies on loopback.
 *
 * <p>Hazelcast membership is not authenticated: any process that reaches a member's Hazelcast port can
 * join and claim to compute. So a front picks only members that answered its ping over the event bus
 * ({@link Addresses#pingOn}), which with event-bus TLS on means they hold a certificate from the
 * cluster's CA. A member without one never answers (its TLS handshake fails, and Vert.x reports that to
 * a request only as a TIMEOUT at the end of its send timeout), so it is pinged again, less and less often,
 * and gets no request meanwhile.
 */
public final class ClusterView implements MembershipListener, ComputeMembers {

  private static final Logger log = LoggerFactory.getLogger(ClusterView.class);

  /** Set by vertx-hazelcast on every member: the Vert.x node id (its constant is private there). */
  static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";
  /** Our member attributes, set before joining: the member's role and node name. */
  static final String ROLE_ATTRIBUTE = "fib.role";
  static final String NODE_ATTRIBUTE = "fib.node";

  /**
   * How long a ping may take: the first one to a member includes the TCP and TLS handshakes both ways,
   * seconds on a starved machine; a TLS handshake itself gives up after 10 s (Vert.x's default).
   */
  private static final long PING_TIMEOUT_MS = 10_000;
  /** Pings of a member that did not answer are spaced from 1 s up to this (each costs a handshake attempt). */
  private static final long PING_BACKOFF_MAX_MS = 60_000;

  private final HazelcastInstance hazelcast;
  private final String clusterName;
  private final String selfId;
  private final Role role;
  private volatile List<String> computeMembers = List.of();
  /** Members to skip until the given System.nanoTime(): leaving, or answered NO_HANDLERS (not ready yet). */
  private final Map<String, Long> avoidUntil = new ConcurrentHashMap<>();
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  private final AtomicInteger roundRobin = new AtomicInteger();
  /** Computing members that answered a ping: the only ones {@link #pick} returns. */
  private final Set<String> reachable = ConcurrentHashMap.newKeySet();
  /** Computing members being pinged, so that each has one ping loop at a time. */
  private final Set<String> pinging = ConcurrentHashMap.newKeySet();
  /** Members whose silence was logged already (once per member). */
  private final Set<String> reportedSilent = ConcurrentHashMap.newKeySet();
  private volatile Vertx vertx;
  private volatile Context context;

  ClusterView(HazelcastInstance hazelcast, String selfId, Role role) {
    this.hazelcast = hazelcast;
    this.clusterName = hazelcast.getConfig().getClusterName();
    this.selfId = selfId;
    this.role = role;
  }

  void install(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    if (role.computes()) {
      reachable.add(selfId); // its own gateway is local: nothing to prove
    }
    hazelcast.getCluster().addMembershipListener(this);
    refresh();
  }

  public String selfId() {
    return selfId;
  }

  public Role role() {
    return role;
  }

  public String clusterName() {
    return clusterName;
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    refresh();
    log.info("cluster member joined: {}; members now: {}", describe(event.getMember()), describeAll());
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    refresh();
    String id = event.getMember().getAttribute(NODE_ID_ATTRIBUTE);
    log.info("cluster member left: {}; members now: {}", describe(event.getMember()), describeAll());
    if (id != null) {
      avoidUntil.remove(id);
      reachable.remove(id);
      reportedSilent.remove(id);
      for (Consumer<String> listener : leftListeners) {
        listener.accept(id);
      }
    }
  }

  private void refresh() {
    List<String> compute = new ArrayList<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      String memberRole = m.getAttribute(ROLE_ATTRIBUTE);
      String id = m.getAttribute(NODE_ID_ATTRIBUTE);
      if (id != null && ("all".equals(memberRole) || "worker".equals(memberRole))) {
        compute.add(id);
      }
    }
    computeMembers = List.copyOf(compute);
    if (role.fronts() && context != null) {
      for (String id : compute) {
        if (!reachable.contains(id) && pinging.add(id)) {
          context.runOnContext(v -> ping(id, 0, 0));
        }
      }
    }
  }

  /**
   * Pings a computing member until it answers or leaves. NO_HANDLERS means it has not registered its ping
   * address yet (it is starting): asked again soon. Anything else means the event bus cannot reach it:
   * asked again after 1, 2, 4 ... 60 s, logged once. A failed TLS handshake reaches a request only as a
   * TIMEOUT, so a one-way copy of the ping goes with it: its write fails with the handshake's own reason.
   */
  private void ping(String id, int starting, int silent) {
    if (!computeMembers.contains(id)) {
      pinging.remove(id);
      return;
    }
    String address = Addresses.pingOn(id);
    Future<Void> written = vertx.eventBus().sender(address).write(null);
    Future<Message<JsonObject>> answered = vertx.eventBus().request(address, null,
      new DeliveryOptions().setSendTimeout(PING_TIMEOUT_MS));
    answered.onSuccess(reply -> {
      if (reply.body() != null && id.equals(reply.body().getString("member"))) {
        pinging.remove(id);
        if (computeMembers.contains(id)) {
          reachable.add(id);
          if (reportedSilent.remove(id)) {
            log.info("cluster member {} answers over the event bus now: it gets requests", describe(id));
          }
        }
      } else {
        retryPing(id, starting, silent, new IllegalStateException("it answered as another member"));
      }
    });
    Future.join(written, answered).onFailure(e -> {
      if (answered.succeeded()) {
        return;
      }
      Throwable cause = written.failed() ? written.cause() : answered.cause();
      retryPing(id, starting, silent, cause);
    });
  }

  private void retryPing(String id, int starting, int silent, Throwable cause) {
    if (cause instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
      vertx.setTimer(Math.min(50L << Math.min(starting, 5), 1000), t -> ping(id, starting + 1, silent));
    } else {
      vertx.setTimer(Math.min(1000L << Math.min(silent, 6), PING_BACKOFF_MAX_MS), t -> ping(id, starting, silent + 1));
      if (computeMembers.contains(id) && reportedSilent.add(id)) {
        Throwable root = cause;
        while (root.getCause() != null) {
          root = root.getCause();
        }
        String reason = cause instanceof SSLException
          ? "its TLS handshake failed: " + root.getMessage() : cause.getMessage();
        log.warn("cluster member {} does not answer over the event bus ({}): it gets no requests until it does;"
          + " a member without a certificate from this cluster's CA (cluster.tls.ca) never will", describe(id), reason);
      }
    }
  }

  /** Calls the listener (on a Hazelcast thread) with the Vert.x node id of every member that leaves, for good. */
  @Override
  public void onMemberLeft(Consumer<String> listener) {
    leftListeners.add(listener);
  }

  /** Skips a member for a while: it is leaving, or it has no gateway registered yet. */
  public void avoid(String memberId, long millis) {
    avoidUntil.put(memberId, System.nanoTime() + millis * 1_000_000);
  }

  /**
   * The next computing member in round-robin order among those that answered a ping and are not avoided,
   * preferring members not in {@code tried}; null when no computing member is available. The rotation runs
   * over those members only, so that the ones left out do not tilt the share towards their neighbours.
   */
  public String pick(Set<String> tried) {
    List<String> members = computeMembers;
    long now = System.nanoTime();
    List<String> candidates = new ArrayList<>(members.size());
    for (String id : members) {
      Long until = avoidUntil.get(id);
      if (until != null) {
        if (until - now > 0) {
          continue;
        }
        avoidUntil.remove(id, until);
      }
      if (reachable.contains(id)) {
        candidates.add(id);
      }
    }
    int n = candidates.size();
    if (n == 0) {
      return null;
    }
    int start = Math.floorMod(roundRobin.getAndIncrement(), n);
    for (int i = 0; i < n; i++) {
      String id = candidates.get((start + i) % n);
      if (!tried.contains(id)) {
        return id;
      }
    }
    return candidates.get(start);
  }

  /** The members as shown by /info: id, Hazelcast address, role, node name. */
  public JsonObject toJson() {
    JsonArray members = new JsonArray();
    for (Member m : hazelcast.getCluster().getMembers()) {
      String id = m.getAttribute(NODE_ID_ATTRIBUTE);
      JsonObject member = new JsonObject()
        .put("id", id)
        .put("address", m.getAddress().getHost() + ":" + m.getAddress().getPort())
        .put("role", m.getAttribute(ROLE_ATTRIBUTE) != null ? m.getAttribute(ROLE_ATTRIBUTE) : "client")
        .put("node", m.getAttribute(NODE_ATTRIBUTE));
      if (selfId.equals(id)) {
        member.put("self", true);
      }
      if (role.fronts() && id != null && computeMembers.contains(id)) {
        member.put("reachable", reachable.contains(id));
      }
      members.add(member);
    }
    return new JsonObject().put("name", clusterName).put("self", selfId).put("role", role.wireName())
      .put("members", members);
  }

  static String describe(Member m) {
    String role = m.getAttribute(ROLE_ATTRIBUTE);
    return (m.getAttribute(NODE_ATTRIBUTE) != null ? m.getAttribute(NODE_ATTRIBUTE) : "(not fib-service)")
      + " [" + (role != null ? role : "client") + "] at " + m.getAddress().getHost() + ":" + m.getAddress().getPort();
  }

  private String describe(String memberId) {
    for (Member m : hazelcast.getCluster().getMembers()) {
      if (memberId.equals(m.getAttribute(NODE_ID_ATTRIBUTE))) {
        return describe(m) + " (" + memberId + ")";
      }
    }
    return memberId;
  }

  String describeAll() {
    List<String> all = new ArrayList<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      all.add(describe(m));
    }
    return String.join(", ", all);
  }
}
