package dev.fibservice.client;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client library's member choice, suspicion and retries, against fake worker members on a local event bus
 * that stop answering and come back. Outcome checks only: every wait is bounded and generous.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FibClientTest {

  private Vertx vertx;
  private FakeCluster cluster;
  private Members members;
  private FibClient client;
  private final List<String> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    cluster = new FakeCluster(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    if (members != null) {
      members.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Short intervals, so that the tests see suspicion quickly; generous compared with a local event bus. */
  private static FibClientOptions options() {
    return new FibClientOptions().pingIntervalMs(50).suspectAfterMs(400).attemptTimeoutMs(300)
      .requestTimeoutMs(30_000).retries(2);
  }

  private void connect(FibClientOptions options, String... aliveFirst) {
    members = Members.create(vertx, cluster, options, new MemberListener() {
      @Override
      public void stateChanged(String id, String name, MemberState from, MemberState to, String reason) {
        events.add(id + " " + from.wireName() + "->" + to.wireName());
      }
    });
    client = FibClient.create(vertx, members);
    for (String id : aliveFirst) {
      eventually(id + " alive", () -> members.state(id) == MemberState.ALIVE);
    }
  }

  private Future<JsonObject> compute(int n) {
    return client.compute(new JsonObject().put("n", n));
  }

  /** F(0) .. F(count - 1), heavy calls, all in flight at once. */
  private List<Future<JsonObject>> computeMany(int count) {
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      calls.add(compute(i));
    }
    return calls;
  }

  /** Every call ends answered by {@code member}. */
  private static void assertAllAnsweredBy(String member, List<Future<JsonObject>> calls, String why) throws Exception {
    for (Future<JsonObject> call : calls) {
      assertEquals(member, worker(await(call)), why);
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 30 s: " + what);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static String worker(JsonObject reply) {
    return reply.getString("worker").substring(0, reply.getString("worker").indexOf('/'));
  }

  @Test
  void aMemberThatNeverAnsweredAPingGetsNoRequest() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    b.silence();
    connect(options(), "a");
    for (int i = 0; i < 20; i++) {
      assertEquals("a", worker(await(compute(i))));
    }
    assertEquals(0, b.received.get());
    assertEquals(MemberState.JOINING, members.state("b"));
  }

  @Test
  void aMemberThatStopsAnsweringIsSuspectedItsWorkRetriedElsewhereAndItComesBack() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    b.silence();
    List<Future<JsonObject>> calls = computeMany(10);
    assertAllAnsweredBy("a", calls, "every call ends on the member that answers");
    assertTrue(b.received.get() > 0, "some calls went to b before it was suspected");
    assertEquals(MemberState.SUSPECTED, members.state("b"));
    assertEquals(b.received.get(), members.retries(RetryReason.SUSPECTED), "each call b held was sent again, once");
    for (String attempt : b.cancelIds) {
      eventually("the attempt " + attempt + " given up is cancelled", () -> cluster.cancels.contains(attempt));
    }
    b.resume(); // its late replies come now, and are ignored
    eventually("b alive again", () -> members.state("b") == MemberState.ALIVE);
    int before = b.computed.get();
    for (int i = 0; i < 20; i++) {
      await(compute(i));
    }
    assertTrue(b.computed.get() > before, "b gets requests again");
    assertTrue(events.containsAll(List.of("b alive->suspected", "b suspected->alive")), events.toString());
  }

  @Test
  void withNoOtherMemberAliveTheWorkOfASuspectedMemberWaitsForIt() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    connect(options(), "a");
    a.silence();
    Future<JsonObject> call = compute(7);
    eventually("a suspected", () -> members.state("a") == MemberState.SUSPECTED);
    a.resume();
    assertEquals("a", worker(await(call)), "the call waited for the only member, paused, not failed");
    assertEquals(0, members.retries(RetryReason.SUSPECTED));
  }

  @Test
  void theWorkOfAMemberThatLeavesIsRetried() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    b.answersComputations = false; // alive, answers pings, holds what it gets
    List<Future<JsonObject>> calls = computeMany(10);
    eventually("b holds some", () -> b.received.get() > 0);
    cluster.remove("b");
    assertAllAnsweredBy("a", calls, null);
    assertEquals(MemberState.REMOVED, members.state("b"));
    assertEquals(b.received.get(), members.retries(RetryReason.MEMBER_LEFT), "what b held moved when it left");
  }

  @Test
  void repliesAreEvidenceOfLifeWhenPingsGoUnanswered() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    connect(options().suspectAfterMs(1500), "a");
    a.answersPings = false;
    a.computeMs = 20;
    for (int i = 0; i < 150; i++) {
      assertEquals("a", worker(await(compute(i))));
    }
    assertEquals(0, members.snapshot().get(0).suspicions(), "a answered every computation: never suspected");
    eventually("a suspected once its replies stop too", () -> members.state("a") == MemberState.SUSPECTED);
  }

  @Test
  void aPingFromBeforeAMemberLeftSaysNothingAboutItWhenItIsBack() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    connect(options(), "a");
    a.silence(); // its ping now goes unanswered, until it times out (10 s)
    eventually("a suspected", () -> members.state("a") == MemberState.SUSPECTED);
    cluster.remove("a");
    eventually("a removed", () -> members.state("a") == MemberState.REMOVED);
    cluster.add("a"); // back, after a merge say, and answering
    eventually("a alive again", () -> members.state("a") == MemberState.ALIVE);
    Thread.sleep(Members.PING_TIMEOUT_MS + 2_000); // the old ping times out meanwhile
    assertEquals(MemberState.ALIVE, members.state("a"), events.toString());
    assertEquals(1, members.snapshot().get(0).suspicions(), "suspected once, before it left: " + events);
  }

  @Test
  void aFullMemberSendsTheWorkElsewhereAndAllFullIsBusy() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options().maxInFlightPerMember(2), "a", "b");
    a.answersComputations = false;
    b.answersComputations = false;
    List<Future<JsonObject>> calls = computeMany(4);
    eventually("two calls on each member", () -> a.received.get() == 2 && b.received.get() == 2);
    ExecutionException busy = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(compute(99)));
    ReplyException e = assertInstanceOf(ReplyException.class, busy.getCause());
    assertEquals(503, e.failureCode());
    assertTrue(e.getMessage().contains("cluster.maxInFlightPerMember"), e.getMessage());
    a.resume();
    b.resume();
    for (Future<JsonObject> call : calls) {
      await(call);
    }
  }

  @Test
  void noMemberAtAllIsA503AtOnce() throws Exception {
    connect(options());
    ExecutionException none = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(compute(5)));
    ReplyException e = assertInstanceOf(ReplyException.class, none.getCause());
    assertEquals(ReplyFailure.NO_HANDLERS, e.failureType());
    assertEquals(503, e.failureCode());
    assertTrue(e.getMessage().startsWith("no Fibonacci worker is available"), e.getMessage());
  }

  @Test
  void theCallersCancelReachesTheAttemptThatRuns() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    connect(options(), "a");
    a.answersComputations = false;
    client.compute(new JsonObject().put("n", 40), "req-1", "c1", false);
    eventually("a got the call", () -> a.received.get() == 1);
    assertEquals(List.of("c1#1"), a.cancelIds, "each attempt carries its own cancel id");
    vertx.eventBus().publish(Protocol.FIB_CANCEL, new JsonObject().put("id", "c1"));
    eventually("the published cancel is passed on to the attempt", () -> cluster.cancels.contains("c1#1"));
  }

  @Test
  void aLightAttemptWithoutAnAnswerIsRetriedElsewhere() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    b.answersComputations = false; // answers pings: alive, but stuck
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      calls.add(client.compute(new JsonObject().put("n", i), null, null, true));
    }
    assertAllAnsweredBy("a", calls, null);
    assertTrue(b.received.get() > 0);
    assertEquals(b.received.get(), members.retries(RetryReason.ATTEMPT_TIMEOUT));
    for (String attempt : b.cancelIds) {
      eventually("the timed-out attempt " + attempt + " is cancelled", () -> cluster.cancels.contains(attempt));
    }
  }

  @Test
  void aMemberWithoutAGatewayIsAvoidedAndTheNextAnswers() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    a.dropGateway(); // alive (it answers pings), but nothing listens on its compute address: NO_HANDLERS
    for (int i = 0; i < 10; i++) {
      assertEquals("b", worker(await(compute(i))));
    }
    assertEquals(10, b.received.get());
    assertTrue(members.retries(RetryReason.NO_HANDLERS) <= 2,
      "a answered NO_HANDLERS once and was avoided for a while: " + members.retries(RetryReason.NO_HANDLERS));
  }

  @Test
  void membersLeavingUseNoRetries() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    cluster.add("c");
    connect(options().retries(0), "a", "b", "c");
    a.answersComputations = false;
    b.answersComputations = false;
    List<Future<JsonObject>> calls = computeMany(9);
    eventually("a and b hold some", () -> a.received.get() > 0 && b.received.get() > 0);
    cluster.remove("a");
    eventually("b holds what a held", () -> b.received.get() > 0 && members.state("a") == MemberState.REMOVED);
    cluster.remove("b");
    assertAllAnsweredBy("c", calls, "with fib.retries 0, two members leaving in turn cost no call");
  }

  @Test
  void aSuspectedMemberUsesNoRetries() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options().retries(0), "a", "b");
    b.silence();
    List<Future<JsonObject>> calls = computeMany(10);
    assertAllAnsweredBy("a", calls, "with fib.retries 0, a member going silent costs no call");
    assertTrue(b.received.get() > 0, "some calls went to b before it was suspected");
    b.resume();
  }

  @Test
  void aHeavyCallIsNotRetriedForBeingSlow() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    connect(options(), "a");
    a.answersComputations = false; // alive, answers pings, holds the computation: a long one
    Future<JsonObject> call = client.compute(new JsonObject().put("n", 5_000_000), null, "heavy-1", false);
    eventually("a got the call", () -> a.received.get() == 1);
    FakeCluster.Worker b = cluster.add("b");
    eventually("b alive", () -> members.state("b") == MemberState.ALIVE);
    // ten attempt timeouts later the heavy call still waits on a: only a leaving sends it to b
    Thread.sleep(10L * options().attemptTimeoutMs());
    assertEquals(1, a.received.get());
    assertEquals(0, b.received.get(), "a heavy computation was started twice");
    cluster.remove("a");
    assertEquals("b", worker(await(call)));
    assertEquals(1, b.received.get());
  }

  @Test
  void aGatewaysAnswerIsFinalEvenAFailure() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    a.failsWith = 503;
    b.failsWith = 503;
    ExecutionException busy = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(client.compute(new JsonObject().put("n", 10), null, null, true)));
    ReplyException e = assertInstanceOf(ReplyException.class, busy.getCause());
    assertEquals(ReplyFailure.RECIPIENT_FAILURE, e.failureType());
    assertEquals(503, e.failureCode());
    assertEquals(1, a.received.get() + b.received.get(), "a refusal is not retried elsewhere");
  }

  @Test
  void retriesAreBoundedByFibRetries() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    FakeCluster.Worker c = cluster.add("c");
    connect(options().retries(1).requestTimeoutMs(1500), "a", "b", "c");
    a.answersComputations = false; // all alive (they answer pings), all stuck
    b.answersComputations = false;
    c.answersComputations = false;
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(client.compute(new JsonObject().put("n", 10), null, null, true)));
    ReplyException e = assertInstanceOf(ReplyException.class, failed.getCause());
    assertEquals(ReplyFailure.TIMEOUT, e.failureType(), "the last attempt gets the full timeout, then fails");
    assertEquals(1, members.retries(RetryReason.ATTEMPT_TIMEOUT), "two attempts: the first and fib.retries = 1 more");
    assertEquals(2, a.received.get() + b.received.get() + c.received.get());
  }

  /**
   * The chaos run's finding: a light call's retries added their short attempts to the last one's full timeout, so the
   * answer came later than fib.timeoutMs + 5 s. The call's timeout holds for all its attempts: with 500 ms in all and
   * 300 ms per attempt, the second attempt gets the 200 ms left and no third one is sent.
   */
  @Test
  void retriesShareTheCallsTimeoutAndNeverExtendIt() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    FakeCluster.Worker c = cluster.add("c");
    connect(options().retries(2).requestTimeoutMs(500), "a", "b", "c");
    a.answersComputations = false; // all alive (they answer pings), all stuck
    b.answersComputations = false;
    c.answersComputations = false;
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(client.compute(new JsonObject().put("n", 10), null, null, true)));
    ReplyException e = assertInstanceOf(ReplyException.class, failed.getCause());
    assertEquals(ReplyFailure.TIMEOUT, e.failureType(), e.getMessage());
    assertEquals(2, a.received.get() + b.received.get() + c.received.get(),
      "the first attempt (300 ms) and the second (the 200 ms left); a third would outlive the call");
  }

  @Test
  void membersWithoutAGatewayUseNoRetries() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    cluster.add("c");
    connect(options().retries(0), "a", "b", "c");
    a.dropGateway(); // leaving: the gateway goes before the membership says so
    b.dropGateway();
    for (int i = 0; i < 10; i++) {
      assertEquals("c", worker(await(compute(i))), "with fib.retries 0, members without a gateway cost no call");
    }
    assertTrue(members.retries(RetryReason.NO_HANDLERS) > 0, "some calls went to a or b first");
  }

  @Test
  void whatALeavingGatewayDiscardsMovesAndUsesNoRetries() throws Exception {
    cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options().retries(0), "a", "b");
    b.pauseGateway();
    List<Future<JsonObject>> calls = computeMany(10); // heavy: no attempt timeout of their own
    Thread.sleep(200); // what was sent to b reaches its paused gateway
    b.dropGateway(); // leaving: Vert.x answers what the gateway held TIMEOUT "Discarded the request"
    assertAllAnsweredBy("a", calls, "a discarded message ran nowhere: it moves, with no retry used");
    assertTrue(b.discarded.get() > 0, "b's gateway held some when it went");
    assertEquals(0, b.received.get());
  }

  @Test
  void lossesAreBoundedPerCall() throws Exception {
    for (String id : List.of("a", "b", "c", "d", "e")) {
      cluster.add(id).dropGateway();
    }
    connect(options().retries(0), "a", "b", "c", "d", "e");
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
      () -> await(compute(10)));
    ReplyException e = assertInstanceOf(ReplyException.class, failed.getCause());
    assertEquals(503, e.failureCode());
    assertTrue(e.getMessage().contains("3 members were lost to this request and the 0 retries (fib.retries) were used up"),
      e.getMessage());
    assertEquals(3, members.retries(RetryReason.NO_HANDLERS), "four attempts: the first and 3 moves");
  }

  /** F(n) heavy, on the member the key {@code n} chooses. */
  private Future<JsonObject> computeKeyed(FibClient on, int n) {
    return on.compute(new JsonObject().put("n", n), null, null, false, n);
  }

  @Test
  void aHeavyKeyGoesToTheSameMemberOnEveryFrontAndKeysSpreadOverTheMembers() throws Exception {
    cluster.add("a");
    cluster.add("b");
    cluster.add("c");
    connect(options(), "a", "b", "c");
    Members otherFront = Members.create(vertx, cluster, options(), null);
    try {
      FibClient other = FibClient.create(vertx, otherFront);
      for (String id : List.of("a", "b", "c")) {
        eventually(id + " alive for the other front", () -> otherFront.state(id) == MemberState.ALIVE);
      }
      java.util.Set<String> used = new java.util.HashSet<>();
      for (int n = 100_000; n < 100_060; n++) {
        String member = worker(await(computeKeyed(client, n)));
        assertEquals(member, worker(await(computeKeyed(client, n))), "F(" + n + ") again");
        assertEquals(member, worker(await(computeKeyed(other, n))), "F(" + n + ") from another front");
        used.add(member);
      }
      assertEquals(java.util.Set.of("a", "b", "c"), used, "60 keys spread over the three members");
    } finally {
      otherFront.close();
    }
  }

  @Test
  void whenItsMemberLeavesAKeyMovesToOneOtherAndNoOtherKeyMoves() throws Exception {
    for (String id : List.of("a", "b", "c")) {
      cluster.add(id);
    }
    connect(options(), "a", "b", "c");
    java.util.Map<Integer, String> owners = new java.util.HashMap<>();
    for (int n = 100_000; n < 100_030; n++) {
      owners.put(n, worker(await(computeKeyed(client, n))));
    }
    String gone = owners.get(100_000);
    FakeCluster.Worker leaving = cluster.workers().get(gone);
    leaving.answersComputations = false;
    Future<JsonObject> held = computeKeyed(client, 100_000);
    eventually(gone + " holds F(100000)", () -> leaving.received.get() > 0 && !leaving.cancelIds.isEmpty()
      && members.snapshot().stream().anyMatch(v -> v.id().equals(gone) && v.inFlight() == 1));
    cluster.remove(gone);
    String next = worker(await(held));
    assertTrue(!next.equals(gone), "moved when its member left");
    for (int n = 100_000; n < 100_030; n++) {
      String now = worker(await(computeKeyed(client, n)));
      if (owners.get(n).equals(gone)) {
        assertTrue(!now.equals(gone), "F(" + n + ") moved off " + gone);
      } else {
        assertEquals(owners.get(n), now, "F(" + n + ") stays where it was: only the keys of the member that left move");
      }
    }
    assertEquals(next, worker(await(computeKeyed(client, 100_000))), "and stays on its next member");
  }

  @Test
  void aMemberPastItsShareOfTheLoadPassesItsKeysOn() throws Exception {
    FakeCluster.Worker a = cluster.add("a");
    FakeCluster.Worker b = cluster.add("b");
    connect(options(), "a", "b");
    List<Integer> keysOfA = new ArrayList<>();
    for (int n = 100_000; keysOfA.size() < 10; n++) {
      if (worker(await(computeKeyed(client, n))).equals("a")) {
        keysOfA.add(n);
      }
    }
    int beforeA = a.received.get();
    int beforeB = b.received.get();
    a.answersComputations = false; // both hold what they get: the load only grows
    b.answersComputations = false;
    List<Future<JsonObject>> calls = new ArrayList<>();
    for (int n : keysOfA) {
      calls.add(computeKeyed(client, n));
      int sent = calls.size();
      eventually("call " + sent + " arrived", () -> a.received.get() - beforeA + b.received.get() - beforeB == sent);
    }
    int onA = a.received.get() - beforeA;
    assertTrue(b.received.get() > beforeB, "some of a's keys went to b");
    assertTrue(onA <= Math.ceil(Members.LOAD_BOUND * calls.size() / 2), "a holds " + onA + " of " + calls.size());
    a.resume();
    b.resume();
    for (Future<JsonObject> call : calls) {
      await(call);
    }
  }
}
