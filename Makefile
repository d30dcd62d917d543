# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run test clean bench

build: $(JAR)

# `clean` first: re-shading over an old jar fails with "overlapping classes"
$(JAR): $(SOURCES)
	$(MVN) clean package -DskipTests

run: $(JAR)
	java -jar $(JAR) $(ARGS)

test:
	$(MVN) clean verify

clean:
	$(MVN) clean

# Benchmark suite (issue 6): fresh service, nginx and wrk where installed, results in bench/results/.
# ARGS="hello tcp" runs a subset; BENCH_NO_INSTALL=1 skips the apt install of the peers;
# BENCH_OPTS="-Dbench.seconds=10 -Dbench.rounds=3" measures longer.
BENCH_CP := target/bench.classpath

bench: $(JAR)
	bench/install-peers.sh
	$(MVN) -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(BENCH_CP)
	java $(BENCH_OPTS) -cp target/test-classes:target/classes:$$(cat $(BENCH_CP)) dev.fibservice.bench.BenchSuite $(ARGS)
