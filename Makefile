# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run test clean browser test-tools cluster cluster-certs cluster-await cluster-stop bench

build: $(JAR)

# `clean` first: re-shading over an old jar fails with "overlapping classes"
$(JAR): $(SOURCES)
	$(MVN) clean package -DskipTests

run: $(JAR)
	java -jar $(JAR) $(ARGS)

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

# A local cluster on loopback: one `http` member (HTTP 8080, TCP 25000, bridge 7000) and two `worker`
# members, in the background; logs and PIDs under run/. `make cluster-stop` stops exactly those PIDs.
CLUSTER_WORKERS := worker-1 worker-2
# workers share the http member's embedded MariaDB (127.0.0.1:3306), so that they run the background jobs;
# they read its password from the file it keeps in its data directory (owner-only: same user, same checkout)
WORKER_ARGS := --set mysql.host=127.0.0.1 --set mysql.port=3306 --set mysql.passwordFile=data/mariadb/fib-service-password
# Event-bus TLS with mutual authentication: the cluster's CA and member certificates (git-ignored, under run/)
CERTS_DIR ?= run/certs
# the members' cluster addresses: one certificate each, with the address as its IP SAN
CLUSTER_CERT_ADDRS ?= 127.0.0.1
CLUSTER_TLS := --set cluster.tls.cert=$(CERTS_DIR)/member-127.0.0.1.pem \
  --set cluster.tls.key=$(CERTS_DIR)/member-127.0.0.1-key.pem --set cluster.tls.ca=$(CERTS_DIR)/ca.pem

cluster-certs:
	src/main/scripts/cluster-certs.sh $(CERTS_DIR) $(CLUSTER_CERT_ADDRS)

cluster: $(JAR)
	@mkdir -p run
	@[ -f $(CERTS_DIR)/ca.pem ] && [ -f $(CERTS_DIR)/member-127.0.0.1.pem ] && [ -f $(CERTS_DIR)/member-127.0.0.1-key.pem ] \
	  || $(MAKE) --no-print-directory cluster-certs CLUSTER_CERT_ADDRS=127.0.0.1
	@for f in run/*.pid; do [ -f "$$f" ] && kill -0 "$$(cat $$f)" 2>/dev/null \
	  && { echo "a cluster member is still running ($$f); run 'make cluster-stop' first"; exit 1; }; done; true
	nohup java -jar $(JAR) --cluster --role http --bridge-port 7000 $(CLUSTER_TLS) $(ARGS) > run/http.log 2>&1 & echo $$! > run/http.pid
	@$(MAKE) --no-print-directory cluster-await MEMBER=http
	@for w in $(CLUSTER_WORKERS); do \
	  echo "nohup java -jar $(JAR) --cluster --role worker $(WORKER_ARGS) $(CLUSTER_TLS) $(ARGS) > run/$$w.log 2>&1 &"; \
	  nohup java -jar $(JAR) --cluster --role worker $(WORKER_ARGS) $(CLUSTER_TLS) $(ARGS) > run/$$w.log 2>&1 & echo $$! > run/$$w.pid; \
	done
	@for w in $(CLUSTER_WORKERS); do $(MAKE) --no-print-directory cluster-await MEMBER=$$w; done
	@# the front sends requests to a worker once it answered its ping over the event bus (at most 30 s here)
	@for i in $$(seq 300); do curl -s localhost:8080/info 2>/dev/null | grep -q '"reachable":false' || break; sleep 0.1; done
	@curl -s localhost:8080/info 2>/dev/null | head -c 2000; echo

# waits (at most 90 s) for run/$(MEMBER).log to say ready
cluster-await:
	@for i in $$(seq 900); do grep -q " ready: " run/$(MEMBER).log 2>/dev/null && { grep -h " ready: " run/$(MEMBER).log | sed 's/.* - //'; exit 0; }; \
	  kill -0 "$$(cat run/$(MEMBER).pid)" 2>/dev/null || { echo "$(MEMBER) exited; see run/$(MEMBER).log"; exit 1; }; sleep 0.1; done; \
	  echo "$(MEMBER) not ready after 90 s; see run/$(MEMBER).log"; exit 1

cluster-stop:
	@for f in run/*.pid; do [ -f "$$f" ] || continue; pid=$$(cat $$f); \
	  if kill -0 $$pid 2>/dev/null; then echo "stopping $$f (pid $$pid)"; kill -TERM $$pid; fi; done; \
	for f in run/*.pid; do [ -f "$$f" ] || continue; pid=$$(cat $$f); \
	  for i in $$(seq 300); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; rm -f $$f; done

# Benchmark suite (src/bench/java, built with the bench profile): fresh service, nginx and wrk where installed,
# results in bench/results/.
# ARGS="hello tcp" runs a subset; BENCH_NO_INSTALL=1 skips the apt install of the peers;
# BENCH_OPTS="-Dbench.seconds=10 -Dbench.rounds=5" measures longer (defaults: 6 s, 3 rounds).
BENCH_CP := target/bench.classpath

bench: $(JAR)
	bench/install-peers.sh
	$(MVN) -q -Pbench test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(BENCH_CP)
	java $(BENCH_OPTS) -cp target/test-classes:target/classes:$$(cat $(BENCH_CP)) dev.fibservice.bench.BenchSuite $(ARGS)
