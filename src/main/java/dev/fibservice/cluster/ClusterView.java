package dev.fibservice.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 */
public final class ClusterView implements Shareable, MembershipListener {

  private static final Logger log = LoggerFactory.getLogger(ClusterView.class);

  /** Set by vertx-hazelcast on every member: the Vert.x node id (its constant is private there). */
  static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";
  /** Our member attributes, set before joining: the member's role and node name. */
  static final String ROLE_ATTRIBUTE = "fib.role";
  static final String NODE_ATTRIBUTE = "fib.node";

  private static final String MAP = "fib.cluster";

  private final HazelcastInstance hazelcast;
  private final String clusterName;
  private final String selfId;
  private final Role role;
  private volatile List<String> computeMembers = List.of();
  /** Members to skip until the given System.nanoTime(): leaving, or answered NO_HANDLERS (not ready yet). */
  private final Map<String, Long> avoidUntil = new ConcurrentHashMap<>();
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  private final AtomicInteger roundRobin = new AtomicInteger();

  ClusterView(HazelcastInstance hazelcast, String selfId, Role role) {
    this.hazelcast = hazelcast;
    this.clusterName = hazelcast.getConfig().getClusterName();
    this.selfId = selfId;
    this.role = role;
  }

  /** The view of this Vert.x instance, or null when it is not clustered. */
  public static ClusterView of(Vertx vertx) {
    return (ClusterView) vertx.sharedData().getLocalMap(MAP).get("view");
  }

  void install(Vertx vertx) {
    vertx.sharedData().getLocalMap(MAP).put("view", this);
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
  }

  /** Calls the listener (on a Hazelcast thread) with the Vert.x node id of every member that leaves. */
  public Runnable onMemberLeft(Consumer<String> listener) {
    leftListeners.add(listener);
    return () -> leftListeners.remove(listener);
  }

  /** Skips a member for a while: it is leaving, or it has no gateway registered yet. */
  public void avoid(String memberId, long millis) {
    avoidUntil.put(memberId, System.nanoTime() + millis * 1_000_000);
  }

  /**
   * The next computing member in round-robin order, preferring members not in {@code tried}; null when
   * no computing member is available.
   */
  public String pick(Set<String> tried) {
    List<String> members = computeMembers;
    int n = members.size();
    if (n == 0) {
      return null;
    }
    long now = System.nanoTime();
    int start = Math.floorMod(roundRobin.getAndIncrement(), n);
    String fallback = null;
    for (int i = 0; i < n; i++) {
      String id = members.get((start + i) % n);
      Long until = avoidUntil.get(id);
      if (until != null) {
        if (until - now > 0) {
          continue;
        }
        avoidUntil.remove(id, until);
      }
      if (!tried.contains(id)) {
        return id;
      }
      if (fallback == null) {
        fallback = id;
      }
    }
    return fallback;
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

  String describeAll() {
    List<String> all = new ArrayList<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      all.add(describe(m));
    }
    return String.join(", ", all);
  }
}
