package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.XmlConfigBuilder;
import dev.fibservice.TestConf;
import dev.fibservice.config.Settings;
import io.vertx.core.eventbus.EventBusOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Hazelcast and event-bus settings a member starts with: failure detection, merges, the join list. */
class ClusteringTest {

  @Test
  void theBuiltInConfigurationHasTheFilesTimings() throws Exception {
    // the tests' copy of conf/cluster.xml as it ships (conf/ itself is the user's to tune)
    Config file = new XmlConfigBuilder(TestConf.CLUSTER_XML.toString()).build();
    Config builtIn = Clustering.builtIn();
    for (String key : List.of("hazelcast.heartbeat.interval.seconds", "hazelcast.max.no.heartbeat.seconds",
      "hazelcast.merge.first.run.delay.seconds", "hazelcast.merge.next.run.delay.seconds",
      "hazelcast.wait.seconds.before.join", "hazelcast.socket.bind.any")) {
      assertEquals(file.getProperty(key), builtIn.getProperty(key), key);
    }
    assertEquals("10", builtIn.getProperty("hazelcast.max.no.heartbeat.seconds"));
    assertEquals("5", builtIn.getProperty("hazelcast.merge.first.run.delay.seconds"));
  }

  @Test
  void confClusterXmlAsShippedOrTunedIsAUsableConfiguration() {
    // whatever a user tuned in it: Hazelcast's builder and the cluster.* keys on top take it
    Settings settings = TestConf.settings().with(Map.of("cluster.config", "conf/cluster.xml"));
    Config config = Clustering.hazelcastConfig(settings);
    assertEquals("false", config.getProperty("hazelcast.socket.bind.any"), "listens on its interface only");
    assertTrue(config.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled()
      || config.getNetworkConfig().getJoin().getKubernetesConfig().isEnabled(), "a join that finds members");
  }

  @Test
  void plainAddressesOfOtherHostsGetTheMemberPort() {
    assertEquals(List.of("198.19.0.1:5701", "127.0.0.1", "10.0.0.2:5799", "db.example", "[::1]"),
      Clustering.withPorts(List.of("198.19.0.1", "127.0.0.1", "10.0.0.2:5799", "db.example", "[::1]"), 5701));
    Config config = Clustering.hazelcastConfig(TestConf.settings().with(Map.of(
      "cluster.members", "198.19.0.1, 198.19.0.2", "cluster.hazelcastPort", "5801")));
    assertEquals(List.of("198.19.0.1:5801", "198.19.0.2:5801"), config.getNetworkConfig().getJoin().getTcpIpConfig().getMembers());
    // auto, and 0 (a free port on this host only): the other hosts listen on the file's port
    for (String port : List.of("auto", "0")) {
      Config file = Clustering.hazelcastConfig(TestConf.settings().with(Map.of(
        "cluster.members", "198.19.0.1", "cluster.hazelcastPort", port)));
      assertEquals(List.of("198.19.0.1:5701"), file.getNetworkConfig().getJoin().getTcpIpConfig().getMembers(), port);
    }
  }

  @Test
  void theEventBusGivesUpOnASilentConnectionInSeconds() {
    EventBusOptions bus = new EventBusOptions();
    Clustering.eventBus(TestConf.settings(), bus, Clustering.builtIn());
    assertTrue(bus.getConnectTimeout() <= 5_000, "connect timeout " + bus.getConnectTimeout());
    assertTrue(bus.getClusterPingInterval() + bus.getClusterPingReplyInterval() <= 10_000);
  }
}
