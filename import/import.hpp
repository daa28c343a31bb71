// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "device.hpp"
#include "dmabuf_attributes.hpp"
#include "dmabuf_id.hpp"
#include "framebuffer.hpp"
#include "handle_table.hpp"
#include "implicit_layout.hpp"
#include "mapping.hpp"
#include "result.hpp"
#include "unique_fd.hpp"

/*
 * DOC: the import subsystem, overview and lifetime rules
 *
 * A client's dma-buf buffer is described by dmabuf_attributes (format,
 * modifier, size, and per plane: fd, offset, stride). Its *layout key* is the
 * same without the fds, each fd replaced by its dma-buf's identity
 * (st_dev, st_ino). Two wl_buffers with the same key, from one client or two,
 * are the same buffer to wlprime: they share one dmabuf_import.
 *
 * Who holds what:
 *  - An dmabuf_import owns one fd per distinct dma-buf of its planes (so the identity
 *    in its key cannot be reused while the dmabuf_import exists) and, per device it
 *    was imported into, one counted gem_ref per distinct dma-buf — or the
 *    reason the import into that device failed (the negative cache).
 *  - Users (wl_buffers, the renderer, a scanout) hold ImportRefs. The
 *    import_cache owns every dmabuf_import. When the last import_ref goes, the dmabuf_import
 *    becomes idle: it stays cached, so a re-created wl_buffer costs nothing,
 *    until it is evicted — least recently used first, when the idle set
 *    exceeds its bounds or ages out. Eviction closes the fds and drops the
 *    GemRefs; the last gem_ref of a handle closes the handle.
 *  - A cache lookup never returns an dmabuf_import that is being freed: eviction
 *    removes the dmabuf_import from the lookup structure before freeing it, and an
 *    idle dmabuf_import found by a lookup is revived (taken off the idle list) in
 *    the same step. Single-threaded, so there is no window between the two.
 *  - Devices outlive the import_cache and every import_ref.
 *  - Per device, an Import also keeps the KMS framebuffer made from its
 *    handles (framebuffer_on(), see framebuffer.hpp), or why ADDFB2 failed.
 *    The framebuffer goes with the Import, before its handles. A
 *    device_import lives at one address for the Import's whole life.
 *  - CPU reads and framebuffers are refused once, with the reason kept on
 *    the Import, when the layout is not one wlprime can read: a tiled
 *    modifier, an implicit modifier whose exporter's layout is not linear
 *    (implicit_layout.hpp), or geometry outside a dma-buf.
 *
 * Threading: import_cache, dmabuf_import and import_ref belong to one thread (the
 * compositor's). handle_table, underneath, is thread-safe.
 */

namespace wlprime {

class import_cache;

/*
 * Something a user keeps with an Import for as long as the Import is in use:
 * the compositor's converted picture of a YUV buffer (render/cpu_image.hpp).
 * The import library knows nothing of what it is; it owns it and frees it
 * when the Import goes idle (its last import_ref goes), so an idle Import
 * in the cache costs no more than its fds and handles, and a revived one
 * starts without it — or, set as the Import's lasting attachment, when the
 * Import itself is freed.
 */
class import_attachment {
public:
	virtual ~import_attachment() = default;
};

struct plane_key {
	dmabuf_id id;
	uint32_t offset = 0;
	uint32_t stride = 0;
	bool operator==(const plane_key &) const = default;
};

// What makes two buffers the same import. Holds no fds.
struct import_key {
	uint32_t format = 0;
	uint64_t modifier = 0;
	int32_t width = 0;
	int32_t height = 0;
	uint32_t flags = 0;
	uint32_t n_planes = 0;
	std::array<plane_key, max_dmabuf_planes> planes{};
	bool operator==(const import_key &) const = default;
};

struct import_key_hash {
	size_t operator()(const import_key &key) const noexcept;
};

/*
 * Can a display device scan an Import out? One verdict per (Import, device),
 * kept with the device_import beside its import and framebuffer results and
 * read by everyone who asks (the KMS backend, the copy path, the debug dump):
 * nobody keeps a second list. The import and framebuffer failures are the
 * device_import's own (cached there, see on_device() and framebuffer_on());
 * the display's own answer is recorded by the KMS backend
 * (dmabuf_import::record_scanout()): a refusal — its plane refused the
 * framebuffer in an atomic TEST_ONLY commit (or a real commit with EINVAL or
 * ERANGE), or the Import has a layout the plane cannot show — is kept with
 * its errno and message and not asked again; a pass is kept until a later
 * refusal replaces it (a direct-scanout frame is still tested each time).
 */
enum class scanout_state : uint8_t {
	unknown,            // not asked yet, or asked when it could not be answered
	import_failed,      // no handles on the device (device_import::err())
	framebuffer_failed, // no framebuffer (device_import::fb_err())
	refused,            // the display refused its framebuffer (TEST_ONLY)
	scans_out,          // the display took it (a TEST_ONLY commit passed)
};

struct scanout_verdict {
	scanout_state state = scanout_state::unknown;
	int errnum = 0;      // the failures (0 if the display gave none)
	std::string message; // the failures: names the Import and the device
	bool failed() const {
		return state != scanout_state::unknown && state != scanout_state::scans_out;
	}
};

// What one device made of an dmabuf_import: handles, or the reason it could not.
class device_import {
public:
	wlprime::device &device() const { return *device_; }
	bool ok() const { return error_.errnum == 0 && error_.message.empty(); }
	// Valid when !ok(): errno and a message naming device and dma-buf.
	const error &err() const { return error_; }
	// The GEM handle of plane i on this device (0 if !ok()).
	uint32_t handle(uint32_t plane) const;

	// The framebuffer made by dmabuf_import::framebuffer_on(): its id, 0 if
	// it was not attempted or failed.
	uint32_t fb_id() const { return fb_.id(); }
	bool fb_attempted() const { return fb_attempted_; }
	// Valid when fb_attempted() and !fb_id(): why there is none (the import's
	// own error if the import failed), errno included.
	const error &fb_err() const { return fb_error_; }

	// Whether the device can scan the Import out, as far as it is known:
	// the import's failure, else the framebuffer's, else what the display
	// said (record_scanout()). No ioctl.
	scanout_verdict scanout() const;

private:
	friend class dmabuf_import;
	wlprime::device *device_ = nullptr;
	std::array<gem_ref, max_dmabuf_planes> refs_; // per distinct dma-buf
	std::array<uint8_t, max_dmabuf_planes> plane_buffer_{};
	error error_;
	// After refs_: destroyed first, so the framebuffer goes before the
	// handles it was made from.
	framebuffer fb_;
	error fb_error_;
	bool fb_attempted_ = false;
	scanout_verdict display_; // unknown, refused or scans_out
};

/*
 * One imported buffer layout. Created and freed only by import_cache; held by
 * users through import_ref.
 */
class dmabuf_import {
public:
	dmabuf_import(const dmabuf_import &) = delete;
	dmabuf_import &operator=(const dmabuf_import &) = delete;

	const import_key &key() const { return key_; }
	// A serial number, unique in the cache's life: how logs name the dmabuf_import.
	uint64_t serial() const { return serial_; }
	// Plane i's dma-buf fd, borrowed, valid for the dmabuf_import's life.
	int plane_fd(uint32_t plane) const { return buffers_[plane_buffer_[plane]].get(); }
	// Number of distinct dma-bufs behind the planes (1 for NV12 on one BO).
	uint32_t buffer_count() const { return n_buffers_; }
	// Sum of the sizes of the distinct dma-bufs.
	uint64_t bytes() const { return bytes_; }
	uint32_t users() const { return users_; }

	/*
	 * The import into `device`: done on first use (one PRIME_FD_TO_HANDLE
	 * per distinct dma-buf, none if the handle table already holds it),
	 * then cached with the dmabuf_import, a failure included. The reference is
	 * valid while the dmabuf_import lives. Failures are logged once, here.
	 */
	const device_import &on_device(device &device);
	// The import into `device` if it was attempted, else nullptr. No ioctl.
	const device_import *find_device(const device &device) const;

	/*
	 * The KMS framebuffer of this Import on `device` (a display device):
	 * imports into the device if needed (on_device()), then one ADDFB2 on
	 * first use, with modifiers when the device takes them and the modifier
	 * is explicit. The framebuffer, or the reason there is none, is cached
	 * in the device_import: later calls cost no ioctl and a failure is not
	 * retried. Failures are logged once, here. The framebuffer lives as
	 * long as the Import: keep an import_ref while it is on screen.
	 */
	const device_import &framebuffer_on(device &device);
	/*
	 * Records the display's answer for this Import on `device` (the KMS
	 * backend, after an atomic TEST_ONLY commit): null for "it scans out",
	 * else the refusal, errno and message (naming Import, device, plane),
	 * kept and not asked again. No-op if the Import was never imported
	 * into `device`. Not logged here: the caller logs it.
	 */
	void record_scanout(const device &device, const error *refusal);
	// Every device_import, in the order they were made. Elements never move.
	const std::deque<device_import> &devices() const { return devices_; }

	// For DRM_FORMAT_MOD_INVALID: what is known of the layout (read once,
	// from the first plane's exporter); null for an explicit modifier.
	const implicit_layout *implicit() const;

	/*
	 * CPU access for composition: the start of plane `plane` in a read-only
	 * mapping of its dma-buf, made on first use and kept with the Import
	 * (unmapped when it is freed). Reads go between begin_read() and
	 * end_read(), which sync every dma-buf of the Import. Refused (and
	 * the reason kept, logged once) unless the layout is linear and each
	 * plane of the format lies inside its mapping; a caller may then read
	 * plane_rows() rows of plane_bytes_per_row() bytes, `stride` apart.
	 */
	result<const uint8_t *> map_plane(uint32_t plane);
	// Why CPU reads are refused; null if they are not (or not tried yet).
	const error *cpu_error() const { return cpu_error_ ? &*cpu_error_ : nullptr; }
	status begin_read();
	status end_read();
	// Number of dma-bufs of this Import that are mapped now.
	uint32_t mapped_count() const;

	// The attachment (see import_attachment), null if none; owned by the
	// Import, freed when it goes idle. One per Import: its single user is
	// the CPU picture, render/cpu_image.
	import_attachment *attachment() const { return attachment_.get(); }
	void set_attachment(std::unique_ptr<import_attachment> attachment) {
		attachment_ = std::move(attachment);
	}
	// The lasting attachment: kept for the Import's whole life, idle
	// included, and freed with it (evicted, or its cache gone). For what
	// must be made once per Import, not once per use: the GPU renderer's
	// texture (render/gles2_renderer). Freed before the Import's fds close.
	import_attachment *lasting_attachment() const { return lasting_.get(); }
	void set_lasting_attachment(std::unique_ptr<import_attachment> attachment) {
		lasting_ = std::move(attachment);
	}

private:
	friend class import_cache;
	friend class import_ref;
	dmabuf_import(import_cache *cache, uint64_t serial, import_key key);
	~dmabuf_import();
	// Records a framebuffer failure on d (counted, logged, told): why and
	// errno. Returns d.
	const device_import &fb_failed(device_import &d, const std::string &why, int errnum);
	device_import &import_into(device &device);
	const dmabuf_id &buffer_id(uint32_t buffer) const;
	std::optional<error> check_cpu_layout() const;

	import_cache *cache_; // null once the cache is gone (orphan)
	const uint64_t serial_;
	const import_key key_;
	std::array<unique_fd, max_dmabuf_planes> buffers_; // distinct dma-bufs
	std::array<uint64_t, max_dmabuf_planes> buffer_sizes_{};
	std::array<dmabuf_mapping, max_dmabuf_planes> mappings_; // by buffer
	std::array<uint8_t, max_dmabuf_planes> plane_buffer_{};
	uint8_t n_buffers_ = 0;
	uint32_t users_ = 0;
	uint64_t bytes_ = 0;
	// A deque: on_device() hands out references that must survive the
	// next device's import.
	std::deque<device_import> devices_;
	mutable std::optional<implicit_layout> implicit_; // resolved on first use
	std::optional<error> cpu_error_;                  // set by the first refused map_plane()
	// After mappings_: freed before them (it may hold pointers into them).
	std::unique_ptr<import_attachment> attachment_;
	std::unique_ptr<import_attachment> lasting_; // after buffers_: freed first

	// Idle list (LRU), owned by the cache.
	dmabuf_import *idle_prev_ = nullptr;
	dmabuf_import *idle_next_ = nullptr;
	std::chrono::steady_clock::time_point idle_since_{};
};

/*
 * A counted reference to an dmabuf_import. Copying takes a new reference; the last
 * one to go makes the dmabuf_import idle in its cache.
 */
class import_ref {
public:
	import_ref() = default;
	~import_ref() { reset(); }
	import_ref(const import_ref &other);
	import_ref &operator=(const import_ref &other);
	import_ref(import_ref &&other) noexcept : import_(std::exchange(other.import_, nullptr)) {}
	import_ref &operator=(import_ref &&other) noexcept;

	dmabuf_import *get() const { return import_; }
	dmabuf_import *operator->() const { return import_; }
	dmabuf_import &operator*() const { return *import_; }
	explicit operator bool() const { return import_ != nullptr; }
	void reset();

private:
	friend class import_cache;
	explicit import_ref(dmabuf_import *import); // takes a new reference

	dmabuf_import *import_ = nullptr;
};

} // namespace wlprime
