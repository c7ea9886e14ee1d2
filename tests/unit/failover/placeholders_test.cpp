// pgpool-II placeholder expansion: the table of placeholders, pgpool's choices for missing
// values, shell quoting per context (checked by running /bin/sh itself), refused placements.
#include "failover/placeholders.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pgr::failover {
namespace {

// Seed 003's three nodes: node 0 (the primary) failed, node 1 is promoted.
PlaceholderValues seed003() {
  PlaceholderValues v;
  v.node = PlaceholderNode{0, "192.168.200.2", 5432, "/var/lib/postgresql/9.1/main"};
  v.new_main = PlaceholderNode{1, "192.168.200.3", 5433, "/var/lib/postgresql/9.1/main"};
  v.old_main_id = 0;
  v.old_primary = v.node;
  return v;
}

std::string expand(std::string_view text, const PlaceholderValues& v) {
  const auto r = expand_command(text, v);
  EXPECT_FALSE(r.error) << r.error->to_string();
  return r.command.value_or("<error>");
}

TEST(Placeholders, Table) {
  struct Case {
    const char* name;
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"seed 003", "/var/lib/postgresql/bin/failover.sh %d %M %m",
       "/var/lib/postgresql/bin/failover.sh 0 0 1"},
      {"pgpool 4.3 sample order", "failover.sh %d %h %p %D %m %H %M %P %r %R %N %S",
       "failover.sh 0 192.168.200.2 5432 /var/lib/postgresql/9.1/main 1 192.168.200.3 0 0 5433 "
       "/var/lib/postgresql/9.1/main 192.168.200.2 5432"},
      {"percent", "echo 100%% %%d", "echo 100% %d"},
      {"no placeholders", "true", "true"},
      {"inside a word", "--host=%H --port=%r", "--host=192.168.200.3 --port=5433"},
      {"unknown placeholder dropped, as pgpool", "a%xb %q", "ab "},
      {"lone percent at the end dropped, as pgpool", "echo %", "echo "},
      {"empty", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(expand(c.text, seed003()), c.expected);
  }
}

TEST(Placeholders, MissingValues) {
  // pgpool: no new main → %m is -1 and %H %r %R are ""; no old primary → %P is -1.
  PlaceholderValues v;
  v.node = PlaceholderNode{2, "db3", 5432, ""};
  EXPECT_EQ(expand("f %d %h %p %D %m %H %r %R %M %P %N %S", v),
            "f 2 db3 5432 '' -1 '' '' '' -1 -1 '' ''");
  EXPECT_EQ(expand("f %d %h %p", PlaceholderValues{}), "f -1 '' ''");
  v.node->port = 0;
  EXPECT_EQ(expand("%p", v), "''");
}

TEST(Placeholders, QuotingPerContext) {
  PlaceholderValues v;
  v.node = PlaceholderNode{0, "my host", 5432, "/data/it's \"here\" $(x) `y` \\z"};
  struct Case {
    const char* name;
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"unquoted", "f %h %D", R"-(f 'my host' '/data/it'\''s "here" $(x) `y` \z')-"},
      {"single quotes", "f '%h' '-D %D'",
       R"-(f 'my host' '-D /data/it'\''s "here" $(x) `y` \z')-"},
      {"double quotes", R"-(f "%h" "%D")-",
       R"-(f "my host" "/data/it's \"here\" \$(x) \`y\` \\z")-"},
      {"after a closed ${...}", R"-(f "${X:-a}" %h)-", R"-(f "${X:-a}" 'my host')-"},
      {"after a closed substitution", R"-(f "$(hostname)" %h)-",
       R"-(f "$(hostname)" 'my host')-"},
      {"hash inside a word is no comment", "f a#%h", "f a#'my host'"},
      {"after a comment line", "# note\nf %h", "# note\nf 'my host'"},
      {"escaped quote stays escaped", R"-(f \' %h)-", R"-(f \' 'my host')-"},
      {"nested quotes in a substitution", R"-(f "$(echo ")")" %h)-",
       R"-(f "$(echo ")")" 'my host')-"},
      {"arithmetic closes", "f $((1 + (2))) %h", "f $((1 + (2))) 'my host'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(expand(c.text, v), c.expected);
  }
}

TEST(Placeholders, QuoteForShell) {
  EXPECT_EQ(quote_for_shell("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(quote_for_shell("/var/lib/pg-15_main"), "/var/lib/pg-15_main");
  EXPECT_EQ(quote_for_shell(""), "''");
  EXPECT_EQ(quote_for_shell("a b"), "'a b'");
  EXPECT_EQ(quote_for_shell("~root"), "'~root'");
  EXPECT_EQ(quote_for_shell("x=1"), "'x=1'");
  EXPECT_EQ(quote_for_shell("'"), R"-(''\''')-");
}

TEST(Placeholders, RefusedPlacements) {
  struct Case {
    const char* name;
    std::string text;
    std::string_view problem_part;
    std::size_t offset;
  };
  const Case cases[] = {
      {"after a backslash", R"-(f \%h)-", "backslash", 3},
      {"after a backslash in double quotes", R"-(f "\%h")-", "backslash", 4},
      {"in $(...)", "f $(echo %h)", "inside", 9},
      {"in double-quoted $(...)", R"-(f "$(echo %h)")-", "inside", 10},
      {"in backquotes", "f `echo %h`", "inside", 8},
      {"in ${...}", "f ${X:-%h}", "inside", 7},
      {"after quotes in ${...}", R"-(f "${X:-'}'}" %h)-", "quotes inside ${...}", 14},
      {"in $'...'", "f $'%h'", "$'...'", 4},
      {"after $'...'", "f $'a' %h", "$'...'", 7},
      {"in a comment", "f # %h", "comment", 4},
      {"in a comment after ;", "f;# %h", "comment", 4},
      {"after a here-document", "cat <<EOF\n%h\nEOF", "here-document", 10},
      {"in unterminated $(", "f $(x %h", "inside", 6},
      {"NUL in the template", std::string("f\0 %h", 5), "NUL", 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = expand_command(c.text, seed003());
    EXPECT_FALSE(r.command);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->problem.find(c.problem_part), std::string::npos) << r.error->problem;
    EXPECT_EQ(r.error->offset, c.offset);
    const auto v = validate_command_template(c.text);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->problem, r.error->problem);
  }
}

TEST(Placeholders, RefusedValues) {
  const std::string bad_values[] = {"a\nb", "a\rb", std::string("a\0b", 3)};
  for (const std::string& bad : bad_values) {
    PlaceholderValues v;
    v.node = PlaceholderNode{0, bad, 5432, ""};
    const auto r = expand_command("f '%h'", v);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->problem.find("%h"), std::string::npos);
    EXPECT_EQ(r.error->to_string().rfind("at byte 3: ", 0), 0u);
    // Placeholders that do not use the bad value are fine.
    EXPECT_TRUE(expand_command("f %d", v).command);
  }
}

TEST(Placeholders, Validate) {
  EXPECT_FALSE(validate_command_template("/etc/pgpool-II/failover.sh %d %h %p %D %m %H %M %P "
                                         "%r %R %N %S"));
  EXPECT_FALSE(validate_command_template("echo 100%% done '%D' \"%H\""));
  const auto unknown = validate_command_template("failover.sh %d %n");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->problem, "unknown placeholder %n");
  EXPECT_EQ(unknown->offset, 15u);
  const auto lone = validate_command_template("failover.sh %");
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->problem, "a lone % at the end");
  // printf's own %s must be written %%s: a bare %s is an unknown placeholder.
  EXPECT_TRUE(validate_command_template("printf '%s' %d"));
}

// Runs `command` with /bin/sh -c (as popen does) and returns its standard output.
std::string run_shell(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "<popen failed>";
  std::string out;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// The shell itself is the judge: every nasty value reaches printf as exactly one argument, in
// each quoting context, and nothing it contains is executed.
TEST(Placeholders, ShellSeesExactlyTheValue) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pgr_placeholders_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string marker = (dir / "injected").string();
  const std::vector<std::string> values = {
      "plain", "a b", "it's", "\"dq\"", "$(touch " + marker + ")", "`touch " + marker + "`",
      "; touch " + marker, "$HOME", "\\", "\\'", "*", "-n", "", "~", "#x", "%d", "a'b\"c$d`e\\f",
      "'; touch " + marker + "; '", "\"; touch " + marker + "; \"", "tab\there", "\x7f\x01",
  };
  struct Template {
    const char* text;
    const char* before;  // what the shell's word holds around the value
    const char* after;
  };
  const Template templates[] = {
      {"printf '[%%s]\\n' %h", "", ""},                  // unquoted
      {"printf '[%%s]\\n' '%h'", "", ""},                // inside single quotes
      {"printf '[%%s]\\n' \"%h\"", "", ""},              // inside double quotes
      {"printf '[%%s]\\n' x%hy", "x", "y"},              // glued to text
      {"printf '[%%s]\\n' \"x\"'%h'y", "x", "y"},        // between quotes
      {"printf '[%%s]\\n' --opt=%h", "--opt=", ""},      // an option's value
      {"printf '[%%s]\\n' \"$(printf a)\"%h", "a", ""},  // after a substitution
      {"# a comment %%\nprintf '[%%s]\\n' %h", "", ""},  // after a comment line
  };
  for (const std::string& value : values) {
    for (const Template& t : templates) {
      SCOPED_TRACE("value <" + value + "> template <" + t.text + ">");
      PlaceholderValues v;
      v.node = PlaceholderNode{0, value, 5432, ""};
      const auto r = expand_command(t.text, v);
      ASSERT_TRUE(r.command) << r.error->to_string();
      const std::string expected = "[" + (t.before + value + t.after) + "]\n";
      EXPECT_EQ(run_shell(*r.command), expected) << *r.command;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(marker));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgr::failover
