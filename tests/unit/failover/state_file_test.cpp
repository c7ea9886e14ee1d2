// The failover state file: its exact text, round trips, corrupt files rejected with the line,
// and the atomic write / read / load on a real directory.
#include "failover/state_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

PersistedState sample() {
  PersistedState s;
  s.system_identifier = 7310815242871858913u;
  s.primary = "node1";
  s.timeline = 3;
  s.nodes = {
      {"node0", "10.0.0.1", 5432, AttachState::fenced, "primary failed; node1 promoted",
       1732240000},
      {"node1", "10.0.0.2", 5432, AttachState::attached, "", 1732240001},
      {"node2", "/var/run/postgresql", 5433, AttachState::diverged,
       "on timeline 2 at 0/5000100, past the switch point 0/5000060", 1732240002},
      {"node3", "::1", 5434, AttachState::following, "", 1732240003},
      {"node4", "db 4", 5435, AttachState::detached, "maintenance", 0},
  };
  return s;
}

TEST(StateFile, SerializedText) {
  PersistedState s;
  s.system_identifier = 42;
  s.primary = "a";
  s.timeline = 2;
  s.nodes = {{"a", "h", 5432, AttachState::attached, "", 10},
             {"b", "h2", 1, AttachState::fenced, "say \"no\"\n\\\t\x01", -5}};
  EXPECT_EQ(serialize_state(s),
            "# pgrouter failover state: rewritten whole by pgrouter; edit only while it is "
            "stopped.\n"
            "format 1\n"
            "system_identifier 42\n"
            "primary \"a\"\n"
            "timeline 2\n"
            "node name=\"a\" host=\"h\" port=5432 state=attached since=10 reason=\"\"\n"
            "node name=\"b\" host=\"h2\" port=1 state=fenced since=-5 "
            "reason=\"say \\\"no\\\"\\n\\\\\\t\\x01\"\n");
  EXPECT_EQ(serialize_state(PersistedState{}),
            "# pgrouter failover state: rewritten whole by pgrouter; edit only while it is "
            "stopped.\nformat 1\n");
}

TEST(StateFile, RoundTrips) {
  PersistedState odd;
  odd.nodes = {{"n\"ame", "", 0, AttachState::diverged, std::string("\0\x7f\xc3\xa9\r#=", 7), 1}};
  for (const PersistedState& s : {sample(), PersistedState{}, odd}) {
    const std::string text = serialize_state(s);
    const auto parsed = parse_state(text);
    ASSERT_TRUE(parsed.state) << parsed.error->to_string() << "\n" << text;
    EXPECT_EQ(*parsed.state, s);
    EXPECT_EQ(serialize_state(*parsed.state), text);
  }
}

TEST(StateFile, ParsesHandWrittenText) {
  const auto parsed = parse_state(
      "\n  # edited by hand\r\n"
      "format 1\r\n"
      "\ttimeline 7   \n"
      "primary b\n"
      "node  state=attached name=b since=1 port=6432 host=db-b.example\n"
      "node name=a host=\"db a\" port=5432 state=fenced since=2 reason=\"\\x41\\x42\"\n");
  ASSERT_TRUE(parsed.state) << parsed.error->to_string();
  const PersistedState& s = *parsed.state;
  EXPECT_FALSE(s.system_identifier);
  EXPECT_EQ(s.timeline, 7u);
  EXPECT_EQ(s.primary, "b");
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0], (PersistedNode{"b", "db-b.example", 6432, AttachState::attached, "", 1}));
  EXPECT_EQ(s.nodes[1].host, "db a");
  EXPECT_EQ(s.nodes[1].reason, "AB");
  ASSERT_NE(s.find("a"), nullptr);
  EXPECT_EQ(s.find("a")->state, AttachState::fenced);
  EXPECT_EQ(s.find("c"), nullptr);
}

TEST(StateFile, CorruptFilesNameTheLine) {
  const std::string node = "node name=a host=h port=1 state=attached since=1";
  struct Case {
    const char* name;
    std::string text;
    int line;
    std::string_view problem_part;
  };
  const Case cases[] = {
      {"empty", "", 0, "no \"format\" line"},
      {"only comments", "# x\n\n", 0, "no \"format\" line"},
      {"format not first", "timeline 1\nformat 1\n", 1, "first line"},
      {"newer format", "format 2\n", 1, "format version 2 is not supported"},
      {"format junk", "format one\n", 1, "expected a number"},
      {"duplicate format", "format 1\nformat 1\n", 2, "duplicate"},
      {"unknown keyword", "format 1\ncolour blue\n", 2, "unknown keyword"},
      {"two values", "format 1\ntimeline 1 2\n", 2, "exactly one value"},
      {"keyed value", "format 1\ntimeline x=1\n", 2, "exactly one value"},
      {"negative timeline", "format 1\ntimeline -1\n", 2, "timeline"},
      {"big timeline", "format 1\ntimeline 4294967296\n", 2, "timeline"},
      {"bad sysid", "format 1\nsystem_identifier 12ab\n", 2, "system_identifier"},
      {"empty primary", "format 1\nprimary \"\"\n", 2, "empty"},
      {"unknown primary", "format 1\n" + node + "\nprimary b\n", 3, "not a listed node"},
      {"duplicate field", "format 1\nprimary a\n" + node + " state=fenced\n", 3, "duplicate field"},
      {"primary not attached",
       "format 1\nprimary a\nnode name=a host=h port=1 state=fenced since=1\n", 2, "fenced, not"},
      {"unknown state", "format 1\nnode name=a host=h port=1 state=up since=1\n", 2, "state"},
      {"bad port", "format 1\nnode name=a host=h port=65536 state=attached since=1\n", 2, "port"},
      {"bad since", "format 1\nnode name=a host=h port=1 state=attached since=soon\n", 2, "since"},
      {"missing since", "format 1\nnode name=a host=h port=1 state=attached\n", 2,
       "missing since"},
      {"missing name", "format 1\nnode host=h port=1 state=attached since=1\n", 2, "missing name"},
      {"empty name", "format 1\nnode name=\"\" host=h port=1 state=attached since=1\n", 2, "empty"},
      {"unknown field", "format 1\n" + node + " colour=blue\n", 2, "unknown field \"colour\""},
      {"bare node field", "format 1\n" + node + " blue\n", 2, "expected name=value"},
      {"duplicate node", "format 1\n" + node + "\n" + node + "\n", 3, "duplicate node name"},
      {"unterminated string", "format 1\nnode name=\"a\n", 2, "unterminated"},
      {"bad escape", "format 1\nnode name=\"\\q\"\n", 2, "unknown escape"},
      {"control byte escaped", "format 1\nnode name=\"\\\x02\"\n", 2, "unknown escape"},
      {"control byte keyword", "format 1\nkey\x01word 1\n", 2, "unknown keyword \"key\\x01word\""},
      {"short hex escape", "format 1\nnode name=\"\\x4\"\n", 2, "two hex digits"},
      {"junk after quote", "format 1\nnode name=\"a\"b\n", 2, "after the closing quote"},
      {"quote in bare word", "format 1\nnode name=a\"b\"\n", 2, "quote inside a bare word"},
      {"empty key", "format 1\nnode =a\n", 2, "field name is missing"},
      {"keyword with a key", "format 1\nnode=1\n", 2, "expected a keyword"},
      {"truncated mid-line", "format 1\n" + node.substr(0, 26) + "\n", 2, "missing state"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = parse_state(c.text);
    EXPECT_FALSE(r.state);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->line, c.line) << r.error->to_string();
    EXPECT_NE(r.error->problem.find(c.problem_part), std::string::npos) << r.error->problem;
    if (c.line > 0) {
      EXPECT_EQ(r.error->to_string().rfind("line " + std::to_string(c.line) + ": ", 0), 0u);
    }
    for (const char ch : r.error->to_string()) {  // one printable line for the log
      EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << r.error->to_string();
    }
  }
}

class StateFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pgr_state_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "failover.state").string();
  }
  void TearDown() override {
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StateFileOnDisk, WritesReadsAndReplaces) {
  const auto missing = load_state_file(path_);
  EXPECT_TRUE(missing.missing);
  EXPECT_FALSE(missing.state);
  EXPECT_FALSE(missing.error);

  const std::string first = serialize_state(sample());
  ASSERT_FALSE(write_state_file_atomically(path_, first));
  EXPECT_EQ(read_state_file(path_).text, first);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  PersistedState changed = sample();
  changed.nodes[3].state = AttachState::attached;
  ASSERT_FALSE(write_state_file_atomically(path_, serialize_state(changed)));
  const auto loaded = load_state_file(path_);
  ASSERT_TRUE(loaded.state) << loaded.error.value_or("");
  EXPECT_EQ(*loaded.state, changed);
}

TEST_F(StateFileOnDisk, RelativePath) {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  EXPECT_FALSE(write_state_file_atomically("relative.state", "format 1\n"));
  std::filesystem::current_path(cwd);
  EXPECT_EQ(read_state_file((dir_ / "relative.state").string()).text, "format 1\n");
}

TEST_F(StateFileOnDisk, CorruptFileErrorNamesFileAndLine) {
  std::ofstream(path_) << "format 1\ntimeline 2\n"
                          "node name=a host=h port=x state=attached since=1\n";
  const auto loaded = load_state_file(path_);
  EXPECT_FALSE(loaded.state);
  EXPECT_FALSE(loaded.missing);
  ASSERT_TRUE(loaded.error);
  EXPECT_EQ(loaded.error->rfind(path_ + ": line 3: node: port", 0), 0u) << *loaded.error;
}

TEST_F(StateFileOnDisk, Failures) {
  const auto no_dir = write_state_file_atomically((dir_ / "nope" / "state").string(), "x");
  ASSERT_TRUE(no_dir);
  EXPECT_NE(no_dir->to_string().find("open: No such file or directory"), std::string::npos);

  // A directory where the file should be: the rename fails and the temporary file goes.
  std::filesystem::create_directories(path_);
  std::filesystem::create_directories(dir_ / "failover.state" / "keep");
  const auto onto_dir = write_state_file_atomically(path_, "format 1\n");
  ASSERT_TRUE(onto_dir);
  EXPECT_NE(onto_dir->problem.find("rename"), std::string::npos) << onto_dir->to_string();
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));

  const auto read_dir = read_state_file(path_);
  EXPECT_FALSE(read_dir.text);
  EXPECT_FALSE(read_dir.missing);
  ASSERT_TRUE(read_dir.error);
  EXPECT_NE(read_dir.error->to_string().find("read"), std::string::npos);
}

}  // namespace
}  // namespace pgr::failover
