// Tests for --ports and --port-map parsing and the logical-to-dialed port lookup: good specs,
// every class of bad spec with the specific error, and round trips.
#include "engine/port_map.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParsePortListTest, GoodLists) {
  struct Case {
    std::string spec;
    std::vector<uint16_t> ports;
  };
  const std::vector<Case> cases = {
      {std::string(kDefaultPortsSpec), {25, 465, 587}},
      {"25", {25}},
      {"587,25", {587, 25}},                  // order kept
      {"25,465,25,587,465", {25, 465, 587}},  // duplicates dropped, first kept
      {" 25 , 465\t,587 ", {25, 465, 587}},
      {"1,65535", {1, 65535}},
      {"00025", {25}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<uint16_t>> ports = ParsePortList(c.spec);
    ASSERT_TRUE(ports.ok()) << c.spec << ": " << ports.status();
    EXPECT_EQ(*ports, c.ports) << c.spec;
  }
}

TEST(ParsePortListTest, BadLists) {
  struct Case {
    std::string spec;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "empty port list"},
      {"  ", "empty port list"},
      {"25,,587", "empty item in port list \"25,,587\""},
      {"25,", "empty item"},
      {",25", "empty item"},
      {"0", "port \"0\" is out of range (1-65535)"},
      {"65536", "port \"65536\" is out of range (1-65535)"},
      {"99999999999999999999", "is out of range"},
      {"-25", "port \"-25\" is not a decimal number"},
      {"+25", "is not a decimal number"},
      {"0x19", "is not a decimal number"},
      {"25;465", "port \"25;465\" is not a decimal number"},
      {"25 465", "is not a decimal number"},
      {"smtp", "port \"smtp\" is not a decimal number"},
      {"25=10025", "is not a decimal number"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<uint16_t>> ports = ParsePortList(c.spec);
    ASSERT_FALSE(ports.ok()) << c.spec;
    EXPECT_EQ(ports.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_THAT(ports.status().message(), HasSubstr(c.error)) << c.spec;
  }
}

TEST(ParsePortMapTest, GoodMaps) {
  struct Case {
    std::string spec;
    std::vector<std::pair<uint16_t, uint16_t>> entries;
  };
  const std::vector<Case> cases = {
      {"", {}},
      {"   ", {}},
      {"25=10025,465=10465,587=10587", {{25, 10025}, {465, 10465}, {587, 10587}}},
      {"25=10025", {{25, 10025}}},
      {" 25 = 10025 ,\t587=2587 ", {{25, 10025}, {587, 2587}}},
      {"25=25", {{25, 25}}},                            // identity is allowed
      {"25=2525,587=2525", {{25, 2525}, {587, 2525}}},  // shared dial port is allowed
      {"1=65535,65535=1", {{1, 65535}, {65535, 1}}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PortMap> map = ParsePortMap(c.spec);
    ASSERT_TRUE(map.ok()) << c.spec << ": " << map.status();
    EXPECT_EQ(map->entries(), c.entries) << c.spec;
    EXPECT_EQ(map->size(), c.entries.size());
  }
}

TEST(ParsePortMapTest, BadMaps) {
  struct Case {
    std::string spec;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"25", "port map item \"25\" has no '=' (expected LOGICAL=DIAL, e.g. 25=10025)"},
      {"25:10025", "has no '='"},
      {"25=10025,465", "port map item \"465\" has no '='"},
      {"25=1=2", "port map item \"25=1=2\" has more than one '='"},
      {"25=10025,,465=10465", "empty item in port map"},
      {"25=10025,", "empty item in port map"},
      {"=10025", "port map item \"=10025\": missing logical port"},
      {"25=", "port map item \"25=\": missing dial port"},
      {"0=10025", "logical port \"0\" is out of range (1-65535)"},
      {"25=0", "dial port \"0\" is out of range (1-65535)"},
      {"25=65536", "dial port \"65536\" is out of range (1-65535)"},
      {"70000=25", "logical port \"70000\" is out of range"},
      {"smtp=10025", "logical port \"smtp\" is not a decimal number"},
      {"25=ten", "dial port \"ten\" is not a decimal number"},
      {"25=-1", "dial port \"-1\" is not a decimal number"},
      {"25=10025,25=20025", "logical port 25 is mapped twice (to 10025 and 20025)"},
      {"25=10025, 025=20025", "logical port 25 is mapped twice"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PortMap> map = ParsePortMap(c.spec);
    ASSERT_FALSE(map.ok()) << c.spec;
    EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_THAT(map.status().message(), HasSubstr(c.error)) << c.spec;
  }
}

TEST(PortMapTest, DialMapsLogicalPortsAndPassesOthersThrough) {
  absl::StatusOr<PortMap> map = ParsePortMap("25=10025,465=10465,587=10587");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->Dial(25), 10025);
  EXPECT_EQ(map->Dial(465), 10465);
  EXPECT_EQ(map->Dial(587), 10587);
  EXPECT_EQ(map->Dial(2525), 2525);
  EXPECT_EQ(PortMap().Dial(25), 25);
  EXPECT_TRUE(PortMap().empty());
}

TEST(PortMapTest, AddRejectsZeroAndDuplicates) {
  PortMap map;
  EXPECT_TRUE(map.Add(25, 10025).ok());
  EXPECT_EQ(map.Add(0, 25).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(map.Add(587, 0).code(), absl::StatusCode::kInvalidArgument);
  absl::Status duplicate = map.Add(25, 2525);
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(duplicate.message(), HasSubstr("logical port 25 is mapped twice"));
  EXPECT_THAT(map.entries(), ElementsAre(std::pair<uint16_t, uint16_t>{25, 10025}));
}

TEST(PortMapTest, ToStringRoundTrips) {
  for (const std::string spec : {"", "25=10025", "25=10025,465=10465,587=10587"}) {
    absl::StatusOr<PortMap> map = ParsePortMap(spec);
    ASSERT_TRUE(map.ok()) << spec;
    EXPECT_EQ(map->ToString(), spec);
    absl::StatusOr<PortMap> again = ParsePortMap(map->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->entries(), map->entries());
  }
}

}  // namespace
}  // namespace mxray::engine
