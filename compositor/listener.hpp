// listener.hpp: the typed wl_listener helper.
//
// A wlprime::listener<T> is a member of the object that reacts to a signal:
//
//	class view {
//		listener<wlr_xdg_surface *> map_;
//		...
//		map_.connect(&xdg_surface->events.map, [this](wlr_xdg_surface *) { ... });
//	};
//
// Rules, all enforced by the type:
// - It is neither copyable nor movable: libwayland links the embedded
//   wl_listener into the signal's list by address.
// - It is unlinked in its destructor, so an object that dies unlinks all of
//   its listeners. Destroying or disconnecting one that was never connected
//   (or was already disconnected) is harmless.
// - connect() on a connected listener first disconnects it.
// - T is what the signal carries (a pointer type, as documented on the
//   wlroots signal), or void for signals that carry nothing useful.
// - The callback may destroy the listener, and the object that owns it, as
//   the very last thing it does (the usual "destroy" handler). wlroots emits
//   with wlr_signal_emit_safe and libwayland with wl_list_for_each_safe, so
//   removing the current listener during emission is allowed.
// - No exception may cross the C boundary: the trampoline is noexcept, so an
//   exception escaping a callback terminates the process instead of unwinding
//   through libwayland or wlroots frames.
//
// Before the signal's owner is freed, the listener must be disconnected (or
// destroyed): wl_list_remove on a freed list is a use-after-free. Owners of
// listeners therefore listen to the wlroots object's destroy signal, or are
// torn down before the wlroots objects they listen to (see server.cpp).

#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include <wayland-server-core.h>

namespace wlprime {

namespace detail {
template <typename T>
struct listener_callback {
	using type = std::function<void(T)>;
};
template <>
struct listener_callback<void> {
	using type = std::function<void()>;
};
} // namespace detail

template <typename T>
class listener {
public:
	using callback = typename detail::listener_callback<T>::type;

	listener() {
		node_.owner = this;
		node_.raw.notify = &listener::notify;
		wl_list_init(&node_.raw.link);
	}
	~listener() { disconnect(); }

	listener(const listener &) = delete;
	listener &operator=(const listener &) = delete;
	listener(listener &&) = delete;
	listener &operator=(listener &&) = delete;

	// Links this listener into signal; fn is called on every emission until
	// disconnect() or destruction. signal must not be null.
	void connect(wl_signal *signal, callback fn) {
		disconnect();
		callback_ = std::move(fn);
		wl_signal_add(signal, &node_.raw);
	}

	// Unlinks from the signal, if linked. Idempotent.
	void disconnect() {
		wl_list_remove(&node_.raw.link);
		wl_list_init(&node_.raw.link);
	}

	bool connected() const { return !wl_list_empty(&node_.raw.link); }

private:
	// Standard-layout, raw first: a wl_listener * handed to notify() is also a
	// pointer to its node (no offsetof on a non-standard-layout class).
	struct node {
		wl_listener raw;
		listener *owner;
	};
	static_assert(std::is_standard_layout_v<node>);

	static void notify(wl_listener *raw, void *data) noexcept {
		listener *self = reinterpret_cast<node *>(raw)->owner;
		if constexpr (std::is_void_v<T>) {
			(void)data;
			self->callback_();
		} else {
			self->callback_(static_cast<T>(data));
		}
		// self may be gone now: touch nothing after the call.
	}

	node node_{};
	callback callback_;
};

} // namespace wlprime
