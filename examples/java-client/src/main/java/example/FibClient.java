package example;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import dev.fibservice.client.FibClientOptions;
import dev.fibservice.client.HazelcastMembership;
import dev.fibservice.client.MemberListener;
import dev.fibservice.client.MemberState;
import dev.fibservice.client.Members;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Joins the fib-service cluster as a plain Vert.x member, asks for F(n) through fib-service's client library
 * (it picks a worker member that answers its pings, and sends the computation again to another one when that
 * member leaves or stops answering), prints the reply and leaves.
 *
 * <pre>java -jar target/fib-java-client.jar [--cluster-name NAME] [--members 127.0.0.1[:5701],...]
 *     [--host 127.0.0.1] [--tls-cert FILE --tls-key FILE --tls-ca FILE] [--verbose] N [ALGORITHM]</pre>
 *
 * With the three --tls-* files (fib-service's cluster.tls.* keys: a member certificate and key from the
 * cluster's CA, and that CA), the event bus speaks TLS with mutual authentication, as the members do when
 * they are configured so; a member without them gets no answer from such a cluster.
 *
 * Exit codes: 0 answered, 1 the service answered with an error (printed with its failureCode), 2 usage.
 */
public final class FibClient {

  public static void main(String[] args) throws Exception {
    String clusterName = "fib-service";
    String members = "127.0.0.1";
    String host = "127.0.0.1";
    String tlsCert = null;
    String tlsKey = null;
    String tlsCa = null;
    boolean verbose = false;
    Integer n = null;
    String algorithm = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--cluster-name" -> clusterName = args[++i];
        case "--members" -> members = args[++i];
        case "--host" -> host = args[++i];
        case "--tls-cert" -> tlsCert = args[++i];
        case "--tls-key" -> tlsKey = args[++i];
        case "--tls-ca" -> tlsCa = args[++i];
        case "--verbose" -> verbose = true;
        default -> {
          if (n == null) {
            n = Integer.parseInt(args[i]);
          } else {
            algorithm = args[i];
          }
        }
      }
    }
    if (n == null) {
      System.err.println("usage: fib-java-client [--cluster-name NAME] [--members IP[:PORT],...] [--host IP]"
        + " [--tls-cert FILE --tls-key FILE --tls-ca FILE] [--verbose] N [ALGORITHM]");
      System.exit(2);
    }
    boolean tls = tlsCert != null || tlsKey != null || tlsCa != null;
    if (tls && (tlsCert == null || tlsKey == null || tlsCa == null)) {
      System.err.println("fib-java-client: give all three of --tls-cert, --tls-key and --tls-ca, or none");
      System.exit(2);
    }
    if (tls) {
      for (String file : List.of(tlsCert, tlsKey, tlsCa)) {
        if (!Files.isReadable(Path.of(file))) {
          System.err.println("fib-java-client: " + file + " does not exist or cannot be read");
          System.exit(2);
        }
      }
    }

    // The same settings as fib-service's conf/cluster.xml: TCP-IP join, nothing automatic, the same heartbeats.
    Config hazelcast = ConfigUtil.loadConfig().setClusterName(clusterName);
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    hazelcast.setProperty("hazelcast.logging.type", "none");
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    // this client is a Hazelcast member too: listen on its own address only, not on every interface
    hazelcast.setProperty("hazelcast.socket.bind.any", "false");
    hazelcast.getNetworkConfig().getInterfaces().setEnabled(true).addInterface(host);
    JoinConfig join = hazelcast.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(List.of(members.split(",")));
    VertxOptions options = new VertxOptions();
    EventBusOptions bus = options.getEventBusOptions().setHost(host);
    if (tls) {
      // trustAll is true by default on the event bus: turned off, the cluster's CA is the only trust (the
      // clustered event bus does no hostname verification, so any certificate from that CA is a member)
      bus.setSsl(true).setTrustAll(false).setClientAuth(ClientAuth.REQUIRED)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tlsCert).setKeyPath(tlsKey))
        .setTrustOptions(new PemTrustOptions().addCertPath(tlsCa));
    }

    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast);
    Vertx vertx = Vertx.builder().with(options).withClusterManager(manager)
      .buildClustered().await(60, TimeUnit.SECONDS);
    boolean say = verbose;
    // the service's own defaults: pings every 500 ms, suspicion after 1.5 s of silence, 2 retries, and a request
    // timeout a little above the service's fib.timeoutMs (30 s), so that its 504 reaches us first
    Members cluster = Members.create(vertx, new HazelcastMembership(manager.getHazelcastInstance()),
      new FibClientOptions(), new MemberListener() {
        @Override
        public void stateChanged(String id, String name, MemberState from, MemberState to, String reason) {
          if (say) {
            System.err.println("member " + name + ": " + from.wireName() + " -> " + to.wireName() + " (" + reason + ")");
          }
        }
      });
    int exit = 0;
    try {
      JsonObject request = new JsonObject().put("n", n);
      if (algorithm != null) {
        request.put("algorithm", algorithm);
      }
      // a member that has just joined has heard from nobody yet: wait for a first worker to answer its ping
      cluster.anyAlive(30_000).await(35, TimeUnit.SECONDS);
      dev.fibservice.client.FibClient client = dev.fibservice.client.FibClient.create(vertx, cluster);
      JsonObject reply = client.compute(request).await(60, TimeUnit.SECONDS);
      System.out.println(reply.encode());
    } catch (ReplyException e) {
      System.err.println("fib.compute failed: " + e.failureCode() + " " + e.failureType() + ": " + e.getMessage());
      exit = 1;
    } finally {
      cluster.close();
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    System.exit(exit);
  }
}
