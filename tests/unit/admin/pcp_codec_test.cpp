// The PCP codec: frames split at every byte, malformed lengths, request parsers, the md5
// salted hash (checked against pgpool's formula computed independently) and reply layouts.
#include <gtest/gtest.h>

#include "admin/pcp_codec.hpp"

namespace pgr::admin::pcp {
namespace {

using namespace std::string_literals;

std::string frame(char type, std::string_view payload) {
  std::string out(1, type);
  const auto n = static_cast<std::uint32_t>(payload.size() + 4);
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  return out.append(payload);
}

TEST(PcpFrames, TwoFramesSplitAtEveryByte) {
  const std::string bytes = frame('M', "") + frame('I', std::string("1\0", 2));
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE(cut);
    FrameReader reader;
    reader.append(std::string_view(bytes).substr(0, cut));
    std::vector<Frame> frames;
    for (auto r = reader.next(); r.frame; r = reader.next()) frames.push_back(*r.frame);
    reader.append(std::string_view(bytes).substr(cut));
    for (auto r = reader.next(); r.frame; r = reader.next()) frames.push_back(*r.frame);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].type, 'M');
    EXPECT_EQ(frames[0].payload, "");
    EXPECT_EQ(frames[1].type, 'I');
    EXPECT_EQ(frames[1].payload, std::string("1\0", 2));
  }
}

TEST(PcpFrames, BadLengthsAreErrors) {
  for (const std::string& bytes : {std::string("L\0\0\0\3", 5), std::string("L\x7f\xff\xff\xff", 5)}) {
    FrameReader reader;
    reader.append(bytes);
    const auto r = reader.next();
    EXPECT_FALSE(r.frame);
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(PcpRequests, NodeIdsAndPromote) {
  EXPECT_EQ(parse_node_id(std::string("2\0", 2)), 2);
  EXPECT_EQ(parse_node_id(std::string("-1\0", 3)), -1);
  EXPECT_FALSE(parse_node_id("2"));                          // no NUL
  EXPECT_FALSE(parse_node_id(std::string("x\0", 2)));
  EXPECT_FALSE(parse_node_id(std::string("99999999\0", 9)));  // absurd
  const auto p = parse_promote(std::string("1 \0s", 4));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->node, 1);
  EXPECT_TRUE(p->switchover);
  EXPECT_FALSE(parse_promote(std::string("1 \0n", 4))->switchover);
  EXPECT_FALSE(parse_promote(std::string("1 \0", 3)));
  EXPECT_FALSE(parse_promote(std::string("1 \0x", 4)));
}

TEST(PcpAuth, HashMatchesPgpoolsFormula) {
  // md5(md5(md5("secret") + "pgpool") + salt), salt 01 02 03 04 (computed with Python).
  const std::array<std::uint8_t, 4> salt{1, 2, 3, 4};
  EXPECT_EQ(expected_hash("5ebe2294ecd0e0f08eab7690d2a6ee69", "pgpool", salt), "60304671a2939999810fd6d3fdf9e920");
  const auto auth = parse_auth(std::string("pgpool\0" "60304671a2939999810fd6d3fdf9e920\0", 40));
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->user, "pgpool");
  EXPECT_TRUE(hashes_equal(auth->hash, "60304671a2939999810fd6d3fdf9e920"));
  EXPECT_FALSE(hashes_equal(auth->hash, "60304671a2939999810fd6d3fdf9e921"));
  EXPECT_FALSE(parse_auth(std::string("pgpool\0short\0", 13)));
  EXPECT_FALSE(parse_auth("no-nul"));
}

TEST(PcpReplies, NodeCountAndCommandComplete) {
  EXPECT_EQ(node_count_reply(3), frame('l', std::string("CommandComplete\0" "3\0", 18)));
  EXPECT_EQ(command_complete('c'), frame('c', std::string("CommandComplete\0", 16)));
  EXPECT_EQ(auth_ok_reply(), frame('r', std::string("AuthenticationOK\0", 17)));
}

TEST(PcpReplies, NodeInfoIsArraySizeRecordsComplete) {
  NodeInfo n;
  n.host = "h";
  n.port = 5432;
  n.status = 2;
  n.pg_status = "up";
  n.weight = 0.5;
  n.role = 2;
  n.pg_role = "primary";
  const auto bytes = node_info_reply({n});
  FrameReader reader;
  reader.append(bytes);
  std::vector<Frame> frames;
  for (auto r = reader.next(); r.frame; r = reader.next()) frames.push_back(*r.frame);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload, std::string("ArraySize\0" "1\0", 12));
  EXPECT_TRUE(frames[1].payload.starts_with("NodeInfo\0h\0" "5432\0" "2\0" "0\0up\0"s));
  EXPECT_EQ(frames[2].payload, std::string("CommandComplete\0", 16));
}

TEST(PcpReplies, ErrorCarriesSeverityMessageDetail) {
  const auto bytes = error_reply("ERROR", "detach node failed", "why");
  EXPECT_EQ(bytes, frame('E', "SERROR\0Mdetach node failed\0Dwhy\0\0"s));
}

}  // namespace
}  // namespace pgr::admin::pcp
