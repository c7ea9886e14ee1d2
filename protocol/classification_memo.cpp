// Remembered classifications (see classification_memo.hpp).
#include "protocol/classification_memo.hpp"

#include <algorithm>
#include <functional>

namespace pgr::protocol {

ClassificationMemo::ClassificationMemo(std::size_t slots)
    : entries_(std::max<std::size_t>(slots, 1)), seen_(std::max<std::size_t>(slots, 1) * 4, 0) {}

void ClassificationMemo::adopt_options(const ClassifierOptions& options) {
  if (std::equal(options.write_functions.begin(), options.write_functions.end(), write_functions_.begin(),
                 write_functions_.end())) {
    return;
  }
  write_functions_.assign(options.write_functions.begin(), options.write_functions.end());
  ++options_generation_;  // every entry made with the old list is now a miss
}

Classification ClassificationMemo::classify(std::string_view sql, const ClassifierOptions& options) {
  if (sql.size() > k_max_sql) return classify_sql(sql, options);
  adopt_options(options);
  // The zero hash marks a free "seen" slot: shift it off.
  const std::uint64_t hash = std::hash<std::string_view>{}(sql) | 1;
  auto& entry = entries_[hash % entries_.size()];
  if (entry.hash == hash && entry.options_generation == options_generation_ && entry.sql == sql) {
    ++hits_;
    Classification facts = entry.facts;
    facts.prepared_name = sql.substr(entry.name_offset, entry.name_size);
    return facts;
  }
  ++misses_;
  Classification facts = classify_sql(sql, options);
  auto& seen = seen_[hash % seen_.size()];
  if (seen != hash) {
    seen = hash;  // once: remember only that it came
    return facts;
  }
  entry.hash = hash;
  entry.options_generation = options_generation_;
  entry.sql.assign(sql);
  entry.facts = facts;
  entry.facts.prepared_name = {};  // it views into the caller's text
  entry.name_offset = facts.prepared_name.empty() ? 0 : static_cast<std::size_t>(facts.prepared_name.data() - sql.data());
  entry.name_size = facts.prepared_name.size();
  return facts;
}

}  // namespace pgr::protocol
