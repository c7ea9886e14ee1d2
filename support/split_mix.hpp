// A small, fast pseudo-random generator (SplitMix64) for choices that need spread, not secrecy:
// a session's weighted pick among standbys. std::mt19937_64 carries 2.5 KB of state, which
// every one of 10,000 idle sessions would pay for; this carries 8 bytes.
//
// Thread rules: a value; one per session.
#pragma once

#include <cstdint>
#include <limits>

namespace pgr {

class SplitMix64 {
 public:
  using result_type = std::uint64_t;
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace pgr
