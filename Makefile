# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run install-client test clean browser test-tools cluster cluster-certs cluster-await cluster-stop \
  bench zipkin zipkin-stop prometheus prometheus-stop contracts-capture release-jar fuzz

build: $(JAR)

# `clean` first: re-shading over an old jar fails with "overlapping classes"
$(JAR): $(SOURCES)
	$(MVN) clean package -DskipTests

run: $(JAR)
	java -jar $(JAR) $(ARGS)

# The cluster client library (target/fib-service-client.jar) in the local Maven repository as
# dev.fibservice:fib-service-client, for examples/java-client and any JVM service. `make build` installs it only when
# it rebuilds the jar; this installs it every time, so a fresh or cleaned ~/.m2 beside an up-to-date jar gets it too.
install-client: $(JAR)
	$(MVN) -q install:install-file@client-jar-install

test:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  || echo "browser tests will be skipped: Chromium or ChromeDriver is not installed (make browser, as root, installs them)"
	@missing="$$($(TEST_TOOLS_MISSING))"; [ -z "$$missing" ] \
	  || echo "tests that need the tools of$$missing will be skipped (make test-tools, as root, installs them)"
	@command -v node >/dev/null && command -v npm >/dev/null \
	  || echo "the Node.js client test (NodeClientIT) will be skipped: node or npm is not installed"
	$(MVN) clean verify

# Debian's Chromium and ChromeDriver, for the page's browser test (CI runs this before `make test`)
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  chromium --version 2>/dev/null; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && apt-get install -y -q chromium chromium-driver; \
	else \
	  echo "make browser: as root, run: apt-get install -y chromium chromium-driver"; exit 1; \
	fi

# Debian packages of the tools some tests drive (Debian's nc, promtool, nft); CI runs this before `make test`.
# The prometheus package is there for promtool alone: its server must not be left running.
TEST_TOOLS_MISSING := { nc -h 2>&1 | grep -q OpenBSD || printf ' netcat-openbsd'; \
  command -v promtool >/dev/null || printf ' prometheus'; command -v nft >/dev/null || printf ' nftables'; }

test-tools:
	@missing="$$($(TEST_TOOLS_MISSING))"; \
	if [ -z "$$missing" ]; then \
	  echo "test tools present: nc (OpenBSD), promtool, nft"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	  case "$$missing" in *prometheus*) \
	    if command -v systemctl >/dev/null; then systemctl disable --now prometheus >/dev/null 2>&1; fi; \
	    if command -v service >/dev/null; then service prometheus stop >/dev/null 2>&1; fi; \
	    echo "prometheus installed for promtool only: its server is stopped and disabled";; \
	  esac; \
	else \
	  echo "make test-tools: as root, run: apt-get install -y --no-install-recommends$$missing"; exit 1; \
	fi

clean:
	$(MVN) clean

# A local cluster on loopback: the database as a process of its own (`java -jar ... db`, the embedded MariaDB alone),
# one `http` member and two `worker` members, in the background, every port picked free (HTTP, TCP, bridge,
# Hazelcast, event bus, MariaDB) and a cluster name of its own, so that it never meets another cluster on this host; it
# prints where each listens and writes it to run/cluster.env. Logs and PIDs under run/; `make cluster-stop` stops exactly
# those PIDs, the members first and the database last.
CLUSTER_WORKERS := worker-1 worker-2
CLUSTER_MEMBERS := http $(CLUSTER_WORKERS)
# as --set, so that ARGS can still give any of them (--http-port 8080 or --set http.port=8080)
FRONT_ARGS := --set http.port=0 --set tcp.port=0 --set bridge.enabled=true --set bridge.port=0 --set cluster.hazelcastPort=0
# a worker member has no HTTP port: its /metrics and /health/* are on an ops port of its own
WORKER_OPS := --set ops.enabled=true --set ops.port=0
# Event-bus TLS with mutual authentication: the cluster's CA and member certificates (git-ignored, under run/)
CERTS_DIR ?= run/certs
# the members' cluster addresses: one certificate each, with the address as its IP SAN
CLUSTER_CERT_ADDRS ?= 127.0.0.1
CLUSTER_TLS := --set cluster.tls.cert=$(CERTS_DIR)/member-127.0.0.1.pem \
  --set cluster.tls.key=$(CERTS_DIR)/member-127.0.0.1-key.pem --set cluster.tls.ca=$(CERTS_DIR)/ca.pem
# a process's port, from the lines of its log: `ready: HTTP on H:P, TCP on H:P`, `bridge ready: ... bridge on H:P`,
# `joined ... (Hazelcast H:P, event bus H:P)` and `embedded MariaDB started on H:P`
PORT_OF = sed -n 's/.*$(1) [0-9.]*:\([0-9]*\).*/\1/p' run/$(2).log | head -1

cluster-certs:
	src/main/scripts/cluster-certs.sh $(CERTS_DIR) $(CLUSTER_CERT_ADDRS)

cluster: $(JAR)
	@mkdir -p run
	@[ -f $(CERTS_DIR)/ca.pem ] && [ -f $(CERTS_DIR)/member-127.0.0.1.pem ] && [ -f $(CERTS_DIR)/member-127.0.0.1-key.pem ] \
	  || $(MAKE) --no-print-directory cluster-certs CLUSTER_CERT_ADDRS=127.0.0.1
	@for f in run/*.pid; do [ -f "$$f" ] && kill -0 "$$(cat $$f)" 2>/dev/null \
	  && { echo "a cluster member is still running ($$f); run 'make cluster-stop' first"; exit 1; }; done; true
	@# a log of an earlier run would be read as this one's (its ready line, its ports)
	@echo "fib-local-$$(date +%s)-$$$$" > run/cluster.name; rm -f run/cluster.env $(foreach m,db $(CLUSTER_MEMBERS),run/$(m).log)
	@# the database first, a process of its own: members come and go (a rolling upgrade replaces each), it stays
	@echo "nohup java -jar $(JAR) db --port 0 > run/db.log 2>&1 &"; \
	  nohup java -jar $(JAR) db --port 0 > run/db.log 2>&1 & echo $$! > run/db.pid
	@for i in $$(seq 900); do grep -q " database ready: " run/db.log 2>/dev/null && { sed -n 's/.* - \(database ready: [^;]*\);.*/\1/p' run/db.log; exit 0; }; \
	  kill -0 "$$(cat run/db.pid)" 2>/dev/null || { echo "the database exited; see run/db.log"; exit 1; }; sleep 0.1; done; \
	  echo "the database is not ready after 90 s; see run/db.log"; exit 1
	@# every member reaches it: mysql.host "embedded" in a cluster is that process, on this host at mysql.port, its
	@# password in the data directory they share (data/mariadb, owner-only)
	@db=$$($(call PORT_OF,embedded MariaDB started on,db)); \
	  args="--cluster --role http $(FRONT_ARGS) --set mysql.port=$$db --set cluster.name=$$(cat run/cluster.name)"; \
	  echo "nohup java -jar $(JAR) $$args $(CLUSTER_TLS) $(ARGS) > run/http.log 2>&1 &"; \
	  nohup java -jar $(JAR) $$args $(CLUSTER_TLS) $(ARGS) > run/http.log 2>&1 & echo $$! > run/http.pid
	@$(MAKE) --no-print-directory cluster-await MEMBER=http
	@# workers join through the front's Hazelcast port; they run the background jobs (every member that computes and
	@# reaches the database does)
	@seed=$$($(call PORT_OF,Hazelcast,http)); db=$$($(call PORT_OF,embedded MariaDB started on,db)); \
	  for w in $(CLUSTER_WORKERS); do \
	    args="--cluster --role worker --set cluster.hazelcastPort=0 --set cluster.members=127.0.0.1:$$seed --set mysql.port=$$db --set cluster.name=$$(cat run/cluster.name) $(WORKER_OPS)"; \
	    echo "nohup java -jar $(JAR) $$args $(CLUSTER_TLS) $(ARGS) > run/$$w.log 2>&1 &"; \
	    nohup java -jar $(JAR) $$args $(CLUSTER_TLS) $(ARGS) > run/$$w.log 2>&1 & echo $$! > run/$$w.pid; \
	  done
	@for w in $(CLUSTER_WORKERS); do $(MAKE) --no-print-directory cluster-await MEMBER=$$w; done
	@http=$$($(call PORT_OF,HTTP on,http)); db=$$($(call PORT_OF,embedded MariaDB started on,db)); \
	  { echo "CLUSTER_NAME=$$(cat run/cluster.name)"; echo "HTTP_PORT=$$http"; echo "TCP_PORT=$$($(call PORT_OF,TCP on,http))"; \
	    echo "BRIDGE_PORT=$$($(call PORT_OF,event-bus bridge on,http))"; echo "HAZELCAST_PORT=$$($(call PORT_OF,Hazelcast,http))"; \
	    echo "MYSQL_PORT=$$db"; \
	    for w in $(CLUSTER_WORKERS); do echo "$$(echo $$w | tr a-z- A-Z_)_OPS_PORT=$$($(call PORT_OF,info on,$$w))"; done; \
	  } > run/cluster.env; \
	  echo "cluster $$(cat run/cluster.name), every process on 127.0.0.1 (also in run/cluster.env):"; \
	  printf '  %-9s %s (pid %s, run/%s.log)\n' db "MariaDB $$db" "$$(cat run/db.pid)" db; \
	  for m in $(CLUSTER_MEMBERS); do \
	    ports="Hazelcast $$($(call PORT_OF,Hazelcast,$$m)), event bus $$($(call PORT_OF,event bus,$$m))"; \
	    ops=$$($(call PORT_OF,info on,$$m)); [ -n "$$ops" ] && ports="$$ports, ops $$ops"; \
	    [ $$m = http ] && ports="HTTP $$http, TCP $$($(call PORT_OF,TCP on,http)), bridge $$($(call PORT_OF,event-bus bridge on,http)), $$ports"; \
	    printf '  %-9s %s (pid %s, run/%s.log)\n' $$m "$$ports" "$$(cat run/$$m.pid)" $$m; \
	  done; \
	  for i in $$(seq 300); do curl -s localhost:$$http/info 2>/dev/null | grep -q '"reachable":false' || break; sleep 0.1; done; \
	  curl -s localhost:$$http/info 2>/dev/null | head -c 2000; echo

# waits (at most 90 s) for run/$(MEMBER).log to say the node is ready
cluster-await:
	@for i in $$(seq 900); do grep -q " node [^ ]* ready: " run/$(MEMBER).log 2>/dev/null && { grep -h " ready: " run/$(MEMBER).log | sed 's/.* - //'; exit 0; }; \
	  kill -0 "$$(cat run/$(MEMBER).pid)" 2>/dev/null || { echo "$(MEMBER) exited; see run/$(MEMBER).log"; exit 1; }; sleep 0.1; done; \
	  echo "$(MEMBER) not ready after 90 s; see run/$(MEMBER).log"; exit 1

# the members first (each leaves gracefully: SIGTERM, waited for), the database last, once no member uses it
cluster-stop:
	@stop() { for f in "$$@"; do [ -f "$$f" ] || continue; pid=$$(cat $$f); \
	    if kill -0 $$pid 2>/dev/null; then echo "stopping $$f (pid $$pid)"; kill -TERM $$pid; fi; done; \
	  for f in "$$@"; do [ -f "$$f" ] || continue; pid=$$(cat $$f); \
	    for i in $$(seq 300); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; rm -f $$f; done; }; \
	stop $$(ls run/*.pid 2>/dev/null | grep -v '^run/db.pid$$'); stop run/db.pid; \
	rm -f run/cluster.env

# Zipkin (its server's exec jar from Maven Central), on loopback, in the background: where the members' traces go with
# --set tracing.exporter=zipkin (its default endpoint is this server's). Log and PID under run/zipkin/.
ZIPKIN_VERSION := 3.6.1
ZIPKIN_PORT ?= 9411
ZIPKIN_JAR := run/zipkin/zipkin-server-$(ZIPKIN_VERSION)-exec.jar

zipkin:
	@mkdir -p run/zipkin
	@[ -f $(ZIPKIN_JAR) ] || $(MVN) -q dependency:copy -Dartifact=io.zipkin:zipkin-server:$(ZIPKIN_VERSION):jar:exec \
	  -DoutputDirectory=run/zipkin
	@[ -f run/zipkin/zipkin.pid ] && kill -0 "$$(cat run/zipkin/zipkin.pid)" 2>/dev/null \
	  && { echo "Zipkin is running already (pid $$(cat run/zipkin/zipkin.pid)); make zipkin-stop first"; exit 1; }; true
	nohup java -Xmx512m -jar $(ZIPKIN_JAR) --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port=$(ZIPKIN_PORT) \
	  --armeria.ports[0].protocols[0]=http > run/zipkin/zipkin.log 2>&1 & echo $$! > run/zipkin/zipkin.pid
	@for i in $$(seq 1200); do grep -q "Serving HTTP at" run/zipkin/zipkin.log 2>/dev/null && break; \
	  kill -0 "$$(cat run/zipkin/zipkin.pid)" 2>/dev/null || { echo "Zipkin exited; see run/zipkin/zipkin.log"; exit 1; }; \
	  sleep 0.1; done; grep -q "Serving HTTP at" run/zipkin/zipkin.log \
	  || { echo "Zipkin not serving after 120 s; see run/zipkin/zipkin.log"; exit 1; }
	@echo "Zipkin on http://127.0.0.1:$(ZIPKIN_PORT)/ (pid $$(cat run/zipkin/zipkin.pid)); spans to http://127.0.0.1:$(ZIPKIN_PORT)/api/v2/spans"

zipkin-stop:
	@src/main/scripts/stop-pid.sh run/zipkin/zipkin.pid

# Debian's Prometheus (make test-tools installs it; its own system service stays stopped), on loopback, in the
# background, scraping the members of `make cluster` (run/cluster.env: the front's HTTP port, the workers' ops ports)
# with the rules of conf/prometheus/ loaded. Data, log and PID under run/prometheus/.
PROMETHEUS_PORT ?= 9090

prometheus:
	@command -v prometheus >/dev/null || { echo "prometheus is not installed (make test-tools, as root, installs it)"; exit 1; }
	@[ -f run/cluster.env ] || { echo "no run/cluster.env: start the cluster first (make cluster)"; exit 1; }
	@[ -f run/prometheus/prometheus.pid ] && kill -0 "$$(cat run/prometheus/prometheus.pid)" 2>/dev/null \
	  && { echo "Prometheus is running already; make prometheus-stop first"; exit 1; }; true
	@mkdir -p run/prometheus
	@. ./run/cluster.env; workers=""; for w in $(CLUSTER_WORKERS); do \
	    port=$$(sed -n "s/^$$(echo $$w | tr a-z- A-Z_)_OPS_PORT=//p" run/cluster.env); workers="$$workers'127.0.0.1:$$port', "; done; \
	  { echo "global: {scrape_interval: 5s, evaluation_interval: 5s}"; \
	    echo "rule_files: ['$(CURDIR)/conf/prometheus/fib-service.rules.yml']"; \
	    echo "scrape_configs:"; \
	    echo "  - {job_name: fib-front, static_configs: [{targets: ['127.0.0.1:$$HTTP_PORT']}]}"; \
	    echo "  - {job_name: fib-workers, static_configs: [{targets: [$$workers]}]}"; } > run/prometheus/prometheus.yml
	promtool check config run/prometheus/prometheus.yml
	nohup prometheus --config.file=run/prometheus/prometheus.yml --storage.tsdb.path=run/prometheus/data \
	  --web.listen-address=127.0.0.1:$(PROMETHEUS_PORT) --enable-feature=exemplar-storage \
	  > run/prometheus/prometheus.log 2>&1 & echo $$! > run/prometheus/prometheus.pid
	@for i in $$(seq 300); do curl -sf http://127.0.0.1:$(PROMETHEUS_PORT)/-/ready >/dev/null && break; \
	  kill -0 "$$(cat run/prometheus/prometheus.pid)" 2>/dev/null || { echo "Prometheus exited; see run/prometheus/prometheus.log"; exit 1; }; \
	  sleep 0.1; done
	@echo "Prometheus on http://127.0.0.1:$(PROMETHEUS_PORT)/ (pid $$(cat run/prometheus/prometheus.pid)): targets at /targets, alerts at /alerts"

prometheus-stop:
	@src/main/scripts/stop-pid.sh run/prometheus/prometheus.pid

# Benchmark suite (src/bench/java, built with the bench profile): fresh service, nginx and wrk where installed,
# results in bench/results/.
# ARGS="hello tcp" runs a subset; BENCH_NO_INSTALL=1 skips the apt install of the peers;
# BENCH_OPTS="-Dbench.seconds=10 -Dbench.rounds=5" measures longer (defaults: 6 s, 3 rounds).
BENCH_CP := target/bench.classpath

bench: $(JAR)
	bench/install-peers.sh
	$(MVN) -q -Pbench test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(BENCH_CP)
	java $(BENCH_OPTS) -cp target/test-classes:target/classes:$$(cat $(BENCH_CP)) dev.fibservice.bench.BenchSuite $(ARGS)

# The contract fixtures of this release (docs/releasing.md): what it exchanges with members and clients, recorded from
# this build into src/test/resources/contracts/$(VERSION)/, which the next release's ContractTest replays.
CONTRACTS_CP := target/contracts.classpath

contracts-capture:
	@[ -n "$(VERSION)" ] || { echo "make contracts-capture VERSION=x.y.z (the version of this release)"; exit 2; }
	$(MVN) -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(CONTRACTS_CP)
	java -cp target/test-classes:target/classes:$$(cat $(CONTRACTS_CP)) dev.fibservice.contracts.ContractCapture $(VERSION)

# The jar of an earlier release, built from its tag (or the commit RELEASES records) in a temporary git worktree:
# make release-jar TAG=v0.1.0 OUT=target/releases/v0.1.0 (docs/releasing.md)
release-jar:
	@[ -n "$(TAG)" ] && [ -n "$(OUT)" ] || { echo "make release-jar TAG=vX.Y.Z OUT=DIR"; exit 2; }
	src/main/scripts/release-jar.sh $(TAG) $(OUT)

# Fuzzing (Jazzer): each @FuzzTest in turn, in a JVM of its own (Jazzer fuzzes one target per JVM), for SECONDS each;
# TARGET=NttFuzzTest (any part of a target's name; several, space-separated) fuzzes the matching ones only. A crash is
# written into the target's corpus, src/test/resources/<package>/<Class>Inputs/<method>/, where `make test` runs it from
# then on; the inputs that found new coverage go to .cifuzz-corpus/ (git-ignored), the run's log to target/fuzz/.
# `make test` runs every corpus once (regression mode) without fuzzing. The SSRF detector allows every connection until
# a test configures it (the wire tests' node connects to its database before the first input). JUnit's timeouts are off:
# they would count the whole fuzzing run as one test (Jazzer still takes them as the limit of one input).
SECONDS ?= 60
TARGET ?=
FUZZ_TARGETS := net/HttpDecoderFuzzTest\#guardParsesLikeNettyOrRefuses http/HttpServerFuzzTest\#requestsGetDocumentedAnswers \
  tcp/LineSessionFuzzTest\#linesGetTheirReplies bridge/BridgeFuzzTest\#framesGetDocumentedAnswers \
  bridge/SockJsFuzzTest\#messagesGetDocumentedAnswers http/BodiesFuzzTest\#peopleBody http/BodiesFuzzTest\#jobsBody \
  http/BodiesFuzzTest\#peoplePathName http/EntityTagsFuzzTest\#ifNoneMatch compute/FibRequestFuzzTest\#parse \
  config/SettingsFuzzTest\#fileEnvAndFlags \
  ./MainFuzzTest\#flags math/NttFuzzTest\#productsMatchBigInteger math/RadixFuzzTest\#decimalMatchesToString \
  math/FibonacciFuzzTest\#fibMatchesReference+recursiveWholeRange

fuzz:
	$(MVN) -q test-compile
	@mkdir -p target/fuzz; for t in $(FUZZ_TARGETS); do \
	  match=; for w in $(or $(TARGET),/); do case "$$t" in *"$$w"*) match=1;; esac; done; [ -n "$$match" ] || continue; \
	  path=$${t%%\#*}; class=$${path##*/}; method=$${t##*\#}; method=$${method%%+*}; pkg=dev/fibservice/$${path%/*}; pkg=$${pkg%/.}; \
	  mkdir -p src/test/resources/$$pkg/$${class}Inputs/$$method; \
	  echo "fuzzing $$class#$$method for $(SECONDS) s (log: target/fuzz/$$class-$$method.log)"; \
	  JAZZER_FUZZ=1 JAZZER_SSRF_PERMISSIVE_UNTIL_CONFIGURED=1 $(MVN) -q surefire:test -Dtest="$${t##*/}" -Djazzer.max_duration=$(SECONDS)s \
	    -Djunit.jupiter.execution.timeout.mode=disabled \
	    -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-report_slow_units=1000000 -Djazzer.internal.arg.2=-len_control=0 \
	    > target/fuzz/$$class-$$method.log 2>&1; status=$$?; \
	  grep -E '^#[0-9]+.*(cov|ft):' target/fuzz/$$class-$$method.log | tail -1; grep -E '^Done [0-9]+ runs' target/fuzz/$$class-$$method.log; \
	  if [ $$status != 0 ]; then echo "$$class#$$method FAILED: see the log; the input is in src/test/resources/$$pkg/$${class}Inputs/$$method/"; failed=1; fi; \
	done; [ -z "$$failed" ]
