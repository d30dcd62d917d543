package dev.fibservice.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import dev.fibservice.api.Addresses;
import dev.fibservice.client.FibClient;
import dev.fibservice.client.FibClientOptions;
import dev.fibservice.client.HazelcastMembership;
import dev.fibservice.client.MemberListener;
import dev.fibservice.client.MemberState;
import dev.fibservice.client.MemberView;
import dev.fibservice.client.Members;
import dev.fibservice.client.Protocol;
import dev.fibservice.client.RetryReason;
import dev.fibservice.config.Settings;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import io.vertx.spi.cluster.hazelcast.ClusterHealthCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * This member's view of the cluster, handed to the verticles that need it: who the members are and, on a front,
 * which computing members answer it ({@link Members} of the client library: pings over the event bus, suspicion
 * of members that stop answering, the in-flight count of each). Logged when members join, leave, go silent or
 * answer again; shown by /info and /metrics.
 *
 * <p>Hazelcast membership is not authenticated: any process that reaches a member's Hazelcast port can join and
 * claim to compute. So a front sends requests only to members that answered its ping over the event bus
 * ({@link Addresses#pingOn}), which with event-bus TLS on means they hold a certificate from the cluster's CA.
 * A member without one never answers (its TLS handshake fails, and Vert.x reports that to a request only as a
 * TIMEOUT at the end of its send timeout), so it is pinged again, less and less often, and gets no request
 * meanwhile.
 */
public final class ClusterView implements MembershipListener, MemberListener {

  private static final Logger log = LoggerFactory.getLogger(ClusterView.class);

  /** Set by vertx-hazelcast on every member: the Vert.x node id (its constant is private there). */
  static final String NODE_ID_ATTRIBUTE = Protocol.NODE_ID_ATTRIBUTE;
  /** Our member attributes, set before joining: the member's role and node name. */
  static final String ROLE_ATTRIBUTE = Protocol.ROLE_ATTRIBUTE;
  static final String NODE_ATTRIBUTE = Protocol.NODE_ATTRIBUTE;
  /** The member's release; members of 0.1.0 have none. */
  static final String VERSION_ATTRIBUTE = Protocol.VERSION_ATTRIBUTE;

  private final HazelcastInstance hazelcast;
  private final String clusterName;
  private final String selfId;
  private final Role role;
  private final FibClientOptions options;
  /** The computing members as this front sees them; null on a worker, which sends no computation. */
  private volatile Members members;
  /** The per-member state metric, once bound. */
  private volatile MultiGauge memberStates;

  ClusterView(HazelcastInstance hazelcast, String selfId, Role role, FibClientOptions options) {
    this.hazelcast = hazelcast;
    this.clusterName = hazelcast.getConfig().getClusterName();
    this.selfId = selfId;
    this.role = role;
    this.options = options;
  }

  /** The client library's options from the fib.* and cluster.* keys. */
  static FibClientOptions clientOptions(Settings settings) {
    return new FibClientOptions()
      .pingIntervalMs(settings.getInt(Settings.CLUSTER_PING_INTERVAL_MS))
      .suspectAfterMs(settings.getInt(Settings.CLUSTER_SUSPECT_AFTER_MS))
      .maxInFlightPerMember(settings.getInt(Settings.CLUSTER_MAX_IN_FLIGHT_PER_MEMBER))
      .attemptTimeoutMs(settings.getInt(Settings.FIB_ATTEMPT_TIMEOUT_MS))
      // a little longer than the gateway's own deadline, so its 504 (with the reason) arrives first
      .requestTimeoutMs(settings.getInt(Settings.FIB_TIMEOUT_MS) + 5_000L)
      .retries(settings.getInt(Settings.FIB_RETRIES));
  }

  void install(Vertx vertx) {
    hazelcast.getCluster().addMembershipListener(this);
    if (role.fronts()) {
      members = Members.create(vertx, new HazelcastMembership(hazelcast), options, this);
    }
  }

  /** Stops pinging (the JVM is leaving the cluster). */
  void close() {
    if (members != null) {
      members.close();
    }
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

  /** A compute client for the calling verticle's event loop; only on a member whose role fronts. */
  public FibClient newClient(Vertx vertx) {
    if (members == null) {
      throw new IllegalStateException("a " + role.wireName() + " member sends no computations");
    }
    return FibClient.create(vertx, members, CallSpans.INSTANCE);
  }

  /** Members of the cluster now, this one included. */
  public int size() {
    return hazelcast.getCluster().getMembers().size();
  }

  /**
   * Whether Hazelcast's partitions are safe now (every backup in place, no migration running: {@code isClusterSafe},
   * asked through vertx-hazelcast's health-check procedure, on a worker thread).
   */
  public Future<Boolean> safe(Vertx vertx) {
    Promise<Status> status = Promise.promise();
    ClusterHealthCheck.createProcedure(vertx).handle(status);
    return status.future().map(Status::isOk);
  }

  /** The ids of the other members that run front ends (role all or http): those a leaving member tells. */
  public List<String> fronts() {
    List<String> fronts = new ArrayList<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      String id = m.getAttribute(NODE_ID_ATTRIBUTE);
      String r = m.getAttribute(ROLE_ATTRIBUTE);
      if (id != null && !id.equals(selfId) && r != null && !Role.WORKER.wireName().equals(r)) {
        fronts.add(id);
      }
    }
    return fronts;
  }

  /** A member announced its graceful leave: this front's clients send it nothing new once the future completes. */
  Future<Void> leaving(String memberId) {
    return members != null ? members.leaving(memberId) : Future.succeededFuture();
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    log.info("cluster member joined: {}; members now: {}", describe(event.getMember()), describeAll());
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    log.info("cluster member left: {}; members now: {}", describe(event.getMember()), describeAll());
  }

  @Override
  public void stateChanged(String id, String name, MemberState from, MemberState to, String reason) {
    refreshMemberStates();
    String who = name + " (" + id + ")";
    if (to == MemberState.ALIVE && from == MemberState.JOINING) {
      log.info("cluster member {} answers over the event bus: it gets requests", who);
    } else if (to == MemberState.SUSPECTED) {
      log.warn("cluster member {} is suspected: it {}; it gets no new request, and what it holds goes to the other"
        + " members, until it answers again", who, reason);
    } else if (to == MemberState.ALIVE && from == MemberState.SUSPECTED) {
      log.info("cluster member {} {}: it gets requests again", who, reason);
    }
  }

  @Override
  public void silent(String id, String name, Throwable cause) {
    Throwable root = cause;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String reason = cause instanceof SSLException ? "its TLS handshake failed: " + root.getMessage() : cause.getMessage();
    log.warn("cluster member {} ({}) does not answer over the event bus ({}): it gets no requests until it does;"
      + " a member without a certificate from this cluster's CA (cluster.tls.ca) never will", name, id, reason);
  }

  /**
   * On a front: fib_cluster_members{state} (computing members by state as this front sees them) and
   * fib_cluster_retries_total{reason}. Member ids change at every restart, so they are no label.
   */
  void bindMetrics(MeterRegistry registry) {
    Members m = members;
    if (m == null) {
      return;
    }
    for (MemberState state : MemberState.values()) {
      Gauge.builder("fib_cluster_members", m, x -> x.counts().get(state))
        .description("Computing cluster members by state as this front sees them (removed: the latest few)")
        .tag("state", state.wireName()).register(registry);
    }
    for (RetryReason reason : RetryReason.values()) {
      FunctionCounter.builder("fib_cluster_retries", m, x -> x.retries(reason))
        .description("Computations this front sent again to another member, by reason")
        .tag("reason", reason.wireName()).register(registry);
    }
    memberStates = MultiGauge.builder("fib_cluster_member_state")
      .description("Each computing member as this front sees it, by node name: 1 for its state now (removed: the"
        + " latest few that left)")
      .register(registry);
    refreshMemberStates();
  }

  /**
   * fib_cluster_member_state{member,state}: one series per member that this front knows, for its state now. Node
   * names are bounded by the cluster's size; a member that restarts under a new name replaces its old series.
   */
  private void refreshMemberStates() {
    Members m = members;
    MultiGauge gauge = memberStates;
    if (m == null || gauge == null) {
      return;
    }
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (MemberView view : m.snapshot()) {
      rows.add(MultiGauge.Row.of(Tags.of("member", nodeOf(view.name()), "state", view.state().wireName()), 1));
    }
    gauge.register(rows, true);
  }

  /**
   * The members as shown by /info: id, Hazelcast address, role, node name, release (from 0.2.0 on); on a front, each computing member's
   * state (with "reachable" when it gets requests), and the retries by reason; members removed lately too.
   */
  public JsonObject toJson() {
    Members m = members;
    Map<String, MemberView> seen = new HashMap<>();
    if (m != null) {
      m.snapshot().forEach(v -> seen.put(v.id(), v));
    }
    JsonArray list = new JsonArray();
    for (Member member : hazelcast.getCluster().getMembers()) {
      String id = member.getAttribute(NODE_ID_ATTRIBUTE);
      JsonObject json = new JsonObject()
        .put("id", id)
        .put("address", member.getAddress().getHost() + ":" + member.getAddress().getPort())
        .put("role", member.getAttribute(ROLE_ATTRIBUTE) != null ? member.getAttribute(ROLE_ATTRIBUTE) : "client")
        .put("node", member.getAttribute(NODE_ATTRIBUTE));
      if (member.getAttribute(VERSION_ATTRIBUTE) != null) {
        json.put("version", member.getAttribute(VERSION_ATTRIBUTE));
      }
      if (selfId.equals(id)) {
        json.put("self", true);
      }
      MemberView view = id != null ? seen.remove(id) : null;
      if (view != null) {
        state(json, view);
      }
      list.add(json);
    }
    JsonObject cluster = new JsonObject().put("name", clusterName).put("self", selfId).put("role", role.wireName())
      .put("members", list);
    if (m != null) {
      JsonArray removed = new JsonArray();
      for (MemberView view : seen.values()) {
        removed.add(state(new JsonObject().put("id", view.id()).put("name", view.name()), view));
      }
      JsonObject retries = new JsonObject();
      for (RetryReason reason : RetryReason.values()) {
        retries.put(reason.wireName(), m.retries(reason));
      }
      cluster.put("removed", removed).put("retries", retries);
    }
    return cluster;
  }

  private static JsonObject state(JsonObject json, MemberView view) {
    return json.put("reachable", view.state() == MemberState.ALIVE)
      .put("state", view.state().wireName())
      .put("stateReason", view.reason())
      .put("stateForMs", view.forMs())
      .put("inFlight", view.inFlight())
      .put("retriedAway", view.retriedAway())
      .put("suspicions", view.suspicions());
  }

  /** The node name in a member's name as the client library has it ({@code host-42 [worker] at 127.0.0.1:5702}). */
  static String nodeOf(String described) {
    if (described == null) {
      return "unknown";
    }
    int role = described.indexOf(" [");
    return role > 0 ? described.substring(0, role) : described;
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
