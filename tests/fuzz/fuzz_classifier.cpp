// Fuzzes the read/write statement classifier on arbitrary bytes: it must never crash or read out
// of bounds, its answer must be self-consistent, a trailing `;` changes nothing, and a leading
// hint can force the primary but never move anything off it. The worker's memo of texts seen
// again (a few slots, so texts share them) answers exactly as the classifier does.
#include <array>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "protocol/classification_memo.hpp"
#include "protocol/statement_classifier.hpp"

namespace {
using namespace pgr::protocol;
using pgr::fuzz::check;

const std::array<std::string, 2> k_write_functions = {"fuzz_fn", "s.Fuzz_G"};

void check_consistent(std::string_view sql, const Classification& c) {
  check(!c.malformed || (c.route == Route::primary && c.kind == StatementKind::unknown));
  check(c.route != Route::standby_ok || c.kind == StatementKind::read);
  check((c.kind != StatementKind::write && c.kind != StatementKind::unknown) ||
        c.route == Route::primary);
  check(!c.hint_primary || c.route == Route::primary);
  check(c.statement_count <= sql.size());
  check(c.statement_count > 0 || c.kind == StatementKind::empty || c.malformed);
  check(c.prepared_name.empty() || (c.prepared_name.data() >= sql.data() &&
                                    c.prepared_name.data() + c.prepared_name.size() <=
                                        sql.data() + sql.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const ClassifierOptions options{k_write_functions};
  // The input as its own exactly-sized buffer, so ASan catches any read past its end.
  const std::string_view sql(reinterpret_cast<const char*>(bytes), size);
  const Classification c = classify_sql(sql, options);
  check_consistent(sql, c);

  const std::string trailing = std::string(sql) + " ;\n";
  check(classify_sql(trailing, options) == c);

  const std::string forced = "/*pgrouter:primary*/" + std::string(sql);
  const Classification f = classify_sql(forced, options);
  check(f.route == Route::primary && f.hint_primary);

  const Classification s = classify_sql("/*pgrouter:standby*/" + std::string(sql), options);
  check(s.route == c.route && s.kind == c.kind && s.hint_standby);

  static ClassificationMemo memo(4);
  for (int sighting = 0; sighting < 3; ++sighting) {
    const std::string copy(sql);  // another buffer each time, as each client message is
    const Classification m = memo.classify(copy, options);
    check(m == c);
    check_consistent(copy, m);
  }
  return 0;
}
