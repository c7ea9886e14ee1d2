// bench/classify: nanoseconds per query of the read/write classifier, as a worker runs it
// (through its ClassificationMemo), on the texts pgbench and typical applications send. Built
// and run by bench/classify against the Release build's protocol library.
//
// A select with a new literal each time misses the memo (pgbench -M simple); the same text
// sent again hits it (an extended-protocol Parse). Each row is the median of 7 runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "protocol/classification_memo.hpp"
#include "protocol/statement_classifier.hpp"

namespace {

using pgr::protocol::ClassificationMemo;
using pgr::protocol::ClassifierOptions;

struct Row {
  const char* name;
  std::vector<std::string> texts;  // sent in turn, round and round
};

// `count` variants of `head` + number + `tail`, numbers spread as pgbench's are.
std::vector<std::string> with_literals(const std::string& head, const std::string& tail, int count) {
  std::vector<std::string> out;
  unsigned x = 12345;
  for (int i = 0; i < count; ++i) {
    x = x * 1103515245u + 12345u;
    out.push_back(head + std::to_string(x % 1'000'000) + tail);
  }
  return out;
}

double ns_per_query(const Row& row, int queries) {
  std::vector<double> runs;
  for (int run = 0; run < 7; ++run) {
    ClassificationMemo memo;
    const ClassifierOptions options;
    int sink = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < queries; ++i) {
      const auto& text = row.texts[static_cast<std::size_t>(i) % row.texts.size()];
      sink += static_cast<int>(memo.classify(text, options).route);
    }
    const auto stop = std::chrono::steady_clock::now();
    if (sink == -1) std::puts("");  // keeps the loop from being optimised away
    runs.push_back(std::chrono::duration<double, std::nano>(stop - start).count() / queries);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main() {
  const int k_texts = 100'000;  // more than the memo's slots: literals never come back
  const std::vector<Row> rows = {
      {"pgbench select, new literal (memo miss)",
       with_literals("SELECT abalance FROM pgbench_accounts WHERE aid = ", ";", k_texts)},
      {"pgbench select, same text (memo hit)", {"SELECT abalance FROM pgbench_accounts WHERE aid = $1;"}},
      {"pgbench TPC-B update, new literal",
       with_literals("UPDATE pgbench_accounts SET abalance = abalance + -4321 WHERE aid = ", ";", k_texts)},
      {"join with a function call, new literal",
       with_literals("SELECT o.id, c.name, lower(c.email) FROM orders o JOIN customers c ON c.id = o.customer_id "
                     "WHERE o.created_at > now() - interval '1 day' AND o.id > ",
                     " ORDER BY o.id LIMIT 50", k_texts)},
      {"CTE with an INSERT, same text",
       {"WITH moved AS (DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT 10 FOR UPDATE "
        "SKIP LOCKED) RETURNING *) INSERT INTO done SELECT * FROM moved"}},
  };
  std::printf("| text | ns per query |\n|---|---:|\n");
  for (const auto& row : rows) std::printf("| %s | %.0f |\n", row.name, ns_per_query(row, 400'000));
  return 0;
}
