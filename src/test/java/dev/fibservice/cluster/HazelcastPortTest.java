package dev.fibservice.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.fibservice.TestConf;
import dev.fibservice.config.Settings;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cluster.hazelcastPort: auto keeps the file's port, a number is the first port tried, 0 any free port. */
class HazelcastPortTest {

  @Test
  void autoKeepsTheFilesPortAndANumberReplacesIt() {
    assertEquals(5701, Clustering.hazelcastConfig(TestConf.settings()).getNetworkConfig().getPort());
    assertEquals(18999, Clustering.hazelcastConfig(TestConf.settings().with(Map.of("cluster.hazelcastPort", "18999")))
      .getNetworkConfig().getPort());
  }

  @Test
  void zeroListensOnAFreePortAndTakesItAsTheMembersAddress() throws Exception {
    Settings settings = TestConf.settings().with(Map.of("cluster.hazelcastPort", "0",
      "cluster.name", "hazelcast-port-test-" + System.nanoTime()));
    Config config = Clustering.hazelcastConfig(settings);
    assertEquals(0, config.getNetworkConfig().getPort());
    // alone: no other member's port is tried
    config.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(List.of());
    HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
    try {
      int port = member.getCluster().getLocalMember().getAddress().getPort();
      assertNotEquals(0, port);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        assertTrue(s.isConnected(), "the member listens on the port it names");
      }
    } finally {
      member.shutdown();
    }
  }
}
