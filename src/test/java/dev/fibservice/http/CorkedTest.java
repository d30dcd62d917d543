package dev.fibservice.http;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A corked file response: the whole file arrives, and the socket is uncorked for the next response on it. */
class CorkedTest {

  @TempDir
  Path dir;

  private Vertx vertx;
  private FileChannel file;
  private String content;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.builder().with(new VertxOptions().setPreferNativeTransport(true)).build();
    content = "<p>corked</p>".repeat(20_000);
    Path path = dir.resolve("page.html");
    Files.writeString(path, content, StandardCharsets.US_ASCII);
    file = FileChannel.open(path, StandardOpenOption.READ);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await();
    file.close();
  }

  @Test
  void theFileArrivesWholeAndTheCorkComesOff() throws Exception {
    assertTrue(vertx.isNativeTransportEnabled(), "this test needs the epoll transport (Linux)");
    HttpServer server = vertx.createHttpServer().requestHandler(request -> {
      if (request.path().equals("/file")) {
        Corked.sendFile(request, file, content.length());
      } else {
        request.response().end(String.valueOf(Corked.isCorked(request.connection())));
      }
    }).listen(0, "127.0.0.1").await();
    // one connection, kept alive: the second request meets the socket the file went out on
    WebClient client = WebClient.create(vertx, new WebClientOptions().setDefaultPort(server.actualPort())
      .setDefaultHost("127.0.0.1").setKeepAlive(true), new PoolOptions().setHttp1MaxSize(1));
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> page = client.get("/file").send().await();
      assertEquals(200, page.statusCode());
      assertEquals(String.valueOf(content.length()), page.getHeader("content-length"));
      assertEquals(content, page.bodyAsString());
      assertEquals("false", client.get("/cork").send().await().bodyAsString(), "TCP_CORK must be off after a file");
    }
  }
}
