# classhub: `make run` opens the app, `make test` runs every test. Both
# install what they need first (Debian packages, the notebook image).

GO        ?= go
BIN       := bin/classhub
# IMAGE is the notebook image `make run` serves, the default one
# (config.DefaultImage): IMAGE_PROFILE's, JupyterLab 4 and the scientific
# stack, which e2e/lab_test.go drives.
IMAGE     ?= classhub/notebook:latest
IMAGE_PROFILE ?= scipy
# CLASSIC_IMAGE is the classic profile's image (Notebook 6 with
# jupyterhub-singleuser 3.0), which the Docker tests, the browser walks of
# the classic UI and the benchmark (against Debian's JupyterHub 3.0, whose
# singleuser it matches) run.
CLASSIC_IMAGE ?= classhub/notebook:classic
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# STATICCHECK is the staticcheck release `make check` runs, fetched through
# the Go module proxy like any module.
STATICCHECK ?= v0.8.2
LDFLAGS   := -X github.com/classhub/classhub/cli.Version=$(VERSION)
# Fyne logs a locale error for C locales; the app and tests run in English.
export LANG := en_US.UTF-8

.PHONY: run test build image images classic-image deps check unit app-test docker-test serve clean windows

# NOGUI is classhub without the desktop (no cgo): it builds in seconds, so
# the notebook images build with it while the desktop app compiles (-j2).
NOGUI := bin/classhub-nogui
PARALLEL := $(MAKE) --no-print-directory -j2 --output-sync=line

run: deps
	@$(PARALLEL) build image
	$(BIN)

serve: deps
	@$(PARALLEL) build image
	$(BIN) serve

build: $(BIN)

$(NOGUI): FORCE
	CGO_ENABLED=0 $(GO) build -tags ci -ldflags "$(LDFLAGS)" -o $(NOGUI) .

$(BIN): deps-build FORCE
	CGO_ENABLED=1 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

.PHONY: FORCE deps-build
FORCE:
deps-build:
	@scripts/deps.sh build

deps:
	@scripts/deps.sh build image test

# windows cross-builds the Windows desktop app with Debian's mingw-w64
# toolchain, so that the Windows build cannot rot unseen: cgo and Fyne's
# real GL driver, linked as a GUI program (-H windowsgui: no console window
# behind the tray), with FyneApp.toml's icon and version in a resource
# object (.syso) that the Go linker takes from the main package's folder.
# e2e/windows_test.go reads the result's PE header.
WINDOWS_BIN := bin/classhub.exe
# WINRES is the go-winres release that makes the .syso, fetched through
# the Go module proxy like staticcheck.
WINRES      ?= v0.3.3
WINDOWS_CC  ?= x86_64-w64-mingw32-gcc
APP_VERSION  = $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
APP_BUILD    = $(shell sed -n 's/^ *Build *= *\([0-9]*\)/\1/p' FyneApp.toml)

windows: $(WINDOWS_BIN)

$(WINDOWS_BIN): deps-windows FORCE
	$(GO) run github.com/tc-hib/go-winres@$(WINRES) simply --arch amd64 --out rsrc \
	  --manifest gui --icon assets/icon.png --product-name classhub \
	  --file-description "classhub: Jupyter notebooks for a class" --original-filename classhub.exe \
	  --product-version $(APP_VERSION) --file-version $(APP_VERSION).$(APP_BUILD)
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$(WINDOWS_CC) \
	  $(GO) build -ldflags "$(LDFLAGS) -H windowsgui" -o $(WINDOWS_BIN) .

.PHONY: deps-windows
deps-windows:
	@scripts/deps.sh windows

# image builds the image `make run` serves and classic-image the classic
# one, each only when the engine lacks it, or holds under its name an image
# classhub built with another profile (the default tag held the classic
# image before classhub made Lab the default); images builds both, for the
# tests.
image: $(NOGUI)
	@$(call build-image,$(IMAGE),$(IMAGE_PROFILE))

classic-image: $(NOGUI)
	@$(call build-image,$(CLASSIC_IMAGE),classic)

images: image classic-image

# build-image builds image $(1) with profile $(2) unless the engine holds
# it: one classhub built with that profile, or one it did not build (no
# profile label), which is someone's own and never overwritten.
define build-image
p=$$(docker image inspect -f '{{with .Config.Labels}}{{index . "org.classhub.image-profile"}}{{end}}' $(1) 2>/dev/null) && \
	{ [ -z "$$p" ] || [ "$$p" = "$(2)" ]; } || $(NOGUI) image build --profile $(2) --tag $(1)
endef

# test runs what needs neither the engine nor the images (check, app-test)
# beside the image builds, which on a fresh machine mostly wait on Debian's
# packages, and then what needs them.
test: deps
	@$(PARALLEL) build images windows check app-test
	@$(MAKE) --no-print-directory unit bench-quick
	@echo "make test: all passed"

check:
	@echo "== go vet"
	CGO_ENABLED=0 $(GO) vet -tags ci ./...
	@echo "== gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "== the hub, CLI and learner's client build for Windows and macOS (the desktop's cgo build for Windows is make windows)"
	for os in windows darwin; do CGO_ENABLED=0 GOOS=$$os $(GO) build ./hub/... ./cli/... ./classclient/... ./internal/... || exit 1; done
	@echo "== staticcheck"
	CGO_ENABLED=0 $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) -tags ci ./...

# unit runs the hub's tests with the race detector and everything else
# plainly, the two side by side (each mostly waits on the engine and the
# browser); Docker tests run against the real engine and fail, not skip,
# under CI=true. Both sets have swarm tests, so with-swarm.sh gives them one
# swarm, made and left around both, which neither then leaves under the
# other.
unit:
	@scripts/with-swarm.sh $(PARALLEL) unit-hub unit-rest

.PHONY: unit-hub unit-rest
unit-hub:
	@echo "== hub tests (-race)"
	$(GO) test -race -count=1 -timeout 25m ./hub/...

unit-rest:
	@echo "== cli, learner's client, internal and binary tests"
	CLASSHUB_BIN=$(CURDIR)/$(BIN) CLASSHUB_WINDOWS_BIN=$(CURDIR)/$(WINDOWS_BIN) \
	  $(GO) test -count=1 -timeout 20m ./cli/... ./classclient/... ./internal/... ./assets/... ./e2e/...

# app-test runs the Fyne UI tests headless with the software test driver.
# The real binary's tray and dashboard are tested under Xvfb by
# e2e/app_test.go, in unit.
app-test:
	@echo "== app tests (headless, -tags ci)"
	CGO_ENABLED=0 $(GO) test -tags ci -count=1 ./app/...

# screenshot writes docs/screenshot.png: the real app's dashboard under
# Xvfb, taken by the tray smoke test once its "Open my notebook" started a
# server in the real engine.
.PHONY: screenshot
screenshot: deps build classic-image
	@mkdir -p docs
	CI=true CLASSHUB_BIN=$(CURDIR)/$(BIN) CLASSHUB_SCREENSHOT=$(CURDIR)/docs/screenshot.png \
	  $(GO) test -count=1 -run '^TestTrayOpensMyNotebook$$' ./e2e/

# clean removes the build and anything a crashed test left in the engine
# (tests label what they make with role "test"); users' servers stay.
clean:
	rm -rf bin
	docker ps -aq --filter label=org.classhub.role=test | xargs -r docker rm -f
	docker volume ls -q --filter label=org.classhub.role=test | xargs -r docker volume rm
	docker network ls -q --filter label=org.classhub.role=test | xargs -r docker network rm

# bench measures classhub against the floor (the same notebook server with
# nothing in between) and against JupyterHub's own proxy and hub, and
# writes bench/results/DATE-HOST.md and .json; bench-quick is the same in
# a minute or two, for CI, and writes under bin/ so `make test` leaves the
# working tree as it found it. Both need the notebook image and build a
# CLI-only classhub (no cgo, no desktop headers).
.PHONY: bench bench-quick bench-bins
BENCH_CLASSHUB := $(NOGUI)
BENCH_FLAGS    ?=

bench: bench-bins
	bin/classhub-bench --classhub $(BENCH_CLASSHUB) --image $(CLASSIC_IMAGE) --out bench/results $(BENCH_FLAGS)

bench-quick: bench-bins
	$(GO) test -count=1 ./bench/...
	bin/classhub-bench --quick --classhub $(BENCH_CLASSHUB) --image $(CLASSIC_IMAGE) --out bin/bench-quick $(BENCH_FLAGS)

bench-bins: $(NOGUI)
	@scripts/deps.sh bench
	$(GO) build -o bin/classhub-bench ./bench/cmd/classhub-bench
	@docker image inspect $(CLASSIC_IMAGE) >/dev/null 2>&1 || { scripts/deps.sh image && $(BENCH_CLASSHUB) image build --profile classic --tag $(CLASSIC_IMAGE); }
