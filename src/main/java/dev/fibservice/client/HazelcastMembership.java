package dev.fibservice.client;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The computing members of a fib-service cluster from Hazelcast's member list: members whose {@code fib.role}
 * attribute is worker or all, named by their Vert.x node id. Membership events arrive about a third of a second
 * after a member dies on loopback, and after {@code hazelcast.max.no.heartbeat.seconds} when it goes silent.
 */
public final class HazelcastMembership implements Membership, MembershipListener {

  private final HazelcastInstance hazelcast;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final UUID registration;

  public HazelcastMembership(HazelcastInstance hazelcast) {
    this.hazelcast = hazelcast;
    this.registration = hazelcast.getCluster().addMembershipListener(this);
  }

  @Override
  public String selfId() {
    return hazelcast.getCluster().getLocalMember().getAttribute(Protocol.NODE_ID_ATTRIBUTE);
  }

  @Override
  public Map<String, String> computing() {
    Map<String, String> computing = new LinkedHashMap<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      String id = m.getAttribute(Protocol.NODE_ID_ATTRIBUTE);
      if (id != null && Protocol.computes(m.getAttribute(Protocol.ROLE_ATTRIBUTE))) {
        String node = m.getAttribute(Protocol.NODE_ATTRIBUTE);
        computing.put(id, (node != null ? node : id) + " [" + m.getAttribute(Protocol.ROLE_ATTRIBUTE) + "] at "
          + m.getAddress().getHost() + ":" + m.getAddress().getPort());
      }
    }
    return computing;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    listeners.forEach(Runnable::run);
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    listeners.forEach(Runnable::run);
  }

  @Override
  public void close() {
    listeners.clear();
    if (hazelcast.getLifecycleService().isRunning()) {
      hazelcast.getCluster().removeMembershipListener(registration);
    }
  }
}
