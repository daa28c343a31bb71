// cpu_picture.hpp: what pixman reads of an Import, in place or converted.
//
// The CPU path (wlroots' pixman renderer, through dmabuf_buffer's
// begin_data_ptr_access, and the multi-GPU copy after it) reads one picture
// per Import. For a `direct` format (render/cpu_format.hpp) it is the
// dma-buf's own mapping. For any other it is a picture converted into
// XRGB8888/ARGB8888 and kept with the Import (an import_attachment: freed
// when the Import goes idle), so a buffer shown on two outputs, or drawn
// again without a new commit, is converted once.
//
// Which rows are converted: a new picture converts everything (the first
// damage reported after it was made is in it already). After that,
// the compositor says what a commit changed (cpu_picture_damage*), from the
// surface's buffer damage, and only those rows are converted again, at the
// next read. wl_surface damage is relative to the surface's previous
// picture, so the compositor passes the rows only when the same Import was
// committed again on the same surface, and everything otherwise.
//
// Rows are those of the dma-buf, top to bottom in memory; a y-inverted
// buffer's picture is handed out bottom row first with a negative stride,
// as its mapping would be.

#pragma once

#include <cstddef>
#include <cstdint>

#include "import/import.hpp"

namespace wlprime {

struct cpu_view {
	const uint8_t *data = nullptr; // the first row shown
	uint32_t format = 0;           // a DRM format pixman_format_of() knows
	ptrdiff_t stride = 0;          // negative for a y-inverted buffer
	// The dma-buf's mapping itself: the read is bracketed
	// (dmabuf_import::begin_read) until end_cpu_read().
	bool in_place = false;
};

/*
 * Begins a read of import's picture: converts what changed since the last
 * read, or maps it. The view is valid until end_cpu_read(). The error
 * names the Import, the format and the reason; the caller logs it.
 */
result<cpu_view> begin_cpu_read(dmabuf_import &import);
// Ends a read begun by begin_cpu_read() (a no-op for a converted picture,
// whose dma-buf read ended with the conversion).
status end_cpu_read(dmabuf_import &import, const cpu_view &view);

// A commit changed rows [y0, y1) of the buffer as the surface shows it
// (top to bottom, buffer coordinates). No-op if import has no picture yet.
void cpu_picture_damage(dmabuf_import &import, int32_t y0, int32_t y1);
// A commit may have changed anything.
void cpu_picture_damage_all(dmabuf_import &import);

// Counters of one Import's picture, for the debug tool and the benchmark.
struct cpu_picture_stats {
	bool converted = false;      // the Import has a converted picture
	uint64_t conversions = 0;    // reads that converted rows
	uint64_t rows_converted = 0; // image rows converted, all reads
};
cpu_picture_stats cpu_picture_stats_of(const dmabuf_import &import);

} // namespace wlprime
