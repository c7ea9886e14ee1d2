// The key reference as Markdown, generated from the key table so docs/CONFIG.md cannot drift
// from the code (a unit test compares the two).
#include <array>

#include "conf/config_keys.hpp"

namespace pgr::conf {

namespace {

// A table cell: `|` would end the cell early.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// Built with append() rather than "literal" + std::string: GCC 12 at -O3 reports a false
// -Wrestrict inside libstdc++ for the latter (GCC bug 105329).
std::string section_heading(Section section) {
  const bool array = section == Section::backends;
  std::string out(array ? "[[" : "[");
  out.append(to_string(section));
  out.append(array ? "]]" : "]");
  return out;
}

std::string default_cell(const KeyDef& key) {
  if (key.required) return "required";
  if (key.default_value.empty()) return "(none)";
  std::string out("`");
  out.append(cell(key.default_value));
  out.append("`");
  return out;
}

}  // namespace

std::string config_reference_markdown() {
  static constexpr std::array k_order{Section::proxy,        Section::auth,
                                      Section::health_check, Section::load_balance,
                                      Section::pool,         Section::failover,
                                      Section::admin,
                                      Section::tls,          Section::backends};
  std::string out;
  for (const auto section : k_order) {
    if (!out.empty()) out += "\n";
    out += "### " + section_heading(section) + "\n\n";
    out += "| Key | Type | Default | Meaning |\n";
    out += "|-----|------|---------|---------|\n";
    for (const auto& key : config_keys()) {
      if (key.section != section) continue;
      out += "| `" + std::string(key.name) + "` | " + std::string(to_string(key.type)) + " | " +
             default_cell(key) + " | " + cell(key.doc) + " |\n";
    }
  }
  return out;
}

}  // namespace pgr::conf
