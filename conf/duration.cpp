// Units in config values: parse_duration ("250ms", "1.5s") and parse_size ("64MB"). Strict on
// purpose — no spaces, case-sensitive units as in PostgreSQL — so a typo is an error rather
// than a surprising value. Overflow is malformed, never wrapped.
#include <array>
#include <cstdint>
#include <limits>

#include "conf/config.hpp"

namespace pgr::conf {

namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Longest suffix first: "ms" must win over "m" when matching the end of the text.
constexpr std::array<Unit, 4> k_duration_units{
    {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}}};

constexpr std::array<Unit, 5> k_size_units{
    {{"kB", 1ULL << 10}, {"MB", 1ULL << 20}, {"GB", 1ULL << 30}, {"TB", 1ULL << 40}, {"B", 1}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits only (at least one); nullopt on overflow.
std::optional<std::uint64_t> parse_digits(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    if (__builtin_mul_overflow(value, 10U, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(c - '0'), &value)) {
      return std::nullopt;
    }
  }
  return value;
}

// Splits "1.5s" into the number and the unit it ends with.
template <std::size_t N>
const Unit* split_unit(std::string_view text, const std::array<Unit, N>& units,
                       std::string_view& number) {
  for (const auto& unit : units) {
    if (text.size() > unit.suffix.size() && text.ends_with(unit.suffix)) {
      number = text.substr(0, text.size() - unit.suffix.size());
      return &unit;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view number;
  const Unit* unit = split_unit(text, k_duration_units, number);
  if (unit == nullptr) return std::nullopt;

  const auto dot = number.find('.');
  const auto whole = parse_digits(number.substr(0, dot));
  if (!whole) return std::nullopt;
  std::uint64_t ms = 0;
  if (__builtin_mul_overflow(*whole, unit->factor, &ms)) return std::nullopt;

  if (dot != std::string_view::npos) {
    std::string_view fraction = number.substr(dot + 1);
    if (fraction.empty() || !parse_digits(fraction)) return std::nullopt;
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    // Beyond 9 significant decimals no unit here gives a whole millisecond.
    if (fraction.size() > 9) return std::nullopt;
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i < fraction.size(); ++i) scale *= 10;
    const std::uint64_t part = (fraction.empty() ? 0 : *parse_digits(fraction)) * unit->factor;
    if (part % scale != 0) return std::nullopt;  // "1.5ms": finer than the clock we keep
    if (__builtin_add_overflow(ms, part / scale, &ms)) return std::nullopt;
  }
  if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max())) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::string_view number = text;
  std::uint64_t factor = 1;
  if (const Unit* unit = split_unit(text, k_size_units, number)) factor = unit->factor;
  const auto value = parse_digits(number);
  if (!value) return std::nullopt;
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(*value, factor, &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace pgr::conf
