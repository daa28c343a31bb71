// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>

namespace wlprime {

class dmabuf_import;
class device;

/*
 * What happens to Imports, for whoever watches (the compositor's --trace and
 * debug tool). Emitted by the import_cache and its Imports, on their thread,
 * after the fact; the observer must not call back into the cache.
 */
enum class import_event_kind {
	created,       // a cache miss made a new Import
	hit,           // a lookup found it (no ioctl)
	imported,      // imported into a device: handles held
	import_failed, // the import into a device failed (now a negative entry)
	negative_hit,  // a cached failure answered again (no ioctl)
	fb_created,    // ADDFB2 on a device
	fb_failed,     // ADDFB2 failed (cached)
	fb_removed,    // the framebuffer went with its Import
	mapped,        // a dma-buf of the Import was mmap()ed for CPU reads
	idle,          // its last user let go: kept for re-use
	evicted,       // freed: handles closed, fds closed, unmapped
};
const char *to_string(import_event_kind kind);

struct import_event {
	import_event_kind kind;
	const dmabuf_import &import;
	const device *dev = nullptr;   // for the per-device kinds
	uint32_t fb_id = 0;            // fb_created, fb_removed
	int errnum = 0;                // the failures
	const char *message = nullptr; // the failures: the error message
};

using import_observer = std::function<void(const import_event &)>;

} // namespace wlprime
