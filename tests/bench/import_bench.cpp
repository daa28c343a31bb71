// SPDX-License-Identifier: MIT
// Benchmarks of the re-import cache against the kernel model: a hit, a miss
// (new dmabuf_import + import on a device), a release to idle and an eviction, and
// the memory an dmabuf_import costs beyond what the kernel holds. Run:
//   build/tests/bench/import-bench
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <new>
#include <vector>

#include "device.hpp"
#include "import_cache.hpp"
#include "kernel_model.hpp"

using namespace wlprime;

// Bytes allocated by this thread while counting is on. The model's own
// allocations stand for the kernel's memory and are not counted.
static thread_local bool counting = false;
static thread_local size_t counted_bytes = 0;

void *operator new(size_t size) {
	if (counting)
		counted_bytes += size;
	if (void *p = std::malloc(size ? size : 1))
		return p;
	throw std::bad_alloc();
}
void operator delete(void *p) noexcept {
	std::free(p);
}
void operator delete(void *p, size_t) noexcept {
	std::free(p);
}

namespace {

// Forwards to the model with counting off: the kernel's memory is not ours.
class uncounted_kernel final : public kernel_api {
public:
	explicit uncounted_kernel(kernel_api &inner) : inner_(inner) {}
	struct Pause {
		bool was = std::exchange(counting, false);
		~Pause() { counting = was; }
	};
	result<unique_fd> open_node(const std::string &p) override { return inner_.open_node(p); }
	result<std::string> node_path(int fd) override { return inner_.node_path(fd); }
	result<device_info> describe(int fd) override { return inner_.describe(fd); }
	int prime_fd_to_handle(int d, int f, uint32_t *h) override {
		Pause p;
		return inner_.prime_fd_to_handle(d, f, h);
	}
	int prime_handle_to_fd(int d, uint32_t h, uint32_t fl, int *f) override {
		Pause p;
		return inner_.prime_handle_to_fd(d, h, fl, f);
	}
	int gem_close(int d, uint32_t h) override {
		Pause p;
		return inner_.gem_close(d, h);
	}
	int add_fb2(int d, const fb_request &r, uint32_t *id) override {
		Pause p;
		return inner_.add_fb2(d, r, id);
	}
	int remove_fb(int d, uint32_t id) override {
		Pause p;
		return inner_.remove_fb(d, id);
	}
	result<std::string> dmabuf_exporter(int fd) override { return inner_.dmabuf_exporter(fd); }

	int atomic_commit(int d, const atomic_request &r, uint32_t fl, void *u) override {
		Pause p;
		return inner_.atomic_commit(d, r, fl, u);
	}
	int create_dumb(int d, uint32_t w, uint32_t h, uint32_t bpp, dumb_buffer *out) override {
		Pause p;
		return inner_.create_dumb(d, w, h, bpp, out);
	}
	int map_dumb(int d, uint32_t h, uint64_t size, int prot, void **data) override {
		Pause p;
		return inner_.map_dumb(d, h, size, prot, data);
	}
	int destroy_dumb(int d, uint32_t h) override {
		Pause p;
		return inner_.destroy_dumb(d, h);
	}

private:
	kernel_api &inner_;
};

struct World {
	test::kernel_model model;
	uncounted_kernel kernel{model};
	std::unique_ptr<wlprime::device> device;

	World() {
		model.add_node("/model/dri/renderD128", "vgem", node_type::render, 0xe280);
		device = std::move(*device::open(kernel, "/model/dri/renderD128"));
	}
	unique_fd dmabuf() { return model.create_foreign_dmabuf(64 * 256); }
};

dmabuf_attributes xrgb(int fd) {
	dmabuf_attributes a;
	a.width = 64;
	a.height = 64;
	a.format = DRM_FORMAT_XRGB8888;
	a.modifier = DRM_FORMAT_MOD_LINEAR;
	a.n_planes = 1;
	a.planes[0] = {unique_fd(fcntl(fd, F_DUPFD_CLOEXEC, 0)), 0, 256};
	return a;
}

// The hit itself: hash, compare, take and drop a reference. This is what a
// re-created wl_buffer costs once its fds are fstat()ed.
void BM_CacheLookupHit(benchmark::State &state) {
	World w;
	import_cache cache;
	unique_fd buf = w.dmabuf();
	import_ref held = *cache.acquire(xrgb(buf.get()));
	held->on_device(*w.device);
	const import_key key = *layout_key(xrgb(buf.get()));
	for (auto _ : state) {
		import_ref ref = cache.lookup(key);
		benchmark::DoNotOptimize(ref.get());
	}
}
BENCHMARK(BM_CacheLookupHit);

// A hit through the whole acquire(): fstat of the plane fd included (the fd
// itself is made outside the timed region's cost only in spirit: dup+close
// are part of the loop, and shown separately below).
void BM_AcquireHitWithFstat(benchmark::State &state) {
	World w;
	import_cache cache;
	unique_fd buf = w.dmabuf();
	import_ref held = *cache.acquire(xrgb(buf.get()));
	for (auto _ : state) {
		auto ref = cache.acquire(xrgb(buf.get()));
		benchmark::DoNotOptimize(ref.ok());
	}
}
BENCHMARK(BM_AcquireHitWithFstat);

// The dup+close that BM_AcquireHitWithFstat's loop includes, alone.
void BM_DupCloseBaseline(benchmark::State &state) {
	World w;
	unique_fd buf = w.dmabuf();
	for (auto _ : state) {
		dmabuf_attributes a = xrgb(buf.get());
		benchmark::DoNotOptimize(a.planes[0].fd.get());
	}
}
BENCHMARK(BM_DupCloseBaseline);

// A miss: new dmabuf_import, import on the device (one modelled FD_TO_HANDLE),
// release, eviction (GEM_CLOSE) — the full life of an dmabuf_import.
void BM_MissImportReleaseEvict(benchmark::State &state) {
	World w;
	import_cache cache(cache_limits{0, 0});
	unique_fd buf = w.dmabuf();
	for (auto _ : state) {
		import_ref ref = *cache.acquire(xrgb(buf.get()));
		benchmark::DoNotOptimize(ref->on_device(*w.device).ok());
	}
	state.counters["evictions"] = static_cast<double>(cache.stats().evictions);
}
BENCHMARK(BM_MissImportReleaseEvict);

// Release of the last user to the idle list and revival by a hit.
void BM_ReleaseToIdleAndRevive(benchmark::State &state) {
	World w;
	import_cache cache;
	unique_fd buf = w.dmabuf();
	const import_key key = *layout_key(xrgb(buf.get()));
	cache.acquire(xrgb(buf.get()))->reset();
	for (auto _ : state) {
		import_ref ref = cache.lookup(key); // revives from idle
		ref.reset();                        // back to idle
	}
}
BENCHMARK(BM_ReleaseToIdleAndRevive);

// Memory: bytes the library allocates per live dmabuf_import, imported on one
// device, with the cache's own structures (hash set node, buckets) included
// and the kernel's (the model's) excluded.
void BM_MemoryPerImport(benchmark::State &state) {
	const int n = static_cast<int>(state.range(0));
	double per_import = 0;
	for (auto _ : state) {
		World w;
		std::vector<unique_fd> bufs;
		for (int i = 0; i < n; i++)
			bufs.push_back(w.dmabuf());
		std::vector<import_ref> refs;
		refs.reserve(n);
		import_cache cache;
		counted_bytes = 0;
		counting = true;
		for (int i = 0; i < n; i++) {
			dmabuf_attributes a = xrgb(bufs[i].get());
			counting = false; // the attribs are the caller's
			auto ref = cache.acquire(std::move(a));
			counting = true;
			(*ref)->on_device(*w.device);
			refs.push_back(std::move(*ref));
		}
		counting = false;
		per_import = double(counted_bytes) / n;
	}
	state.counters["bytes_per_import"] = per_import;
}
BENCHMARK(BM_MemoryPerImport)->Arg(1000)->Iterations(1);

} // namespace

BENCHMARK_MAIN();
