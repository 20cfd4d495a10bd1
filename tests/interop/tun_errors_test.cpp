// When the device cannot be had, the tools say why and what to do.
#include <unistd.h>

#include "interop.hpp"

namespace synack::interop {
namespace {

TEST(TunErrors, SayWhatToDo) {
  SYNACK_REQUIRE_NETNS();
  TestNetns ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  const std::string tool = synack_tool();
  {
    InProcessStack synack(ns);  // holds synack0
    ASSERT_TRUE(synack.ok()) << synack.error();
    const RunResult busy = run({tool, "get", "--netns", ns.name(), "http://198.18.0.1/"});
    EXPECT_EQ(busy.status, 1);
    EXPECT_NE(busy.err.find("Another process already has synack0 open"), std::string::npos)
        << busy.err;
  }
  ASSERT_EQ(run({"ip", "tuntap", "add", "dev", "tap7", "mode", "tap"}, ns.name()).status, 0);
  const RunResult tap =
      run({tool, "get", "--netns", ns.name(), "--tun", "tap7", "http://198.18.0.1/"});
  EXPECT_EQ(tap.status, 1);
  EXPECT_NE(tap.err.find("not a TUN device"), std::string::npos) << tap.err;

  const RunResult no_netns = run({tool, "get", "--netns", ns.name() + "-none", "http://1.2.3.4/"});
  EXPECT_EQ(no_netns.status, 1);
  EXPECT_NE(no_netns.err.find("synack netns up"), std::string::npos) << no_netns.err;

  const RunResult twice = run({tool, "netns", "up", ns.name()});
  EXPECT_EQ(twice.status, 1);
  EXPECT_NE(twice.err.find("exists already"), std::string::npos) << twice.err;
}

TEST(Netns, UpMakesTheDeviceAndDownRemovesIt) {
  SYNACK_REQUIRE_NETNS();
  const std::string name = "synack-t-" + std::to_string(::getpid()) + "-up";
  struct Remove {
    std::string name;
    ~Remove() {
      if (link::netns_exists(name)) link::netns_delete(name);
    }
  } remove{name};
  const RunResult up = run({synack_tool(), "netns", "up", name, "--host-ip", "198.19.7.1/24",
                            "--stack-ip", "198.19.7.2", "--mtu", "1400"});
  ASSERT_EQ(up.status, 0) << up.err;
  const RunResult addr = run({"ip", "-o", "-4", "addr", "show", "dev", "synack0"}, name);
  EXPECT_NE(addr.out.find("198.19.7.1/24"), std::string::npos) << addr.out;
  const RunResult link_info = run({"ip", "-o", "link", "show", "dev", "synack0"}, name);
  EXPECT_NE(link_info.out.find("mtu 1400"), std::string::npos) << link_info.out;
  EXPECT_NE(link_info.out.find(",UP"), std::string::npos) << link_info.out;
  EXPECT_EQ(run({synack_tool(), "netns", "down", name}).status, 0);
  EXPECT_FALSE(link::netns_exists(name));
}

}  // namespace
}  // namespace synack::interop
