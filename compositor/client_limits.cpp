#include "compositor/client_limits.hpp"

#include "import/enum_name.hpp"
#include "import/import.hpp"

namespace wlprime {

const char *to_string(client_limit limit) {
	static constexpr const char *names[] = {"params objects", "wl_buffers", "imported bytes"};
	return enum_name(limit, names);
}

const char *option_name(client_limit limit) {
	static constexpr const char *names[] = {"--max-client-params", "--max-client-buffers",
	                                        "--max-client-bytes"};
	return enum_name(limit, names);
}

// A connected client's record and the listener on its destroy.
struct client_limits::client_entry {
	struct node {
		wl_listener raw; // first: a wl_listener * is a node *
		client_entry *self;
	};
	node destroy{};
	client_limits *owner = nullptr;
	wl_client *client = nullptr;
	std::shared_ptr<client_usage> usage;

	~client_entry() { wl_list_remove(&destroy.raw.link); }
};

// One wl_buffer's share of its client's usage, freed with the resource.
struct client_limits::buffer_charge {
	struct node {
		wl_listener raw; // first: a wl_listener * is a node *
		buffer_charge *self;
	};
	node destroy{};
	std::shared_ptr<client_usage> usage;
	uint64_t serial = 0;
	uint64_t bytes = 0;
};

params_charge::~params_charge() {
	if (usage_)
		usage_->params--;
}

params_charge &params_charge::operator=(params_charge &&other) noexcept {
	if (this != &other) {
		if (usage_)
			usage_->params--;
		usage_ = std::move(other.usage_);
	}
	return *this;
}

client_limits::client_limits(client_limit_values values) : values_(values) {}

client_limits::~client_limits() = default;

std::shared_ptr<client_usage> client_limits::usage_of(wl_client *client) {
	auto it = clients_.find(client);
	if (it != clients_.end())
		return it->second->usage;
	pid_t pid = 0;
	wl_client_get_credentials(client, &pid, nullptr, nullptr);
	auto entry = std::make_unique<client_entry>();
	entry->destroy.self = entry.get();
	entry->destroy.raw.notify = &client_limits::handle_client_destroy;
	entry->owner = this;
	entry->client = client;
	entry->usage = std::make_shared<client_usage>(pid, live_records_);
	wl_client_add_destroy_listener(client, &entry->destroy.raw);
	auto usage = entry->usage;
	clients_.emplace(client, std::move(entry));
	return usage;
}

void client_limits::handle_client_destroy(wl_listener *listener, void *) {
	client_entry *entry = reinterpret_cast<client_entry::node *>(listener)->self;
	// The wl_client's address may be reused by the next client: forget it
	// now. Its objects (destroyed after this) still hold the usage.
	entry->owner->clients_.erase(entry->client);
}

void client_limits::handle_buffer_destroy(wl_listener *listener, void *) {
	buffer_charge *charge = reinterpret_cast<buffer_charge::node *>(listener)->self;
	wl_list_remove(&charge->destroy.raw.link);
	client_usage &usage = *charge->usage;
	usage.buffers--;
	auto it = usage.imports.find(charge->serial);
	if (it != usage.imports.end() && --it->second == 0) {
		usage.imports.erase(it);
		usage.bytes -= charge->bytes;
	}
	delete charge;
}

limit_refusal client_limits::refuse(client_usage &usage, client_limit limit,
                                    const std::string &what) {
	const uint64_t n = ++usage.refusals[int(limit)];
	refusals_[int(limit)]++;
	limit_refusal refusal{limit, "client pid " + std::to_string(usage.pid) + ": " + what +
	                                 " (" + option_name(limit) + ")"};
	// The first refusal of its kind says it loudly; a client that keeps
	// trying is not allowed to flood the log.
	wlr_log(n == 1 ? WLR_ERROR : WLR_DEBUG, "linux-dmabuf: limit: %s; refusal %llu of %s",
	        refusal.message.c_str(), static_cast<unsigned long long>(n), to_string(limit));
	return refusal;
}

std::optional<limit_refusal> client_limits::count_limit(client_usage &usage, client_limit limit,
                                                        uint64_t live, uint64_t max,
                                                        const char *what) {
	if (max == 0 || live < max)
		return std::nullopt;
	return refuse(usage, limit,
	              std::to_string(live) + " live " + what + ", the limit is " +
	                  std::to_string(max));
}

std::variant<params_charge, limit_refusal> client_limits::admit_params(wl_client *client) {
	std::shared_ptr<client_usage> usage = usage_of(client);
	if (auto refusal = count_limit(*usage, client_limit::params, usage->params,
	                               values_.max_params, "zwp_linux_buffer_params_v1 objects"))
		return *refusal;
	usage->params++;
	params_charge charge;
	charge.usage_ = std::move(usage);
	return charge;
}

std::optional<limit_refusal> client_limits::check_buffer_count(wl_client *client) {
	std::shared_ptr<client_usage> usage = usage_of(client);
	return count_limit(*usage, client_limit::buffers, usage->buffers, values_.max_buffers,
	                   "linux-dmabuf wl_buffers");
}

std::optional<limit_refusal> client_limits::check_buffer_bytes(wl_client *client,
                                                               const dmabuf_import &import) {
	std::shared_ptr<client_usage> usage = usage_of(client);
	if (values_.max_bytes == 0 || usage->imports.count(import.serial()) != 0)
		return std::nullopt;
	if (import.bytes() > values_.max_bytes || usage->bytes > values_.max_bytes - import.bytes())
		return refuse(*usage, client_limit::bytes,
		              "import #" + std::to_string(import.serial()) + " of " +
		                  std::to_string(import.bytes()) + " bytes on top of " +
		                  std::to_string(usage->bytes) + " bytes imported, the limit is " +
		                  std::to_string(values_.max_bytes));
	return std::nullopt;
}

void client_limits::charge_buffer(wl_client *client, wl_resource *buffer,
                                  const dmabuf_import &import) {
	auto *charge = new buffer_charge;
	charge->destroy.self = charge;
	charge->destroy.raw.notify = &client_limits::handle_buffer_destroy;
	charge->usage = usage_of(client);
	charge->serial = import.serial();
	charge->bytes = import.bytes();
	client_usage &usage = *charge->usage;
	usage.buffers++;
	if (usage.imports[charge->serial]++ == 0)
		usage.bytes += charge->bytes;
	wl_resource_add_destroy_listener(buffer, &charge->destroy.raw);
}

const client_usage *client_limits::find(wl_client *client) const {
	auto it = clients_.find(client);
	return it == clients_.end() ? nullptr : it->second->usage.get();
}

} // namespace wlprime
