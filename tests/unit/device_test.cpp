// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include "dmabuf_id.hpp"
#include "import_fixture.hpp"

namespace wlprime::test {
namespace {

using DeviceTest = kernel_test;

TEST_F(DeviceTest, KnowsWhatItIs) {
	device &dev = open_device("vgem", node_type::render);
	EXPECT_EQ(dev.info().driver, "vgem");
	EXPECT_EQ(dev.info().node, node_type::render);
	EXPECT_EQ(dev.info().path, tk().node("vgem", node_type::render));
	EXPECT_TRUE(dev.info().prime_import);
	EXPECT_NE(dev.info().rdev, 0u);
	EXPECT_NE(dev.name().find("vgem"), std::string::npos);
	device &vkms = open_device("vkms", node_type::primary);
	EXPECT_EQ(vkms.info().driver, "vkms");
	EXPECT_EQ(vkms.info().node, node_type::primary);
}

TEST_F(DeviceTest, OpenFailsWithTheReason) {
	auto dev = device::open(*counting_, "/nonexistent/card9");
	ASSERT_FALSE(dev);
	EXPECT_EQ(dev.err().errnum, ENOENT);
	EXPECT_NE(dev.err().message.find("/nonexistent/card9"), std::string::npos);
}

// Re-opening another user's fd gives a file description of our own: handles
// made through it never touch the other user's (a GBM or wlroots fd).
TEST_F(DeviceTest, ReopenIsolatesHandlesFromTheOtherUser) {
	auto other = tk().kernel().open_node(tk().node("vgem", node_type::render));
	ASSERT_TRUE(other);
	auto dev = device::reopen(*counting_, other->get());
	ASSERT_TRUE(dev) << dev.err().message;
	unique_fd buf = new_dmabuf();
	uint32_t theirs = 0;
	ASSERT_EQ(tk().kernel().prime_fd_to_handle(other->get(), buf.get(), &theirs), 0);
	{
		auto ours = (*dev)->handles().import_dmabuf(buf.get(), *dmabuf_id_of(buf.get()));
		ASSERT_TRUE(ours);
	} // our last reference closes our handle...
	EXPECT_TRUE(handle_exists(other->get(), theirs)) << "...and not theirs";
	EXPECT_EQ(tk().kernel().gem_close(other->get(), theirs), 0);
}

} // namespace
} // namespace wlprime::test
