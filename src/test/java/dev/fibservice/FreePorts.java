package dev.fibservice;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A free port for a server a test starts later than it names the port (a member told where Zipkin will listen, before
 * Zipkin starts): taken below the kernel's ephemeral range, so that no outgoing connection made in the meantime (a
 * cluster opens many) can be given it. A port from {@code new ServerSocket(0)} comes from that range and may be.
 */
public final class FreePorts {

  private static final Path EPHEMERAL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  private static final int LOWEST = 10_000;

  private FreePorts() {
  }

  /** A port free now on 127.0.0.1, below the ephemeral range (from LOWEST up). */
  public static int outsideEphemeralRange() throws IOException {
    // line by line: Files.readString trusts the size procfs reports, and reads 1 byte of this file
    int ephemeralStart = Files.isReadable(EPHEMERAL)
      ? Integer.parseInt(Files.readAllLines(EPHEMERAL).get(0).trim().split("\\s+")[0]) : 32768;
    if (ephemeralStart <= LOWEST + 100) {
      throw new IllegalStateException("the ephemeral port range starts at " + ephemeralStart + ": no room below it");
    }
    for (int tries = 0; tries < 200; tries++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, ephemeralStart);
      try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
        return probe.getLocalPort();
      } catch (IOException taken) {
        // another one
      }
    }
    throw new IOException("no free port below " + ephemeralStart + " after 200 tries");
  }
}
