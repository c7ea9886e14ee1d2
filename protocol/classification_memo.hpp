// Remembered classifications of SQL texts that come again. An application sends the same few
// statement texts over and over (every extended-protocol Parse of a query carries its text, and
// pgrouter looks at that text twice per unit: for the route and for the statement record); a
// full lexer pass each time was 9 % of pgrouter's CPU on a select-only `pgbench -M extended`.
//
// Bounded and cheap on texts seen once (simple-protocol queries with literals in them): a text
// is remembered only the second time it is seen within a window of recent hashes, texts over
// k_max_sql bytes never, and each slot holds one text (a newer one replaces it). A hit is
// checked against the whole text, so it is exactly what classify_sql would say. The write
// functions are part of the key: a call with a different list forgets what was remembered.
//
// Thread rules: none of its own; one per worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/statement_classifier.hpp"

namespace pgr::protocol {

class ClassificationMemo {
 public:
  static constexpr std::size_t k_max_sql = 4096;

  explicit ClassificationMemo(std::size_t slots = 512);

  // classify_sql(sql, options); prepared_name views into `sql`, as there.
  Classification classify(std::string_view sql, const ClassifierOptions& options);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::uint64_t options_generation = 0;
    std::string sql;  // empty: a free slot
    Classification facts;         // prepared_name left empty: it is rebuilt from the two below
    std::size_t name_offset = 0;  // where prepared_name starts in the text
    std::size_t name_size = 0;
  };

  void adopt_options(const ClassifierOptions& options);

  std::vector<Entry> entries_;
  std::vector<std::uint64_t> seen_;  // hashes of texts seen once, by slot
  std::vector<std::string> write_functions_;  // the options the entries were made with
  std::uint64_t options_generation_ = 1;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace pgr::protocol
