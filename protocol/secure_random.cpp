// Per-thread reserve of CSPRNG bytes (see secure_random.hpp).
#include "protocol/secure_random.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pgr::protocol {

namespace {

constexpr std::size_t k_reserve_bytes = 512;

void draw_or_abort(std::uint8_t* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::fputs("pgrouter: OpenSSL's random generator failed; refusing to make predictable secrets\n", stderr);
    std::abort();
  }
}

struct Reserve {
  std::array<std::uint8_t, k_reserve_bytes> bytes{};
  std::size_t next = k_reserve_bytes;  // everything before `next` was handed out and wiped
  Reserve() = default;
  Reserve(const Reserve&) = delete;
  Reserve& operator=(const Reserve&) = delete;
  ~Reserve() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

thread_local Reserve t_reserve;

}  // namespace

void secure_random(std::span<std::uint8_t> out) {
  if (out.empty()) return;  // an empty span's data() may be null, which memcpy must not get
  // Big draws (keys of a whole certificate, say) gain nothing from the reserve.
  if (out.size() > k_reserve_bytes / 4) return draw_or_abort(out.data(), out.size());
  auto& reserve = t_reserve;
  if (k_reserve_bytes - reserve.next < out.size()) {
    draw_or_abort(reserve.bytes.data(), reserve.bytes.size());
    reserve.next = 0;
  }
  std::uint8_t* from = reserve.bytes.data() + reserve.next;
  std::memcpy(out.data(), from, out.size());
  OPENSSL_cleanse(from, out.size());
  reserve.next += out.size();
}

}  // namespace pgr::protocol
