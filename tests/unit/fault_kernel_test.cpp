// fault_kernel: rules parsed, and calls failed exactly as the rules say,
// against the kernel model.

#include <cerrno>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "import/fault_kernel.hpp"
#include "kernel_model.hpp"

namespace wlprime {
namespace {

TEST(FaultRules, Parse) {
	auto r =
	    parse_fault_rules("ADDFB2=EINVAL,PRIME_FD_TO_HANDLE@/dev/dri/card2:foreign=EOPNOTSUPP,"
	                      "ATOMIC_COMMIT#3=16");
	ASSERT_TRUE(r) << r.err().message;
	ASSERT_EQ(r->size(), 3u);
	EXPECT_EQ((*r)[0].call, "ADDFB2");
	EXPECT_EQ((*r)[0].errnum, EINVAL);
	EXPECT_TRUE((*r)[0].node.empty());
	EXPECT_EQ((*r)[1].node, "/dev/dri/card2");
	EXPECT_TRUE((*r)[1].foreign);
	EXPECT_EQ((*r)[1].errnum, EOPNOTSUPP);
	EXPECT_EQ((*r)[2].nth, 3u);
	EXPECT_EQ((*r)[2].errnum, EBUSY);
}

TEST(FaultRules, RefusesWhatIsNotARule) {
	for (const char *bad :
	     {"ADDFB2", "ADDFB3=EINVAL", "ADDFB2=ENOTANERRNO", "ADDFB2#0=EINVAL",
	      "ADDFB2:foreign=EINVAL", "PRIME_FD_TO_HANDLE:foreign=EINVAL", "GEM_CLOSE@=EINVAL"})
		EXPECT_FALSE(parse_fault_rules(bad)) << bad;
	EXPECT_TRUE(parse_fault_rules(""));
}

class FaultKernel : public ::testing::Test {
protected:
	void SetUp() override {
		model_.add_node("/model/card0", "vgem", node_type::primary, makedev(226, 0));
		model_.add_node("/model/card2", "cirrus", node_type::primary, makedev(226, 2));
	}
	fault_kernel with(const char *spec) {
		auto rules = parse_fault_rules(spec);
		EXPECT_TRUE(rules);
		return fault_kernel(model_, std::move(*rules));
	}
	test::kernel_model model_;
};

TEST_F(FaultKernel, ForeignRefusesOnlyWhatTheNodeDidNotExport) {
	fault_kernel k = with("PRIME_FD_TO_HANDLE@/model/card2:foreign=EOPNOTSUPP");
	auto card0 = k.open_node("/model/card0");
	auto card2 = k.open_node("/model/card2");
	auto card2_alloc = k.open_node("/model/card2");
	ASSERT_TRUE(card0 && card2 && card2_alloc);
	uint32_t bo0 = 0, bo2 = 0, h = 0;
	ASSERT_EQ(model_.create_bo(card0->get(), 4096, &bo0), 0);
	ASSERT_EQ(model_.create_bo(card2_alloc->get(), 4096, &bo2), 0);
	int fd0 = -1, fd2 = -1;
	ASSERT_EQ(k.prime_handle_to_fd(card0->get(), bo0, 0, &fd0), 0);
	ASSERT_EQ(k.prime_handle_to_fd(card2_alloc->get(), bo2, 0, &fd2), 0);
	unique_fd own0(fd0), own2(fd2);
	// card2's own buffer (another description of the same node): imported.
	EXPECT_EQ(k.prime_fd_to_handle(card2->get(), fd2, &h), 0);
	// vgem's, and a udmabuf: refused on card2, taken by card0.
	EXPECT_EQ(k.prime_fd_to_handle(card2->get(), fd0, &h), EOPNOTSUPP);
	unique_fd foreign = model_.create_foreign_dmabuf(4096);
	EXPECT_EQ(k.prime_fd_to_handle(card2->get(), foreign.get(), &h), EOPNOTSUPP);
	EXPECT_EQ(k.prime_fd_to_handle(card0->get(), fd0, &h), 0);
	EXPECT_EQ(k.rules()[0].injected, 2u);
}

TEST_F(FaultKernel, NthCallOnly) {
	fault_kernel k = with("CREATE_DUMB#2=ENOMEM");
	auto card0 = k.open_node("/model/card0");
	ASSERT_TRUE(card0);
	dumb_buffer d{};
	EXPECT_EQ(k.create_dumb(card0->get(), 64, 64, 32, &d), 0);
	EXPECT_EQ(k.create_dumb(card0->get(), 64, 64, 32, &d), ENOMEM);
	EXPECT_EQ(k.create_dumb(card0->get(), 64, 64, 32, &d), 0);
	EXPECT_EQ(k.rules()[0].matched, 3u);
	EXPECT_EQ(k.rules()[0].injected, 1u);
}

TEST_F(FaultKernel, NodeRestrictsTheRule) {
	fault_kernel k = with("CREATE_DUMB@/model/card2=ENOSPC");
	auto card0 = k.open_node("/model/card0");
	auto card2 = k.open_node("/model/card2");
	ASSERT_TRUE(card0 && card2);
	dumb_buffer d{};
	EXPECT_EQ(k.create_dumb(card0->get(), 64, 64, 32, &d), 0);
	EXPECT_EQ(k.create_dumb(card2->get(), 64, 64, 32, &d), ENOSPC);
}

} // namespace
} // namespace wlprime
