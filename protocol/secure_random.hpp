// Unpredictable bytes for secrets: SCRAM nonces, cancel keys, salts, seeds. They come from
// OpenSSL's CSPRNG, drawn a block at a time into a reserve per thread. Each RAND_bytes call
// in OpenSSL 3 costs a DRBG generate (an AES re-key) and a lookup of the thread's generator;
// a pooled login makes three small draws, and they were 5.6 % of pgrouter's CPU on
// `pgbench -C`. Bytes handed out are wiped from the reserve, so a secret lives only with
// its owner.
//
// Thread rules: none; each thread draws from its own reserve.
#pragma once

#include <cstdint>
#include <span>

namespace pgr::protocol {

// Fills `out`. Aborts if OpenSSL's generator fails, which OpenSSL 3 rules out on Linux once
// seeded: going on with predictable keys would let anyone cancel others' queries.
void secure_random(std::span<std::uint8_t> out);

template <typename T>
T secure_random_value() {
  T value{};
  secure_random(std::span(reinterpret_cast<std::uint8_t*>(&value), sizeof value));
  return value;
}

}  // namespace pgr::protocol
