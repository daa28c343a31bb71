// client_limits.hpp: per-client bounds on what a client makes through
// linux-dmabuf, so that one client cannot exhaust the compositor (or the
// kernel) for the others.
//
// What is counted, per wl_client, exactly (the counts go down when the
// object goes, whoever destroys it: the client, or libwayland when the
// client disconnects):
//
//  - params: live zwp_linux_buffer_params_v1 objects (created, not yet
//    destroyed; a used params object counts until the client destroys it).
//  - buffers: live linux-dmabuf wl_buffers, from their creation to the
//    destruction of the wl_buffer resource. A buffer the client destroyed
//    while it was on screen no longer counts; wlprime lets go of it at the
//    next frame.
//  - bytes: the sizes of the Imports (import/import.hpp: the sum of the
//    distinct dma-bufs behind the planes) the client's live wl_buffers refer
//    to, each Import counted ONCE per client however many of the client's
//    wl_buffers share it (a re-created wl_buffer of the same dma-buf costs
//    nothing more), and counted IN FULL for every client that holds it (a
//    dma-buf shared by two clients counts for both): a client's usage never
//    depends on what another client does, so no client can push another
//    over its limit, or hide its own usage behind another's. Two Imports of
//    one dma-buf (another offset, stride or format) are two Imports.
//
// What happens at a limit (see linux_dmabuf.cpp):
//  - params: wl_display.error no_memory, posted on the client's wl_display
//    with a message naming the limit (zwp_linux_dmabuf_v1 has no error enum
//    of its own). The client is disconnected: a client that keeps 64 params
//    objects half-built is broken or hostile.
//  - buffers and bytes: the buffer is not made: `failed` for create,
//    invalid_wl_buffer for create_immed, as for any buffer that cannot be
//    imported. The client may destroy buffers and try again. Both checks
//    run before any PRIME ioctl; a buffer refused for its bytes leaves its
//    new Import idle in the cache (its fds, no GEM handle), bounded and
//    evicted like any idle Import.
//  Each refusal is logged with the client's pid, the count and the limit;
//  the first refusal of each kind per client at error level, later ones at
//  debug level (a hostile client must not flood the log).
//
// Lifetime: owned by linux_dmabuf. One client_usage per connected client that
// used linux-dmabuf, created on first use; the wl_client's destroy forgets it
// (libwayland 1.21 emits a client's destroy before destroying its resources),
// and the charges of its objects keep it alive until they are destroyed too.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <unordered_map>
#include <variant>

#include "compositor/config.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class dmabuf_import;

enum class client_limit { params, buffers, bytes };
const char *to_string(client_limit limit);
// The command-line option that sets it: "--max-client-params", ...
const char *option_name(client_limit limit);

// One client's live linux-dmabuf objects. Made by client_limits; kept alive
// by the client's connection and by the charges of its objects.
struct client_usage {
	explicit client_usage(pid_t client_pid, std::shared_ptr<size_t> records)
	    : pid(client_pid), live_records_(std::move(records)) {
		++*live_records_;
	}
	~client_usage() { --*live_records_; }
	client_usage(const client_usage &) = delete;
	client_usage &operator=(const client_usage &) = delete;

	const pid_t pid;
	uint32_t params = 0;
	uint32_t buffers = 0;
	uint64_t bytes = 0;
	// Import serial -> the client's live wl_buffers of that Import.
	std::unordered_map<uint64_t, uint32_t> imports;
	// Refusals so far, per client_limit.
	uint64_t refusals[3] = {};

private:
	std::shared_ptr<size_t> live_records_; // client_limits' count of records
};

// Why a request was refused: a message naming the client, the count and the
// limit; already logged.
struct limit_refusal {
	client_limit limit;
	std::string message;
};

class client_limits;

// A live params object's share of its client's usage. Move-only; counts
// down in its destructor.
class params_charge {
public:
	params_charge() = default;
	~params_charge();
	params_charge(params_charge &&other) noexcept = default;
	params_charge &operator=(params_charge &&other) noexcept;
	params_charge(const params_charge &) = delete;
	params_charge &operator=(const params_charge &) = delete;

private:
	friend class client_limits;
	std::shared_ptr<client_usage> usage_;
};

class client_limits {
public:
	explicit client_limits(client_limit_values values = {});
	~client_limits();
	client_limits(const client_limits &) = delete;
	client_limits &operator=(const client_limits &) = delete;

	const client_limit_values &values() const { return values_; }
	// New limits apply to the next request; nothing already made is undone.
	void set_values(const client_limit_values &values) { values_ = values; }

	// A new params object of client: its charge, or why not (logged).
	std::variant<params_charge, limit_refusal> admit_params(wl_client *client);
	// Before the Import is looked up: is there room for one more wl_buffer?
	std::optional<limit_refusal> check_buffer_count(wl_client *client);
	// With the Import in hand: is there room for its bytes (nothing more if
	// the client already holds it)?
	std::optional<limit_refusal> check_buffer_bytes(wl_client *client,
	                                                const dmabuf_import &import);
	// Counts the wl_buffer `buffer` (a resource of client) of import until
	// the resource is destroyed. Call after both checks passed.
	void charge_buffer(wl_client *client, wl_resource *buffer, const dmabuf_import &import);

	// The usage of a connected client, null if it made nothing yet (or is
	// gone). For tests and introspection.
	const client_usage *find(wl_client *client) const;
	// Connected clients with a usage record.
	size_t client_count() const { return clients_.size(); }
	// Usage records alive, those of disconnected clients whose objects are
	// not destroyed yet included (0 once every client and object is gone).
	size_t live_records() const { return *live_records_; }
	// Refusals in all, per client_limit.
	uint64_t refusals(client_limit limit) const { return refusals_[int(limit)]; }

private:
	struct client_entry;
	struct buffer_charge;

	std::shared_ptr<client_usage> usage_of(wl_client *client);
	limit_refusal refuse(client_usage &usage, client_limit limit, const std::string &what);
	// Refused if max (0: none) is reached: "<live> live <what>, the limit
	// is <max>".
	std::optional<limit_refusal> count_limit(client_usage &usage, client_limit limit,
	                                         uint64_t live, uint64_t max, const char *what);
	static void handle_client_destroy(wl_listener *listener, void *data);
	static void handle_buffer_destroy(wl_listener *listener, void *data);

	client_limit_values values_;
	std::unordered_map<wl_client *, std::unique_ptr<client_entry>> clients_;
	// Shared with every record, which may outlive this object.
	std::shared_ptr<size_t> live_records_ = std::make_shared<size_t>(0);
	uint64_t refusals_[3] = {};
};

} // namespace wlprime
