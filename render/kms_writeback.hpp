// kms_writeback.hpp: what a CRTC actually produced, read back through the
// display device's writeback connector (vkms has one; most GPUs do not).
//
// A writeback connector (DRM_MODE_CONNECTOR_WRITEBACK, visible only with
// DRM_CLIENT_CAP_WRITEBACK_CONNECTORS) is attached to a CRTC like any
// connector; an atomic commit that also sets its WRITEBACK_FB_ID makes the
// kernel write the CRTC's composed output of that commit into that
// framebuffer, and signal the sync_file it returns through
// WRITEBACK_OUT_FENCE_PTR when the pixels are there. The first commit that
// attaches the connector to the CRTC changes the CRTC's connectors: it needs
// DRM_MODE_ATOMIC_ALLOW_MODESET. The connector then stays attached (later
// captures need no modeset) until the CRTC is turned off, which must detach
// it (a CRTC without a mode may have no connector).
//
// A CRTC drives several connectors at once only if their encoders are clones
// of each other (possible_clones). vkms' writeback encoder is no clone of
// its Virtual encoder: there the capture commit drives the writeback
// connector alone (the output's connector is detached for that one frame:
// the CRTC, its mode and its planes stay as they are, and what the CRTC
// composes is what is written back), and the next commit of the CRTC puts
// the output's connector back and detaches the writeback connector (both
// modesets, ALLOW_MODESET). Where they are clones, the writeback connector
// simply rides along.
//
// How a capture goes: kms_output_capture() queues a request and asks wlroots
// for a frame; the KMS backend's next buffer commit of that CRTC calls arm(),
// which makes the target (a dumb buffer on a file description of its own of
// the display node, in one of WRITEBACK_PIXEL_FORMATS, the size of the mode,
// with its framebuffer; CREATE_DUMB, ADDFB2, MAP_DUMB through the device's
// kernel seam) and adds the writeback properties; committed() then watches
// the out-fence on the event loop (WL_EVENT_READABLE); when it signals, the
// pixels are copied into an image, the framebuffer, handle, mapping and file
// description are freed (once, here), and the requests' callbacks run.
// Nothing waits for the fence in the commit path: an output turned off while
// its CRTC's writeback is pending goes off when the fence signals
// (when_idle()); only the backend's destroy waits, bounded (drain()).
//
// Lifetime: owned by the KMS backend's device (null if the device has no
// writeback connector); the device (borrowed) and the event loop outlive it.
// Destroying it abandons a capture in flight: freed, logged, callbacks not
// called.

#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <vector>
#include <xf86drmMode.h>

#include "import/device.hpp"
#include "import/kernel.hpp"
#include "import/result.hpp"
#include "import/unique_fd.hpp"
#include "render/image.hpp"
#include "render/wlr.hpp"

namespace wlprime {

// Receives the capture (or why there is none). Called from the event loop.
using writeback_done = std::function<void(result<image>)>;

// Asks for the pixels of the next atomic commit of a KMS output, written by
// its display device's writeback connector. False (and `done` is not called)
// if output is not a KMS output or its device has no writeback connector that
// can follow its CRTC: the caller falls back to another way of capturing.
// Asks wlroots for that commit (and, after the capture, for the one that
// gives the CRTC back to the output's connector). Defined in kms_backend.cpp.
bool kms_output_capture(wlr_output *output, writeback_done done);

class kms_writeback {
public:
	// The writeback connector of dev (borrowed), or null if it has none or it
	// cannot be used (why is logged). Sets DRM_CLIENT_CAP_WRITEBACK_CONNECTORS
	// on dev's file description: after this, the device's connector list has
	// the writeback connector, which is no output.
	static std::unique_ptr<kms_writeback> create(device &dev, wl_event_loop *loop);
	~kms_writeback();

	kms_writeback(const kms_writeback &) = delete;
	kms_writeback &operator=(const kms_writeback &) = delete;

	// Whether the connector can be attached to the CRTC with that index.
	bool serves(int crtc_index) const { return (possible_crtcs_ >> crtc_index) & 1u; }

	// Queues a capture of crtc_id's next commit.
	void request(uint32_t crtc_id, writeback_done done);

	// The commit hook, for every buffer commit of an output (connector_id,
	// whose CRTC_ID property is connector_crtc_prop, on crtc_id, mode width x
	// height). If a capture of crtc_id is waiting, makes its target and adds
	// the writeback properties to req; if the previous capture left the CRTC
	// to the writeback connector alone, gives it back to connector_id
	// instead. Adds DRM_MODE_ATOMIC_ALLOW_MODESET to *flags when the routing
	// changes. Returns true if it added anything: then committed() must
	// follow. A waiting capture whose target cannot be made fails (its
	// callbacks run).
	bool arm(atomic_request &req, uint32_t crtc_id, uint32_t connector_id,
	         uint32_t connector_crtc_prop, int width, int height, uint32_t *flags);
	// After the commit that arm() prepared: err 0 (accepted: wait for the
	// out-fence) or its errno (the capture fails; the routing is unchanged).
	void committed(int err);

	// crtc_id goes off in req: detach the connector if it is attached there.
	// Never waits: turn a CRTC off only when !busy() (when_idle()).
	void detach(atomic_request &req, uint32_t crtc_id);

	// Whether crtc_id's next commit must carry a buffer for this (a capture
	// waits for it, or the CRTC's connector is to be given back).
	bool wants_commit(uint32_t crtc_id) const;

	// Whether a writeback of crtc_id is still being written (fence pending).
	bool busy(uint32_t crtc_id) const;
	// Runs fn (from the event loop) once no writeback of crtc_id is pending:
	// at once if none is, else after the out-fence of the last one signalled
	// and its capture's callbacks ran. Dropped unseen if the writeback is
	// destroyed first.
	void when_idle(uint32_t crtc_id, std::function<void()> fn);
	// Shutdown only: waits (at most 1 s each) for the pending out-fences, so
	// that the CRTCs can go off. The captures stay for the destructor.
	void drain();

private:
	struct target; // the framebuffer the connector writes into
	struct job {
		kms_writeback *owner = nullptr;
		uint32_t crtc_id = 0;
		std::vector<writeback_done> waiting;
		std::unique_ptr<target> buffer;
		int32_t out_fence = -1; // written by the kernel during the commit
		unique_fd fence;
		wl_event_source *source = nullptr; // watches fence
		job();
		~job();
		job(job &&) noexcept;
	};

	kms_writeback(device &dev, wl_event_loop *loop);
	// Whether the writeback encoder is a clone of connector_id's encoder (the
	// CRTC can drive both at once).
	bool clones_with(uint32_t connector_id) const;
	static void fail(job &j, const error &e);
	void run_idle(uint32_t crtc_id); // the when_idle() callbacks of crtc_id, if idle
	void finish(job &j);             // j's out-fence signalled
	static int handle_fence(int fd, uint32_t mask, void *data) noexcept;

	device &dev_;
	wl_event_loop *loop_;
	uint32_t connector_id_ = 0;
	uint32_t possible_crtcs_ = 0; // bit i: CRTC index i
	uint32_t encoder_index_ = 0;  // of the writeback encoder in the device's list
	uint32_t possible_clones_ = 0;
	uint32_t prop_crtc_id_ = 0, prop_fb_id_ = 0, prop_out_fence_ = 0;
	uint32_t format_ = 0;        // the target's pixel format (XRGB8888 or ARGB8888)
	uint32_t attached_crtc_ = 0; // the CRTC the connector is attached to, 0: none
	// The output connector a capture detached from its CRTC (writeback
	// connector alone on it), to be given back by the next commit.
	uint32_t detached_connector_ = 0, detached_crtc_ = 0;
	uint32_t detached_connector_prop_ = 0; // its CRTC_ID property
	// What the commit in flight (arm..committed) changes.
	struct routing {
		uint32_t attach_crtc = 0;      // the writeback connector attached to it
		uint32_t detach_connector = 0; // the output connector taken off
		uint32_t detach_connector_prop = 0;
		bool give_back = false; // the output connector put back
	} arming_;
	std::list<job> requests_;    // waiting for a commit of their CRTC
	std::unique_ptr<job> armed_; // between arm() and committed()
	std::list<job> active_;      // waiting for their out-fences
	std::list<std::pair<uint32_t, std::function<void()>>> idle_; // when_idle(), by CRTC
	uint64_t captures_ = 0;
};

} // namespace wlprime
