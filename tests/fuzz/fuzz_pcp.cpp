// Fuzzes the PCP decoder (admin/pcp_codec): the frame reader fed the input in two pieces at a
// fuzzed cut must give the same frames (or the same error) as fed whole, never a frame longer
// than the limit; every frame's payload goes through the request parsers, and whatever they
// accept must be in range.
#include <string>
#include <string_view>
#include <vector>

#include "admin/pcp_codec.hpp"
#include "fuzz_support.hpp"

namespace {
using namespace pgr::admin::pcp;
using pgr::fuzz::check;

struct Outcome {
  std::vector<Frame> frames;
  std::string error;
};

Outcome read_all(std::string_view first, std::string_view second) {
  Outcome out;
  FrameReader reader;
  for (const auto piece : {first, second}) {
    reader.append(piece);
    for (;;) {
      auto r = reader.next();
      if (!r.error.empty()) {
        out.error = r.error;
        return out;
      }
      if (!r.frame) break;
      out.frames.push_back(std::move(*r.frame));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  const auto whole = read_all(input, {});
  const auto split = read_all(input.substr(0, cut), input.substr(cut));
  check(whole.error == split.error && whole.frames.size() == split.frames.size());
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    const auto& f = whole.frames[i];
    check(f.type == split.frames[i].type && f.payload == split.frames[i].payload);
    check(f.payload.size() + 4 <= k_max_packet);
    if (const auto id = parse_node_id(f.payload)) check(*id > -1000000 && *id < 1000000);
    if (const auto p = parse_promote(f.payload)) check(p->node >= 0);
    if (const auto a = parse_auth(f.payload)) check(!a->user.empty() && a->hash.size() == 32);
  }
  return 0;
}
