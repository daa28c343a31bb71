// Benchmarks of the CPU path's conversions (render/cpu_picture.hpp): what a
// YUV frame costs composition, per frame, at 1280x720 and 1920x1080.
//  - BM_YuvToXrgb: libyuv itself, NV12 / YUV420 / YUYV, whole frames;
//  - BM_Nv12CommitWholeFrame: a commit of a new frame as wlprime does it
//    (damage everything, read the Import: DMA_BUF_IOCTL_SYNC around the
//    conversion), on a dma-buf of the kernel model;
//  - BM_Nv12CommitDamagedRows: the same with 64 damaged rows.
// Run: build/tests/bench/cpu-bench
#include <benchmark/benchmark.h>
#include <drm_fourcc.h>
#include <fcntl.h>
#include <vector>

#include "formats.hpp"
#include "import_cache.hpp"
#include "kernel_model.hpp"
#include "render/cpu_picture.hpp"
#include "render/yuv_convert.hpp"

using namespace wlprime;

namespace {

void BM_YuvToXrgb(benchmark::State &state, uint32_t fourcc) {
	const uint32_t w = uint32_t(state.range(0)), h = uint32_t(state.range(1));
	const format_info &info = *lookup_format(fourcc);
	std::vector<std::vector<uint8_t>> planes;
	yuv_planes src;
	for (uint32_t p = 0; p < info.planes; p++) {
		src.stride[p] = uint32_t(plane_bytes_per_row(info, p, w));
		planes.emplace_back(size_t(src.stride[p]) * plane_rows(info, p, h),
		                    uint8_t(100 + p));
		src.data[p] = planes.back().data();
	}
	std::vector<uint8_t> dst(size_t(w) * 4 * h);
	for (auto _ : state) {
		if (!yuv_to_xrgb8888(fourcc, src, dst.data(), w * 4, w, h))
			state.SkipWithError("conversion failed");
		benchmark::DoNotOptimize(dst.data());
	}
	state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(dst.size()));
	state.counters["frames/s"] =
	    benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

// One NV12 buffer of the model on one dma-buf, imported, its picture made.
struct Nv12Import {
	test::kernel_model model;
	unique_fd buf;
	import_cache cache;
	import_ref ref;

	Nv12Import(uint32_t w, uint32_t h) {
		buf = model.create_foreign_dmabuf(uint64_t(w) * h * 3 / 2);
		dmabuf_attributes a;
		a.width = int32_t(w), a.height = int32_t(h);
		a.format = DRM_FORMAT_NV12;
		a.modifier = DRM_FORMAT_MOD_LINEAR;
		a.n_planes = 2;
		a.planes[0] = {unique_fd(fcntl(buf.get(), F_DUPFD_CLOEXEC, 0)), 0, w};
		a.planes[1] = {unique_fd(fcntl(buf.get(), F_DUPFD_CLOEXEC, 0)), w * h, w};
		ref = std::move(*cache.acquire(std::move(a)));
		read();
		cpu_picture_damage_all(*ref); // (the commit that made it)
	}
	bool read() {
		auto v = begin_cpu_read(*ref);
		if (!v)
			return false;
		benchmark::DoNotOptimize(v->data);
		return bool(end_cpu_read(*ref, *v));
	}
};

void BM_Nv12CommitWholeFrame(benchmark::State &state) {
	Nv12Import imp(uint32_t(state.range(0)), uint32_t(state.range(1)));
	for (auto _ : state) {
		cpu_picture_damage_all(*imp.ref);
		if (!imp.read())
			state.SkipWithError("read failed");
	}
	state.counters["frames/s"] =
	    benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Nv12CommitDamagedRows(benchmark::State &state) {
	Nv12Import imp(uint32_t(state.range(0)), uint32_t(state.range(1)));
	for (auto _ : state) {
		cpu_picture_damage(*imp.ref, 100, 164);
		if (!imp.read())
			state.SkipWithError("read failed");
	}
	state.counters["rows/frame"] =
	    double(cpu_picture_stats_of(*imp.ref).rows_converted) / double(state.iterations() + 1);
}

} // namespace

BENCHMARK_CAPTURE(BM_YuvToXrgb, NV12, DRM_FORMAT_NV12)->Args({1280, 720})->Args({1920, 1080});
BENCHMARK_CAPTURE(BM_YuvToXrgb, YUV420, DRM_FORMAT_YUV420)->Args({1280, 720})->Args({1920, 1080});
BENCHMARK_CAPTURE(BM_YuvToXrgb, YUYV, DRM_FORMAT_YUYV)->Args({1280, 720})->Args({1920, 1080});
BENCHMARK(BM_Nv12CommitWholeFrame)->Args({1280, 720})->Args({1920, 1080});
BENCHMARK(BM_Nv12CommitDamagedRows)->Args({1920, 1080});

BENCHMARK_MAIN();
