# skywatch: `make test` installs the test servers the suite needs (pinned versions,
# into ./.tools) and runs every test. `make build` builds the binary.
GOPROXY ?= https://proxy.golang.org
export GOPROXY
TOOLS := $(CURDIR)/.tools/bin
VICTORIALOGS_VERSION := v1.52.1
AZURITE_VERSION := 3.37.0
AZURITE := $(CURDIR)/.tools/azurite/node_modules/.bin/azurite-blob

.PHONY: test build tools lint chromium

test: tools
	SKYWATCH_VICTORIALOGS=$(TOOLS)/victoria-logs SKYWATCH_AZURITE=$(AZURITE) go test ./...

build:
	go build -o skywatch ./cmd/skywatch

# VictoriaLogs speaks the Elasticsearch _bulk protocol: the opensearch output's
# tests run against it on 127.0.0.1.
tools: $(TOOLS)/victoria-logs $(AZURITE) chromium

$(TOOLS)/victoria-logs:
	GOBIN=$(TOOLS) go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)

# Azurite (npm) is the Blob Storage emulator the azure-blob source's tests start on
# 127.0.0.1 (with --skipApiVersionCheck: the SDK's API version is newer than
# Azurite's). It declares node >= 22; node 20 prints EBADENGINE warnings but runs it.
$(AZURITE):
	npm install --prefix $(CURDIR)/.tools/azurite --no-audit --no-fund --save-exact azurite@$(AZURITE_VERSION)

# Debian's chromium: the dashboard's browser tests (internal/dashboard) drive it
# with chromedp and never download a browser. As root it is installed with
# apt-get; otherwise those tests skip, and this says how to install it.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "chromium is missing: the dashboard's browser tests will be skipped. Install it with: sudo apt-get install -y chromium"; \
	  fi; }

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
