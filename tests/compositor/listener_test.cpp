// wlprime::listener: linking, unlinking, typed data, self-destruction.

#include <memory>

#include <gtest/gtest.h>
#include <wayland-server-core.h>

#include "compositor/listener.hpp"

namespace wlprime {
namespace {

struct signal_holder {
	signal_holder() { wl_signal_init(&signal); }
	wl_signal signal;
	int listener_count() const { return wl_list_length(&signal.listener_list); }
};

TEST(Listener, NeverConnectedIsHarmless) {
	listener<int *> l;
	EXPECT_FALSE(l.connected());
	l.disconnect();
	l.disconnect();
}

TEST(Listener, DeliversTypedDataUntilDisconnected) {
	signal_holder s;
	int value = 42;
	int calls = 0;
	listener<int *> l;
	l.connect(&s.signal, [&](int *data) {
		EXPECT_EQ(data, &value);
		calls++;
	});
	EXPECT_TRUE(l.connected());
	wl_signal_emit(&s.signal, &value);
	wl_signal_emit(&s.signal, &value);
	EXPECT_EQ(calls, 2);
	l.disconnect();
	EXPECT_FALSE(l.connected());
	EXPECT_EQ(s.listener_count(), 0);
	wl_signal_emit(&s.signal, &value);
	EXPECT_EQ(calls, 2);
}

TEST(Listener, VoidListenerIgnoresData) {
	signal_holder s;
	int calls = 0;
	listener<void> l;
	l.connect(&s.signal, [&] { calls++; });
	wl_signal_emit(&s.signal, nullptr);
	EXPECT_EQ(calls, 1);
}

TEST(Listener, DestructorUnlinks) {
	signal_holder s;
	int calls = 0;
	{
		listener<void> l;
		l.connect(&s.signal, [&] { calls++; });
		EXPECT_EQ(s.listener_count(), 1);
	}
	EXPECT_EQ(s.listener_count(), 0);
	wl_signal_emit(&s.signal, nullptr);
	EXPECT_EQ(calls, 0);
}

TEST(Listener, ReconnectMovesToTheNewSignal) {
	signal_holder a;
	signal_holder b;
	int calls = 0;
	listener<void> l;
	l.connect(&a.signal, [&] { calls += 1; });
	l.connect(&b.signal, [&] { calls += 10; });
	EXPECT_EQ(a.listener_count(), 0);
	EXPECT_EQ(b.listener_count(), 1);
	wl_signal_emit(&a.signal, nullptr);
	wl_signal_emit(&b.signal, nullptr);
	EXPECT_EQ(calls, 10);
}

// The "destroy" handler pattern: the callback frees the object that owns the
// listener, and listeners after it on the same signal still run.
TEST(Listener, CallbackMayDestroyItsOwner) {
	struct owner {
		listener<void> on_destroy;
	};
	signal_holder s;
	auto *o = new owner;
	bool later_ran = false;
	o->on_destroy.connect(&s.signal, [o] { delete o; });
	listener<void> later;
	later.connect(&s.signal, [&] { later_ran = true; });
	wl_signal_emit(&s.signal, nullptr);
	EXPECT_TRUE(later_ran);
	EXPECT_EQ(s.listener_count(), 1);
}

} // namespace
} // namespace wlprime
