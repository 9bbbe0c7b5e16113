# Portvakt's container image: the static binary on an empty (scratch) base.
#
# Built from what `make release` made, so the image needs no registry and
# no Go toolchain, and an OCI builder from Debian's packages builds it:
#
#   make release
#   buildah bud --isolation chroot --build-arg TARGETARCH=amd64 -t portvakt:$(git describe --always) .
#   (or: podman build --build-arg TARGETARCH=amd64 -t portvakt .)
#
# The image runs as an unprivileged user (65532), keeps SQLite and its key
# in the volume /var/lib/portvakt, listens on 0.0.0.0:8080 and checks
# itself with `portvakt healthcheck` (/readyz). Secrets come from files:
# PORTVAKT_SECRETS_KEY_FILE=/run/secrets/portvakt_key, and so on.
FROM scratch
ARG TARGETARCH=amd64
COPY dist/portvakt-linux-${TARGETARCH} /portvakt
# CA certificates for SMTP over TLS, SMS gateways and upstream identity
# providers: the build machine's bundle, which make release copies.
COPY dist/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 deploy/image/.keep /var/lib/portvakt/.keep
COPY --chown=65532:65532 deploy/image/.keep /tmp/.keep
USER 65532:65532
ENV PORTVAKT_LISTEN=0.0.0.0:8080 \
    PORTVAKT_DATABASE_DSN=/var/lib/portvakt/portvakt.db \
    PORTVAKT_LOG_FORMAT=json
VOLUME /var/lib/portvakt
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["/portvakt", "healthcheck"]
ENTRYPOINT ["/portvakt"]
CMD ["serve"]
