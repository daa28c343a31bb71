// buffer_import.hpp: the Import of a wlr_buffer, attached to it.
//
// "Attach, don't look up": whoever makes a wlr_buffer out of an Import (a
// client's linux-dmabuf wl_buffer, compositor/dmabuf_buffer.cpp; the KMS
// allocator's dumb buffers, render/kms_buffer.cpp) attaches that Import to
// the buffer as a wlr_addon at creation. Users (direct scanout in
// render/kms_backend.cpp) then find it with import_of(): a walk of the
// buffer's few addons, no fstat, no hash of the layout, no cache lookup, and
// always the very Import the buffer was made from (flags included, which a
// layout rebuilt from wlr_buffer_get_dmabuf() would lose).
//
// A buffer without one (wl_shm, a memory_buffer) is no dma-buf to scan out.
//
// Lifetime: the addon holds an import_ref (the Import stays alive, with its
// handles and framebuffers, as long as the buffer); wlroots destroys the
// addon, and with it that reference, when the wlr_buffer is destroyed.

#pragma once

#include "render/wlr.hpp"
#include "import/import.hpp"

namespace wlprime {

// Where a buffer came from: a client's, or one of the outputs' own (composed
// into by the renderer; never a direct scanout, never tested, no zero_copy).
enum class buffer_origin { client, output };

// Attaches import (a reference, now owned by buffer) to buffer. A buffer has
// at most one: attaching again replaces the reference. An empty import_ref
// detaches.
void attach_import(wlr_buffer *buffer, import_ref import,
                   buffer_origin origin = buffer_origin::client);

// Whether buffer is an output's own (attached as buffer_origin::output).
bool is_output_buffer(wlr_buffer *buffer);

// The Import attached to buffer, borrowed (valid while the buffer lives), or
// null. For a wlr_client_buffer (what a wlr_surface shows, and what wlroots'
// scene scans out), the Import of its source buffer, null once the client
// destroyed that. No syscall.
dmabuf_import *import_of(wlr_buffer *buffer);

// The Import's layout as wlroots describes a dma-buf (the fds borrowed from
// the Import, as wlroots expects of get_dmabuf).
void dmabuf_attributes_of(const dmabuf_import &import, wlr_dmabuf_attributes *attribs);

// The same as a new counted reference; empty if none is attached.
import_ref import_ref_of(wlr_buffer *buffer);

} // namespace wlprime
