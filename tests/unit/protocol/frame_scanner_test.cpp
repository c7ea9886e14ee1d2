// FrameScanner: every event kind, every error, and every input fed split at each byte and
// byte by byte, with the reassembled messages compared to the unsplit run.
#include "protocol/frame_scanner.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

namespace pgr::protocol {
namespace {
using namespace std::literals;
using test::be32;
using test::frame;

// What a relay sees when it drives the scanner over a sequence of reads.
struct Scan {
  std::vector<std::string> messages;  // whole framed messages, reassembled from pieces
  std::vector<bool> streamed;         // per message: arrived as `partial` pieces
  FrameError error = FrameError::none;
  std::size_t leftover = 0;  // bytes left unconsumed or mid-message at the end
};

struct ScanSetup {
  FrameScanner::Options options;
  std::string whole_types;
};

// Feeds `chunks` as successive reads, consuming what each event covers, as the proxy does.
Scan scan(const ScanSetup& setup, const std::vector<std::string_view>& chunks) {
  FrameScanner scanner(setup.options);
  for (char t : setup.whole_types) scanner.deliver_whole(t);
  Scan out;
  std::string pending;  // the unconsumed input
  std::string current;  // the streamed message being reassembled
  for (auto chunk : chunks) {
    pending.append(chunk);
    for (;;) {
      const auto e = scanner.next(as_bytes(pending));
      if (e.kind == FrameEvent::Kind::error) {
        out.error = e.error;
        return out;
      }
      if (e.kind == FrameEvent::Kind::need_more) {
        EXPECT_GT(e.wanted, pending.size());
        break;
      }
      EXPECT_GT(e.consumed, 0u);
      EXPECT_LE(e.consumed, pending.size());
      if (e.kind == FrameEvent::Kind::message) {
        EXPECT_TRUE(current.empty());
        EXPECT_EQ(e.type, pending[0]);
        EXPECT_EQ(std::size_t{e.length} + 1, e.consumed);
        out.messages.push_back(pending.substr(0, e.consumed));
        out.streamed.push_back(false);
      } else {
        EXPECT_EQ(e.starts_message, current.empty());
        EXPECT_EQ(setup.whole_types.find(e.type), std::string::npos) << "whole type streamed";
        current.append(pending, 0, e.consumed);
        if (e.ends_message) {
          EXPECT_EQ(current.size(), std::size_t{e.length} + 1);
          out.messages.push_back(current);
          out.streamed.push_back(true);
          current.clear();
        }
      }
      EXPECT_EQ(scanner.at_boundary(), current.empty());
      pending.erase(0, e.consumed);
    }
  }
  out.leftover = pending.size() + current.size();
  return out;
}

void expect_same(const Scan& a, const Scan& b, const std::string& how) {
  EXPECT_EQ(a.messages, b.messages) << how;
  EXPECT_EQ(a.error, b.error) << how;
  EXPECT_EQ(a.leftover, b.leftover) << how;
}

// Runs `input` whole, split in two at every position, and one byte at a time; all must
// reassemble to the same messages and end the same way. Returns the whole-input run.
Scan scan_every_split(const ScanSetup& setup, std::string_view input) {
  const Scan reference = scan(setup, {input});
  for (std::size_t i = 0; i <= input.size(); ++i) {
    expect_same(scan(setup, {input.substr(0, i), input.substr(i)}), reference,
                "split at " + std::to_string(i));
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  expect_same(scan(setup, bytes), reference, "byte by byte");
  return reference;
}

ScanSetup frontend() { return ScanSetup{{Direction::frontend, k_large_message_limit, false}, ""}; }
ScanSetup backend() { return ScanSetup{{Direction::backend, k_large_message_limit, false}, ""}; }

TEST(FrameScanner, OneWholeMessage) {
  const auto q = frame('Q', "select 1\0"sv);
  FrameScanner s({});
  const auto e = s.next(as_bytes(q));
  EXPECT_EQ(e.kind, FrameEvent::Kind::message);
  EXPECT_EQ(e.type, 'Q');
  EXPECT_EQ(e.length, 13u);
  EXPECT_EQ(e.consumed, q.size());
  EXPECT_TRUE(s.at_boundary());

  const auto r = scan_every_split(frontend(), q);
  EXPECT_EQ(r.messages, std::vector<std::string>{q});
  EXPECT_EQ(r.leftover, 0u);
}

TEST(FrameScanner, NeedMoreForAShortHeader) {
  FrameScanner s({});
  for (std::size_t n = 0; n < 5; ++n) {
    const auto e = s.next(as_bytes("Q\0\0\0\x0d"sv.substr(0, n)));
    EXPECT_EQ(e.kind, FrameEvent::Kind::need_more);
    EXPECT_EQ(e.wanted, 5u);
  }
}

TEST(FrameScanner, TwoMessagesInOneBuffer) {
  const auto input = frame('P', "\0select $1\0\0\0"sv) + frame('S', "");
  const auto r = scan_every_split(frontend(), input);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0][0], 'P');
  EXPECT_EQ(r.messages[1], "S\0\0\0\x04"sv);
  EXPECT_EQ(r.leftover, 0u);
}

TEST(FrameScanner, ExtendedPipelineAndResults) {
  std::string client = frame('P', "s1\0select $1::int\0\0\0"sv) +
                       frame('B',
                             "\0s1\0\0\0\0\x01\0\0\0\x01"
                             "7\0\0"sv) +
                       frame('D', "P\0"sv) + frame('E', "\0\0\0\0\0"sv) + frame('S', "") +
                       frame('X', "");
  const auto c = scan_every_split(frontend(), client);
  EXPECT_EQ(c.messages.size(), 6u);
  EXPECT_EQ(c.leftover, 0u);

  std::string server =
      frame('1', "") + frame('2', "") +
      frame('T', "\0\x01int4\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0"sv) +
      frame('D',
            "\0\x01\0\0\0\x01"
            "7"sv) +
      frame('C', "SELECT 1\0"sv) + frame('Z', "I");
  ScanSetup whole = backend();
  whole.whole_types = "ZECT";
  const auto b = scan_every_split(whole, server);
  EXPECT_EQ(b.messages.size(), 6u);
  EXPECT_EQ(b.leftover, 0u);
}

TEST(FrameScanner, StreamsALargeMessageInPieces) {
  const std::string body(300, 'x');
  const auto msg = frame('d', body);
  FrameScanner s({});
  const auto first = s.next(as_bytes(std::string_view(msg).substr(0, 100)));
  EXPECT_EQ(first.kind, FrameEvent::Kind::partial);
  EXPECT_TRUE(first.starts_message);
  EXPECT_FALSE(first.ends_message);
  EXPECT_EQ(first.consumed, 100u);
  EXPECT_EQ(first.type, 'd');
  EXPECT_EQ(first.length, 304u);
  EXPECT_FALSE(s.at_boundary());

  EXPECT_EQ(s.next({}).kind, FrameEvent::Kind::need_more);
  EXPECT_EQ(s.next({}).wanted, 1u);

  // Bytes after the message end are not claimed by the piece that ends it.
  const auto rest = msg.substr(100) + "S\0\0\0\x04"s;
  const auto second = s.next(as_bytes(rest));
  EXPECT_EQ(second.kind, FrameEvent::Kind::partial);
  EXPECT_FALSE(second.starts_message);
  EXPECT_TRUE(second.ends_message);
  EXPECT_EQ(second.consumed, msg.size() - 100);
  EXPECT_EQ(second.type, 'd');
  EXPECT_EQ(second.length, 304u);
  EXPECT_TRUE(s.at_boundary());
  EXPECT_EQ(s.next(as_bytes(std::string_view(rest).substr(second.consumed))).kind,
            FrameEvent::Kind::message);

  const auto r = scan_every_split(frontend(), msg + frame('S', ""));
  EXPECT_EQ(r.messages.size(), 2u);
}

TEST(FrameScanner, HeaderOnlyStartsAStream) {
  const auto msg = frame('D', std::string(10, 'a'));
  FrameScanner s({Direction::backend, k_large_message_limit, false});
  const auto e = s.next(as_bytes(std::string_view(msg).substr(0, 5)));
  EXPECT_EQ(e.kind, FrameEvent::Kind::partial);
  EXPECT_EQ(e.consumed, 5u);
  EXPECT_TRUE(e.starts_message);
}

TEST(FrameScanner, WholeTypesWaitUntilComplete) {
  const auto q = frame('Q', "select 1\0"sv);
  FrameScanner s({});
  s.deliver_whole('Q');
  const auto e = s.next(as_bytes(std::string_view(q).substr(0, 7)));
  EXPECT_EQ(e.kind, FrameEvent::Kind::need_more);
  EXPECT_EQ(e.wanted, q.size());
  EXPECT_EQ(e.type, 'Q');
  EXPECT_TRUE(s.at_boundary());

  ScanSetup whole = frontend();
  whole.whole_types = "Q";
  const auto r = scan_every_split(whole, q + q);
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.streamed, (std::vector<bool>{false, false}));
}

TEST(FrameScanner, IncompleteTailIsLeftOver) {
  const auto input = frame('Q', "select 1\0"sv) + "Q\0\0"s;
  const auto r = scan_every_split(frontend(), input);
  EXPECT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.leftover, 3u);
}

TEST(FrameScanner, StreamsAOneMegabyteMessage) {
  const std::string big = frame('d', std::string(1 << 20, '\x5a'));
  const std::string input = big + frame('c', "");
  ScanSetup setup = frontend();
  const Scan reference = scan(setup, {input});
  ASSERT_EQ(reference.messages.size(), 2u);
  EXPECT_EQ(reference.messages[0], big);
  // Every byte split would be quadratic here: take a spread of split points and the edges.
  const std::vector<std::size_t> splits = {
      0, 1, 4, 5, 6, 4096, 65537, big.size() - 1, big.size(), big.size() + 1, input.size()};
  for (std::size_t i : splits) {
    expect_same(
        scan(setup, {std::string_view(input).substr(0, i), std::string_view(input).substr(i)}),
        reference, "split at " + std::to_string(i));
  }
  std::vector<std::string_view> reads;  // 16 KiB reads, as a socket would deliver them
  for (std::size_t i = 0; i < input.size(); i += 16384) {
    reads.push_back(std::string_view(input).substr(i, 16384));
  }
  const auto chunked = scan(setup, reads);
  expect_same(chunked, reference, "16 KiB reads");
  EXPECT_TRUE(chunked.streamed[0]);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) {
    bytes.push_back(std::string_view(input).substr(i, 1));
  }
  expect_same(scan(setup, bytes), reference, "byte by byte");
}

TEST(FrameScanner, ErrorLengthTooSmall) {
  for (std::uint32_t length : {0u, 1u, 3u}) {
    const auto input = "Q"s + be32(length) + "xxxx"s;
    FrameScanner s({});
    const auto e = s.next(as_bytes(input));
    EXPECT_EQ(e.kind, FrameEvent::Kind::error);
    EXPECT_EQ(e.error, FrameError::length_too_small);
    EXPECT_EQ(scan_every_split(frontend(), frame('S', "") + input).error,
              FrameError::length_too_small);
  }
}

TEST(FrameScanner, ErrorLengthTooLargeForType) {
  // A Sync-sized limit for Describe, the server's PQ_SMALL_MESSAGE_LIMIT.
  const auto describe = "D"s + be32(k_small_message_limit + 1);
  EXPECT_EQ(FrameScanner({}).next(as_bytes(describe)).error, FrameError::length_too_large);
  const auto ok = "D"s + be32(k_small_message_limit);
  EXPECT_EQ(FrameScanner({}).next(as_bytes(ok)).kind, FrameEvent::Kind::partial);
  const auto query = "Q"s + be32(k_large_message_limit + 1);
  EXPECT_EQ(FrameScanner({}).next(as_bytes(query)).error, FrameError::length_too_large);
  const auto huge = "Q"s + be32(0xffffffffu);
  EXPECT_EQ(FrameScanner({}).next(as_bytes(huge)).error, FrameError::length_too_large);
  EXPECT_EQ(scan_every_split(frontend(), frame('H', "") + describe).error,
            FrameError::length_too_large);
}

TEST(FrameScanner, ErrorLengthAboveConfiguredMaximum) {
  const ScanSetup capped{{Direction::backend, 1000, false}, ""};
  EXPECT_EQ(scan_every_split(capped, frame('D', std::string(996, 'a'))).messages.size(), 1u);
  EXPECT_EQ(scan_every_split(capped, frame('D', std::string(997, 'a'))).error,
            FrameError::length_too_large);
  // Unknown types are capped by the configured maximum alone.
  EXPECT_EQ(scan_every_split(capped, frame('?', std::string(997, 'a'))).error,
            FrameError::length_too_large);
}

TEST(FrameScanner, ErrorWrongLengthForFixedSizeTypes) {
  EXPECT_EQ(scan_every_split(frontend(), frame('S', "x")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(frontend(), frame('X', "x")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(backend(), frame('Z', "")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(backend(), frame('Z', "IT")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(backend(), frame('K', "1234")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(backend(), frame('1', "x")).error, FrameError::wrong_length);
  EXPECT_EQ(scan_every_split(backend(), frame('K', "12345678")).messages.size(), 1u);
}

TEST(FrameScanner, UnknownTypes) {
  const auto unknown = frame('?', "payload");
  const auto passed = scan_every_split(frontend(), unknown);
  EXPECT_EQ(passed.messages, std::vector<std::string>{unknown});

  const ScanSetup strict{{Direction::frontend, k_large_message_limit, true}, ""};
  EXPECT_EQ(scan_every_split(strict, frame('Q', "x\0"sv) + unknown).error,
            FrameError::unknown_type);
  // A backend-only type from a client is unknown in the frontend table.
  EXPECT_EQ(scan_every_split(strict, frame('Z', "I")).error, FrameError::unknown_type);
}

TEST(FrameScanner, ErrorsAreDescribed) {
  for (auto e : {FrameError::none, FrameError::length_too_small, FrameError::length_too_large,
                 FrameError::wrong_length, FrameError::unknown_type}) {
    EXPECT_FALSE(describe(e).empty());
  }
}

}  // namespace
}  // namespace pgr::protocol
