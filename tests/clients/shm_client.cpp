#include "tests/clients/shm_client.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include "tests/clients/client_base.hpp"

namespace wlprime::clients {

struct shm_client::state {
	shm_client_options opts;
	client_base base{{.compositor = true, .shm = true, .wm_base = true}};
	xdg_window window;
	frame_pacer frame{[this] { shown = true; }};
	wl_buffer *buffer = nullptr;

	int buffer_width = 0;
	int buffer_height = 0;
	bool configured = false;
	bool shown = false;
	std::string failure;

	~state();
	void create_window();
	bool make_buffer(int width, int height);
	void on_configure();
};

shm_client::state::~state() {
	frame.cancel();
	if (buffer != nullptr) {
		wl_buffer_destroy(buffer);
	}
}

void shm_client::state::create_window() {
	if (base.compositor == nullptr || base.shm == nullptr || base.wm_base == nullptr) {
		failure = "the compositor lacks wl_compositor, wl_shm or xdg_wm_base";
		return;
	}
	window.on_configure = [this](uint32_t) { on_configure(); };
	window.create(base, opts.title.c_str());
	window.initial_commit();
}

bool shm_client::state::make_buffer(int width, int height) {
	wl_buffer *made =
	    make_shm_buffer(base.shm, width, height, WL_SHM_FORMAT_ARGB8888, opts.color, &failure);
	if (made == nullptr) {
		return false;
	}
	if (buffer != nullptr) {
		wl_buffer_destroy(buffer);
	}
	buffer = made;
	buffer_width = width;
	buffer_height = height;
	return true;
}

void shm_client::state::on_configure() {
	int width = window.width > 0 ? window.width : opts.width;
	int height = window.height > 0 ? window.height : opts.height;
	if (buffer == nullptr || width != buffer_width || height != buffer_height) {
		if (!make_buffer(width, height)) {
			return;
		}
	}
	wl_surface *surface = window.surface;
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_damage_buffer(surface, 0, 0, width, height);
	if (!shown) {
		frame.request(surface);
	}
	wl_surface_commit(surface);
	configured = true;
}

std::unique_ptr<shm_client> shm_client::connect(const char *socket, const shm_client_options &opts,
                                                std::string *error) {
	auto s = std::make_unique<state>();
	s->opts = opts;
	// Once the globals are in, the window is created.
	state *raw = s.get();
	if (!s->base.connect(socket, error, [raw] { raw->create_window(); })) {
		return nullptr;
	}
	return std::unique_ptr<shm_client>(new shm_client(std::move(s)));
}

shm_client::shm_client(std::unique_ptr<state> s) : s_(std::move(s)) {}
shm_client::~shm_client() = default;

wl_display *shm_client::display() const {
	return s_->base.display;
}
const std::set<std::string> &shm_client::globals() const {
	return s_->base.globals;
}
bool shm_client::configured() const {
	return s_->configured;
}
bool shm_client::shown() const {
	return s_->shown;
}
bool shm_client::activated() const {
	return s_->window.activated;
}
bool shm_client::close_requested() const {
	return s_->window.close_requested;
}
int shm_client::width() const {
	return s_->buffer_width;
}
int shm_client::height() const {
	return s_->buffer_height;
}

void shm_client::unmap_and_remap() {
	state &s = *s_;
	wl_surface_attach(s.window.surface, nullptr, 0, 0);
	wl_surface_commit(s.window.surface); // unmapped: back to the initial state
	s.frame.cancel();
	s.configured = false;
	s.shown = false;
	s.window.initial_commit(); // the initial commit again
}

std::string shm_client::failure() const {
	if (!s_->failure.empty()) {
		return s_->failure;
	}
	if (int err = wl_display_get_error(s_->base.display); err != 0) {
		return std::string("Wayland connection failed: ") + std::strerror(err);
	}
	return {};
}

bool parse_color(const std::string &text, uint32_t *argb) {
	if (text.size() != 6 && text.size() != 8) {
		return false;
	}
	uint32_t value = 0;
	for (char c : text) {
		int digit = 0;
		if (c >= '0' && c <= '9') {
			digit = c - '0';
		} else if (c >= 'a' && c <= 'f') {
			digit = c - 'a' + 10;
		} else if (c >= 'A' && c <= 'F') {
			digit = c - 'A' + 10;
		} else {
			return false;
		}
		value = (value << 4) | static_cast<uint32_t>(digit);
	}
	*argb = text.size() == 6 ? (0xff000000u | value) : value;
	return true;
}

} // namespace wlprime::clients
