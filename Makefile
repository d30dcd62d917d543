# The README shows these same commands; CI runs `make test`.
MVN ?= mvn -B
JAR := target/fib-service.jar
SOURCES := pom.xml $(shell find src/main -type f 2>/dev/null)

.PHONY: build run test clean browser

build: $(JAR)

# `clean` first: re-shading over an old jar fails with "overlapping classes"
$(JAR): $(SOURCES)
	$(MVN) clean package -DskipTests

run: $(JAR)
	java -jar $(JAR) $(ARGS)

test:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  || echo "browser tests will be skipped: Chromium or ChromeDriver is not installed (make browser, as root, installs them)"
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

clean:
	$(MVN) clean
