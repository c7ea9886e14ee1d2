// Node slots across reloads: kept nodes keep their index, removed ones leave an unused slot,
// new ones are appended or take back their old slot, a re-addressed name is remove + add.
#include <gtest/gtest.h>

#include "conf/backend_slots.hpp"

namespace pgr::conf {
namespace {

BackendConfig named(std::string name, std::uint16_t port, double weight = 1.0) {
  BackendConfig b;
  b.name = std::move(name);
  b.named = true;
  b.host = "127.0.0.1";
  b.port = port;
  b.weight = weight;
  return b;
}

BackendConfig unnamed(std::size_t position, std::uint16_t port) {
  BackendConfig b;
  b.name = "node" + std::to_string(position);  // as the loader names it
  b.host = "127.0.0.1";
  b.port = port;
  return b;
}

std::vector<std::string> names(const std::vector<BackendConfig>& slots) {
  std::vector<std::string> out;
  for (const auto& s : slots) out.push_back(s.removed ? "(" + s.name + ")" : s.name);
  return out;
}

TEST(BackendSlots, IdentityIsTheNameOrTheAddress) {
  EXPECT_EQ(backend_identity(named("pg1", 5432)), "pg1");
  EXPECT_EQ(backend_identity(unnamed(0, 5433)), "127.0.0.1:5433");
  auto v6 = unnamed(0, 5434);
  v6.host = "::1";
  EXPECT_EQ(backend_identity(v6), "[::1]:5434");
}

TEST(BackendSlots, SameBackendsChangeNothing) {
  const std::vector applied{named("a", 1), named("b", 2)};
  const auto plan = assign_backend_slots(applied, applied);
  EXPECT_EQ(plan.slots, applied);
  EXPECT_TRUE(plan.added.empty());
  EXPECT_TRUE(plan.removed.empty());
  EXPECT_TRUE(plan.changed.empty());
  EXPECT_TRUE(plan.errors.empty());
}

TEST(BackendSlots, OrderInTheFileDoesNotMoveIndexes) {
  const std::vector applied{named("a", 1), named("b", 2)};
  const auto plan = assign_backend_slots(applied, {named("b", 2), named("a", 1, 3.0)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(plan.slots[0].weight, 3.0);
  EXPECT_EQ(plan.changed, (std::vector<std::size_t>{0}));
}

TEST(BackendSlots, AddedNodesAreAppended) {
  const std::vector applied{named("a", 1), named("b", 2)};
  const auto plan = assign_backend_slots(applied, {named("c", 3), named("a", 1), named("b", 2)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(plan.added, (std::vector<std::size_t>{2}));
  EXPECT_TRUE(plan.removed.empty());
}

TEST(BackendSlots, RemovedNodesLeaveTheirSlotAndComeBackToIt) {
  const std::vector applied{named("a", 1), named("b", 2), named("c", 3)};
  const auto removed = assign_backend_slots(applied, {named("a", 1), named("c", 3)});
  EXPECT_EQ(names(removed.slots), (std::vector<std::string>{"a", "(b)", "c"}));
  EXPECT_EQ(removed.removed, (std::vector<std::size_t>{1}));
  // Removing it again is nothing new.
  const auto still = assign_backend_slots(removed.slots, {named("a", 1), named("c", 3)});
  EXPECT_TRUE(still.removed.empty());
  EXPECT_EQ(still.slots, removed.slots);
  // Another node does not take the slot; b itself does.
  const auto back = assign_backend_slots(removed.slots, {named("a", 1), named("d", 4), named("c", 3), named("b", 2)});
  EXPECT_EQ(names(back.slots), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(back.added, (std::vector<std::size_t>{1, 3}));
}

TEST(BackendSlots, ANewAddressUnderTheSameNameIsRemoveAndAdd) {
  const std::vector applied{named("a", 1), named("b", 2)};
  const auto plan = assign_backend_slots(applied, {named("a", 1), named("b", 5)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"a", "(b)", "b"}));
  EXPECT_EQ(plan.slots[2].port, 5);
  EXPECT_EQ(plan.removed, (std::vector<std::size_t>{1}));
  EXPECT_EQ(plan.added, (std::vector<std::size_t>{2}));
  EXPECT_TRUE(plan.errors.empty());  // the removed b does not clash with the new one
}

TEST(BackendSlots, ARenameAtTheSameAddressIsRemoveAndAdd) {
  const std::vector applied{named("a", 1), named("b", 2)};
  const auto plan = assign_backend_slots(applied, {named("a", 1), named("z", 2)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"a", "(b)", "z"}));
}

TEST(BackendSlots, UnnamedNodesAreKnownByAddressAndNamedByTheirSlot) {
  const std::vector applied{unnamed(0, 1), unnamed(1, 2), unnamed(2, 3)};
  // The file drops the first one: the others shift position but keep slot and name.
  const auto plan = assign_backend_slots(applied, {unnamed(0, 2), unnamed(1, 3), unnamed(2, 4)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"(node0)", "node1", "node2", "node3"}));
  EXPECT_EQ(plan.slots[3].port, 4);
  EXPECT_TRUE(plan.changed.empty());
  EXPECT_TRUE(plan.errors.empty());
}

TEST(BackendSlots, NamingAnUnnamedNodeKeepsItsSlot) {
  const std::vector applied{unnamed(0, 1), unnamed(1, 2)};
  const auto plan = assign_backend_slots(applied, {unnamed(0, 1), named("pg2", 2)});
  EXPECT_EQ(names(plan.slots), (std::vector<std::string>{"node0", "pg2"}));
  EXPECT_EQ(plan.changed, (std::vector<std::size_t>{1}));
}

TEST(BackendSlots, ANameClashWithAnIndexNameIsAnError) {
  const std::vector applied{unnamed(0, 1), unnamed(1, 2)};
  // node1 is the unnamed slot 1's name; a new node may not take it.
  const auto plan = assign_backend_slots(applied, {unnamed(0, 1), unnamed(1, 2), named("node1", 3)});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_NE(plan.errors[0].find("\"node1\""), std::string::npos);
}

TEST(BackendSlots, SlotsAreBounded) {
  std::vector<BackendConfig> applied;
  std::vector<BackendConfig> loaded;
  for (std::size_t i = 0; i < k_max_node_slots; ++i) {
    applied.push_back(named("n" + std::to_string(i), static_cast<std::uint16_t>(1000 + i)));
  }
  loaded.push_back(named("new", 9999));
  const auto plan = assign_backend_slots(applied, loaded);
  EXPECT_EQ(plan.errors.size(), 1U);
  EXPECT_EQ(active_slots(plan.slots), 1U);
}

}  // namespace
}  // namespace pgr::conf
