# skywatch: `make test` installs the test servers the suite needs (pinned versions,
# into ./.tools) and runs every test. `make build` builds the binary.
GOPROXY ?= https://proxy.golang.org
export GOPROXY
TOOLS := $(CURDIR)/.tools/bin
VICTORIALOGS_VERSION := v1.52.1

.PHONY: test build tools lint

test: tools
	SKYWATCH_VICTORIALOGS=$(TOOLS)/victoria-logs go test ./...

build:
	go build -o skywatch ./cmd/skywatch

# VictoriaLogs speaks the Elasticsearch _bulk protocol: the opensearch output's
# tests run against it on 127.0.0.1.
tools: $(TOOLS)/victoria-logs

$(TOOLS)/victoria-logs:
	GOBIN=$(TOOLS) go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
