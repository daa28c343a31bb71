// The Import of a wlr_buffer, attached to it (render/buffer_import.hpp):
// "attach, don't look up". A headless wlprime on the kernel model with a
// dmabuf client, in-process.
//
// Regression (issue 12 item 4): direct scanout rebuilt a layout key from
// wlr_buffer_get_dmabuf() (which has no flags), fstat()ed every plane and
// looked the Import up in the re-import cache: a buffer with flags
// (y_invert) missed and got a second Import and framebuffer, and every
// lookup counted as a cache hit. import_of() returns the wl_buffer's own
// Import and costs nothing.

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include "compositor/dmabuf_buffer.hpp"
#include "compositor/server.hpp"
#include "compositor/view.hpp"
#include "import/dmabuf_attributes.hpp"
#include "import/import_cache.hpp"
#include "render/buffer_import.hpp"
#include "render/memory_buffer.hpp"
#include "tests/clients/dmabuf_client.hpp"
#include "tests/compositor/harness.hpp"
#include "tests/compositor/model_fixture.hpp"
#include "tests/unit/kernel_model.hpp"

namespace wlprime {
namespace {

using namespace clients;

class BufferImportTest : public ModelHarnessTest {
protected:
	// A client with `buffers` wl_buffers made once, with `flags`, run to its end.
	std::unique_ptr<dmabuf_client> run_client(uint32_t flags, int buffers) {
		dmabuf_client_options opts;
		opts.allocator = model_allocator();
		opts.flags = flags;
		opts.buffers = buffers;
		opts.frames = buffers;
		std::string err;
		auto client = dmabuf_client::connect(h_->socket().c_str(), opts, &err);
		EXPECT_NE(client, nullptr) << err;
		if (client == nullptr) {
			return nullptr;
		}
		h_->attach(client->display());
		EXPECT_TRUE(h_->run_until([&] { return client->finished(); }));
		EXPECT_EQ(client->failure(), "");
		return client;
	}
};

TEST_F(BufferImportTest, ImportOfIsTheWlBuffersOwnImportFlagsIncludedAtNoCost) {
	auto client = run_client(dmabuf_flag_y_invert, 3);
	ASSERT_NE(client, nullptr);
	import_cache &cache = srv().context()->cache();
	ASSERT_EQ(srv().context()->buffers().buffers.size(), 3u);
	const cache_stats before = cache.stats();
	const size_t imports_before = cache.size();
	const ioctl_counts ioctls_before = srv().context()->counts().counts();

	for (dmabuf_buffer *b : srv().context()->buffers().buffers) {
		for (int frame = 0; frame < 10; frame++) { // direct scanout asks every frame
			dmabuf_import *found = import_of(b->base());
			ASSERT_EQ(found, &b->import())
			    << "import_of() must be the wl_buffer's Import";
			EXPECT_EQ(found->key().flags, uint32_t(dmabuf_flag_y_invert));
			EXPECT_EQ(import_ref_of(b->base()).get(), &b->import());
		}
	}
	// What the scene scans out: the surface's wlr_client_buffer, which wraps
	// the wl_buffer's wlr_buffer.
	ASSERT_FALSE(srv().views().empty());
	wlr_surface *surface = srv().views().front()->surface();
	ASSERT_NE(surface->buffer, nullptr);
	wlr_buffer *shown = &surface->buffer->base;
	dmabuf_buffer *source = dmabuf_buffer::from_wlr_buffer(surface->buffer->source);
	ASSERT_NE(source, nullptr);
	EXPECT_EQ(import_of(shown), &source->import()) << "through the client buffer";

	EXPECT_EQ(cache.size(), imports_before) << "no second Import per wl_buffer";
	EXPECT_EQ(cache.stats().hits, before.hits) << "no cache lookup";
	EXPECT_EQ(cache.stats().misses, before.misses) << "no cache acquire";
	EXPECT_EQ(srv().context()->counts().counts() - ioctls_before, ioctl_counts{});

	// Why a lookup by the layout that wlr_buffer_get_dmabuf() describes was
	// wrong: it has no flags, so it is another key, a miss.
	dmabuf_buffer *b = *srv().context()->buffers().buffers.begin();
	import_key without_flags = b->import().key();
	without_flags.flags = 0;
	EXPECT_FALSE(cache.lookup(without_flags)) << "the layout without flags is not this Import";
}

TEST_F(BufferImportTest, ABufferWithoutAnAttachedImportIsNoDmabuf) {
	memory_buffer *mem = memory_buffer::create(16, 16);
	ASSERT_NE(mem, nullptr);
	EXPECT_EQ(import_of(mem->base()), nullptr);
	EXPECT_FALSE(import_ref_of(mem->base()));
	EXPECT_EQ(import_of(nullptr), nullptr);
	wlr_buffer_drop(mem->base());
}

TEST_F(BufferImportTest, TheAttachedReferenceLivesAsLongAsTheBuffer) {
	auto client = run_client(0, 1);
	ASSERT_NE(client, nullptr);
	dmabuf_buffer *b = *srv().context()->buffers().buffers.begin();
	dmabuf_import &import = b->import();
	const uint32_t users = import.users();

	memory_buffer *mem = memory_buffer::create(16, 16);
	ASSERT_NE(mem, nullptr);
	attach_import(mem->base(), import_ref_of(b->base()));
	EXPECT_EQ(import_of(mem->base()), &import);
	EXPECT_EQ(import.users(), users + 1) << "the addon holds a reference";
	attach_import(mem->base(), import_ref_of(b->base())); // replaces, one addon
	EXPECT_EQ(import.users(), users + 1);
	wlr_buffer_drop(mem->base()); // destroys the buffer and its addon
	EXPECT_EQ(import.users(), users) << "the reference went with the buffer";
}

} // namespace
} // namespace wlprime
