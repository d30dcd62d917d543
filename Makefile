# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run install-client test clean browser test-tools cluster cluster-certs cluster-upgrade cluster-stop \
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

# Debian packages of the tools some tests drive (Debian's nc, promtool, nft, nginx); CI runs this before `make test`.
# The prometheus package is there for promtool alone: its server must not be left running.
TEST_TOOLS_MISSING := { nc -h 2>&1 | grep -q OpenBSD || printf ' netcat-openbsd'; \
  command -v promtool >/dev/null || printf ' prometheus'; command -v nft >/dev/null || printf ' nftables'; \
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || printf ' nginx'; \
  [ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || printf ' libnginx-mod-stream'; }

test-tools:
	@missing="$$($(TEST_TOOLS_MISSING))"; \
	if [ -z "$$missing" ]; then \
	  echo "test tools present: nc (OpenBSD), promtool, nft, nginx (with its stream module)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing || exit 1; \
	  case "$$missing" in *prometheus*) \
	    if command -v systemctl >/dev/null; then systemctl disable --now prometheus >/dev/null 2>&1; fi; \
	    if command -v service >/dev/null; then service prometheus stop >/dev/null 2>&1; fi; \
	    echo "prometheus installed for promtool only: its server is stopped and disabled";; \
	  esac; \
	  case "$$missing" in *nginx*) \
	    if command -v systemctl >/dev/null; then systemctl disable --now nginx >/dev/null 2>&1; fi; \
	    if command -v service >/dev/null; then service nginx stop >/dev/null 2>&1; fi; \
	    echo "nginx installed for the tests' own instances (make cluster LB=nginx): its service is stopped and disabled";; \
	  esac; \
	else \
	  echo "make test-tools: as root, run: apt-get install -y --no-install-recommends$$missing"; exit 1; \
	fi

clean:
	$(MVN) clean

# A local cluster on loopback (src/main/scripts/cluster.sh, docs/cluster.md): the database as a process of its own
# (`java -jar ... db`, the embedded MariaDB alone), one `http` member (FRONTS=N: N of them, front-1 ...) and two `worker`
# members, in the background, every port picked free (HTTP, TCP, bridge, Hazelcast, event bus, MariaDB) and a cluster
# name of its own, so that it never meets another cluster on this host; LB=nginx puts Debian's nginx in front of the
# fronts (HTTP, SockJS, and the TCP line protocol and the bridge through its stream module). It prints where each
# listens and writes it to run/cluster.env. Logs, PIDs and each member's record under run/; `make cluster-stop` stops
# exactly those PIDs, the members first and the database last. `make cluster-upgrade JAR=...` replaces every member
# with that jar, one at a time, waiting for the cluster to be safe between steps; the same with the old jar rolls back.
# JAR= on the command line starts the cluster from that jar (an earlier release's: make release-jar) instead of this build.
FRONTS ?= 1
LB ?=
# Event-bus TLS with mutual authentication: the cluster's CA and member certificates (git-ignored, under run/)
CERTS_DIR ?= run/certs
# the members' cluster addresses: one certificate each, with the address as its IP SAN
CLUSTER_CERT_ADDRS ?= 127.0.0.1
CLUSTER_ENV = FRONTS="$(FRONTS)" LB="$(LB)" ARGS="$(ARGS)" CERTS_DIR="$(CERTS_DIR)" JAR="$(JAR)"

cluster-certs:
	src/main/scripts/cluster-certs.sh $(CERTS_DIR) $(CLUSTER_CERT_ADDRS)

cluster: $(if $(filter command line,$(origin JAR)),,$(JAR))
	@$(CLUSTER_ENV) src/main/scripts/cluster.sh start

# every member replaced by JAR (default: this build), one at a time; JAR= an earlier release's jar rolls back
cluster-upgrade:
	@$(CLUSTER_ENV) src/main/scripts/cluster.sh upgrade "$(JAR)"

# the members first (each leaves gracefully: SIGTERM, waited for), then nginx, the database last
cluster-stop:
	@src/main/scripts/cluster.sh stop

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
# background, scraping the members of `make cluster` (run/cluster.env: the fronts' HTTP ports, the workers' ops ports)
# with the rules of conf/prometheus/ loaded. Data, log and PID under run/prometheus/.
PROMETHEUS_PORT ?= 9090

prometheus:
	@command -v prometheus >/dev/null || { echo "prometheus is not installed (make test-tools, as root, installs it)"; exit 1; }
	@[ -f run/cluster.env ] || { echo "no run/cluster.env: start the cluster first (make cluster)"; exit 1; }
	@[ -f run/prometheus/prometheus.pid ] && kill -0 "$$(cat run/prometheus/prometheus.pid)" 2>/dev/null \
	  && { echo "Prometheus is running already; make prometheus-stop first"; exit 1; }; true
	@mkdir -p run/prometheus
	@. ./run/cluster.env; workers=""; for port in $$(sed -n "s/^WORKER_[0-9]*_OPS_PORT=//p" run/cluster.env); do \
	    workers="$$workers'127.0.0.1:$$port', "; done; fronts=""; for port in $$FRONT_HTTP_PORTS; do \
	    fronts="$$fronts'127.0.0.1:$$port', "; done; \
	  { echo "global: {scrape_interval: 5s, evaluation_interval: 5s}"; \
	    echo "rule_files: ['$(CURDIR)/conf/prometheus/fib-service.rules.yml']"; \
	    echo "scrape_configs:"; \
	    echo "  - {job_name: fib-front, static_configs: [{targets: [$$fronts]}]}"; \
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
