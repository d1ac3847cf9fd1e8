# drbook for scheduled drills: a Kubernetes CronJob (deploy/kubernetes/) or any container
# runtime. docs/drills.md walks through it.
#
#   docker build -t drbook:dev .
#   docker run --rm drbook:dev validate /usr/share/drbook/runbooks/
#
# Layout of the image (deploy/kubernetes/ and tests/deploy.rs rely on it):
#   /usr/local/bin/drbook            the binary, built from this repository
#   /usr/share/drbook/runbooks/      the shipped runbooks (this repository's runbooks/)
#   /etc/drbook/                     targets and answers files (mounted: a ConfigMap)
#   /var/lib/drbook/                 state directory and work directory (mounted: emptyDir;
#                                    records go to the store, --store / $DRBOOK_STORE)
# It runs as the unprivileged user 65532 and needs no writable root filesystem.

# ---- build: drbook from this repository (rust-version in Cargo.toml is 1.89).
FROM rust:1.89-bookworm AS build
# protoc: etcd-client generates its gRPC code at build time.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin drbook \
 && install -m 0755 target/release/drbook /drbook

# ---- kubectl: the shipped runbooks' shell steps call it (Debian 12's kubernetes-client
# is 1.20, too old for the clusters drbook recovers). Pinned and checked against the
# release's published SHA-256.
FROM debian:12-slim AS kubectl
ARG KUBECTL_VERSION=v1.33.0
ARG TARGETARCH=amd64
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSLo /kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
 && curl -fsSLo /kubectl.sha256 "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256" \
 && echo "$(cat /kubectl.sha256)  /kubectl" | sha256sum --check \
 && chmod 0755 /kubectl

# ---- runtime: Debian 12 with the programs the actions run.
FROM debian:12-slim
# etcd-client: etcdctl for the etcd snapshot actions. restic, rclone: the backup-store
# actions. openssh-client: ssh for runbooks that reach nodes, ssh-keygen to check
# signatures. ca-certificates: TLS to S3 stores and API servers. tini: PID 1 that
# forwards the stop signal to drbook and reaps the steps' orphans.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates etcd-client restic rclone openssh-client tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 drbook \
 && useradd --uid 65532 --gid 65532 --home-dir /var/lib/drbook --no-create-home --shell /usr/sbin/nologin drbook \
 && mkdir -p /etc/drbook /var/lib/drbook \
 && chown 65532:65532 /var/lib/drbook
COPY --from=build /drbook /usr/local/bin/drbook
COPY --from=kubectl /kubectl /usr/local/bin/kubectl
COPY runbooks /usr/share/drbook/runbooks
ENV DRBOOK_STATE_DIR=/var/lib/drbook/state \
    HOME=/var/lib/drbook \
    XDG_CACHE_HOME=/var/lib/drbook/cache
WORKDIR /var/lib/drbook
USER 65532:65532
# Stopping the container (a Job's deadline, a deleted pod) sends SIGINT, drbook's
# Ctrl-C: without a terminal it pauses the run, stopping the running steps and
# recording the pause, so the record ends cleanly and is signed and stored. drbook does
# not handle SIGTERM, which would end it where it stands.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/drbook"]
CMD ["--help"]
