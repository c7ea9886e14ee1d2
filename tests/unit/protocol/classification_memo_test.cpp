// The classification memo says exactly what classify_sql says, whether it remembered the text
// or not: for every text, on first, second and later sightings, with the prepared name viewing
// into the caller's own text; with different write functions; with slots shared by texts.
#include "protocol/classification_memo.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pgr::protocol {
namespace {

const std::vector<std::string> k_texts = {
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
    "BEGIN",
    "COMMIT",
    "SET search_path = app",
    "PREPARE stmt_1 AS SELECT 1",
    "EXECUTE stmt_1",
    "DEALLOCATE \"Quoted Name\"",
    "INSERT INTO t VALUES (1)",
    "SELECT nextval('s')",
    "SELECT f(1)",
    "/*pgrouter:primary*/ SELECT 1",
    "SELECT 'unterminated",
    "",
};

// Copies of the text in a fresh buffer each call, as a client's message would be.
Classification via(ClassificationMemo& memo, const std::string& text, const ClassifierOptions& options = {}) {
  const std::string buffer = text;
  Classification c = memo.classify(buffer, options);
  if (!c.prepared_name.empty()) {
    EXPECT_GE(c.prepared_name.data(), buffer.data());
    EXPECT_LE(c.prepared_name.data() + c.prepared_name.size(), buffer.data() + buffer.size());
    c.prepared_name = {};  // compared by value below, after the buffer is gone
  }
  return c;
}

Classification direct(const std::string& text, const ClassifierOptions& options = {}) {
  Classification c = classify_sql(text, options);
  c.prepared_name = {};
  return c;
}

TEST(ClassificationMemo, SaysWhatTheClassifierSaysOnEverySighting) {
  ClassificationMemo memo;
  for (int round = 0; round < 4; ++round) {
    for (const auto& text : k_texts) EXPECT_EQ(via(memo, text), direct(text)) << text << " round " << round;
  }
  // Each text was classified twice (first sighting, then remembered), and found after that.
  EXPECT_EQ(memo.misses(), 2 * k_texts.size());
  EXPECT_EQ(memo.hits(), 2 * k_texts.size());
}

TEST(ClassificationMemo, GivesThePreparedNameOfTheCallersText) {
  ClassificationMemo memo;
  const std::string text = "PREPARE stmt_1 AS SELECT 1";
  for (int i = 0; i < 3; ++i) {
    const std::string buffer = "  " + text;  // another offset than the remembered one's
    const auto c = memo.classify(std::string_view(buffer).substr(2), {});
    EXPECT_EQ(c.prepared_name, "stmt_1");
    EXPECT_EQ(c.prepared_name.data(), buffer.data() + 2 + 8);
  }
}

TEST(ClassificationMemo, WriteFunctionsArePartOfTheKey) {
  ClassificationMemo memo;
  const std::vector<std::string> functions = {"f"};
  const ClassifierOptions with{functions};
  const std::string text = "SELECT f(1)";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(via(memo, text).kind, StatementKind::read);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(via(memo, text, with).kind, StatementKind::write);
  EXPECT_EQ(via(memo, text).kind, StatementKind::read);
}

TEST(ClassificationMemo, TextsSharingASlotStayApart) {
  ClassificationMemo memo(1);
  for (int round = 0; round < 5; ++round) {
    for (const auto& text : k_texts) EXPECT_EQ(via(memo, text), direct(text)) << text;
  }
}

TEST(ClassificationMemo, LongTextsAreClassifiedEveryTime) {
  ClassificationMemo memo;
  const std::string text = "SELECT " + std::string(ClassificationMemo::k_max_sql, '1');
  for (int i = 0; i < 3; ++i) EXPECT_EQ(via(memo, text), direct(text));
  EXPECT_EQ(memo.hits(), 0U);
}

}  // namespace
}  // namespace pgr::protocol
