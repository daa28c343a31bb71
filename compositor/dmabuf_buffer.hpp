// dmabuf_buffer.hpp: the wl_buffer of a linux-dmabuf buffer, as a wlr_buffer.
//
// One dmabuf_buffer per wl_buffer. It holds an import_ref to the shared
// dmabuf_import (the re-import cache's entry: several wl_buffers, of one
// client or several, may share it) and gives wlroots:
//  - get_dmabuf: the Import's plane fds, borrowed;
//  - begin/end_data_ptr_access: what pixman reads of the Import
//    (render/cpu_picture.hpp): its cached read-only mapping, bracketed with
//    DMA_BUF_IOCTL_SYNC, or its picture converted to XRGB8888 (YUV, RGB888).
//
// Lifetime: created by linux_dmabuf with the wl_buffer resource. The wlr_buffer
// is dropped when the client destroys the wl_buffer (or disconnects) and
// freed by wlroots when its last lock goes too; wl_buffer.release is sent each
// time the last lock goes while the resource exists, that is when the
// compositor will not read the buffer again until it is attached again.

#pragma once

#include <functional>
#include <sys/types.h>
#include <unordered_set>

#include "compositor/listener.hpp"
#include "import/import.hpp"
#include "render/cpu_picture.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class dmabuf_buffer;

// The live dmabuf_buffers, for the debug tool and the trace. Owned by the
// server; must outlive every dmabuf_buffer registered in it.
struct buffer_registry {
	std::unordered_set<dmabuf_buffer *> buffers;
	// Called when a wl_buffer.release is sent. May be empty.
	std::function<void(const dmabuf_buffer &)> on_release;
	// Called when a wl_buffer is made (its resource is set up). May be empty.
	std::function<void(const dmabuf_buffer &)> on_create;
};

class dmabuf_buffer {
public:
	// Makes the wl_buffer resource `id` of client (version 1) for import.
	// Returns null with the client's no_memory posted if that fails.
	// registry (may be null) is borrowed.
	static dmabuf_buffer *create(wl_client *client, uint32_t id, import_ref import,
	                             buffer_registry *registry = nullptr);

	// The dmabuf_buffer of a wl_buffer resource, or null if it is another
	// kind of wl_buffer (wl_shm's).
	static dmabuf_buffer *from_resource(wl_resource *resource);
	// The dmabuf_buffer of a wlr_buffer, or null if it is another kind
	// (a wl_shm buffer, an output's own buffer).
	static dmabuf_buffer *from_wlr_buffer(wlr_buffer *buffer);
	// Lets wlr_buffer_from_resource() know our wl_buffers. Idempotent.
	static void register_resource_interface();

	wlr_buffer *base() { return &wlr_.base; }
	dmabuf_import &import() { return *import_; }
	const dmabuf_import &import() const { return *import_; }
	wl_resource *resource() const { return resource_; } // null once destroyed
	// Who made it: for logs and the debug tool.
	pid_t client_pid() const { return client_pid_; }
	uint32_t resource_id() const { return resource_id_; }
	// Unique in the compositor's life (resource ids and addresses are
	// reused): how the --report tells wl_buffers apart.
	uint64_t serial() const { return serial_; }
	// wlroots' locks on it: > 0 while the compositor may read it.
	size_t locks() const { return wlr_.base.n_locks; }
	uint64_t releases() const { return releases_; }

private:
	dmabuf_buffer(import_ref import);
	~dmabuf_buffer();
	dmabuf_buffer(const dmabuf_buffer &) = delete;
	dmabuf_buffer &operator=(const dmabuf_buffer &) = delete;

	static dmabuf_buffer *from_wlr(wlr_buffer *buffer);
	static void handle_destroy(wlr_buffer *buffer);
	static bool handle_get_dmabuf(wlr_buffer *buffer, wlr_dmabuf_attributes *attribs);
	static bool handle_begin_data_ptr_access(wlr_buffer *buffer, uint32_t flags, void **data,
	                                         uint32_t *format, size_t *stride);
	static void handle_end_data_ptr_access(wlr_buffer *buffer);
	static void handle_resource_destroy(wl_resource *resource);

	static const wlr_buffer_impl impl;

	// Standard layout, base first: a wlr_buffer * is also a pointer to this.
	struct wlr_part {
		wlr_buffer base;
		dmabuf_buffer *owner;
	};
	wlr_part wlr_{};
	import_ref import_;
	wl_resource *resource_ = nullptr;
	buffer_registry *registry_ = nullptr;
	pid_t client_pid_ = 0;
	uint32_t resource_id_ = 0;
	uint64_t serial_ = 0;
	uint64_t releases_ = 0;
	bool data_access_failed_ = false; // logged once
	cpu_view view_;                   // of the data access under way
	listener<void> release_;
};

} // namespace wlprime
