# syntax=docker/dockerfile:1
#
# authsvc image: a static binary on distroless, running as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t authsvc .
#
# No secret is baked in: configuration comes from the environment at run
# time (see configs/authsvc.env.example), the credentials file from a
# read-only mount. The binary writes nothing to disk, so the container runs
# with a read-only root filesystem.

# ---- build -------------------------------------------------------------------
ARG GO_VERSION=1.26.8
FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src

# Dependencies first, in a layer of their own: it is rebuilt only when
# go.mod or go.sum change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY cmd ./cmd
COPY internal ./internal
COPY dpop ./dpop

# A static binary (no cgo, so no libc to match), without local paths
# (-trimpath), stripped (-s -w), stamped with the version.
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/authsvc ./cmd/authsvc

# ---- run ---------------------------------------------------------------------
# static: CA certificates, tzdata and /etc/passwd, no shell, no package
# manager. The :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=dev
LABEL org.opencontainers.image.title="authsvc" \
      org.opencontainers.image.description="A small, strict OAuth 2.0 token service" \
      org.opencontainers.image.version="${VERSION}"

COPY --from=build /out/authsvc /authsvc

USER 65532:65532
ENV HTTP_ADDR=:8080
EXPOSE 8080

# `authsvc healthcheck` asks the local /readyz (HTTP_ADDR, TLS when
# TLS_CERT_FILE is set) and exits 0 when ready: no curl needed.
HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 \
  CMD ["/authsvc", "healthcheck"]

# Exec form: authsvc is PID 1 and receives SIGTERM itself, finishes
# in-flight requests and exits 0 (no shell in between to swallow it).
ENTRYPOINT ["/authsvc"]
