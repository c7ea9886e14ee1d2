# pgrouter in a container: built from Debian 12 packages with the same install script the
# README and CI use. Mount a config at /etc/pgrouter/pgrouter.toml.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPGR_TESTS=OFF \
 && ninja -C build pgrouter

FROM debian:12-slim
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends libssl3 libpq5 libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home pgrouter
COPY --from=build /src/build/proxy/pgrouter /usr/local/bin/pgrouter
USER pgrouter
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/pgrouter"]
CMD ["--config", "/etc/pgrouter/pgrouter.toml"]
