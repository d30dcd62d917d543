# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run test clean

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
