// screenshot.hpp: --screenshot FILE, when to take it
// (--screenshot-after-frames N, else on exit; SIGUSR1 any time) and what
// to compare it with (--compare REF.png, --tolerance T).
//
// A picture comes from the display's writeback connector when the output
// has one (after its next commit, on the event loop), else from the scene
// rendered again. Outcomes that the exit status reports are kept: a
// screenshot asked for and not written (the file, the reference, the frames
// that never came: exit_output_missing) and a difference from the reference
// (exit_compare_differs, with FILE.diff.png beside FILE).

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "compositor/config.hpp"
#include "import/result.hpp"
#include "render/image.hpp"

namespace wlprime {

// Where a picture of the first output comes from, now.
struct picture_source {
	std::string output; // its name, for the log; empty: no output
	// The scene rendered again.
	std::function<result<image>()> render;
	// Asks the display to write its next frame back; the callback gets it
	// (on the event loop). Empty, or false returned: no writeback.
	std::function<bool(std::function<void(result<image>)>)> read_back;
};

class screenshot_taker {
public:
	explicit screenshot_taker(const config &cfg);

	bool wanted() const { return path_.has_value(); }
	// Takes it now (SIGUSR1, --screenshot-after-frames).
	void take(const picture_source &source);
	// After an output frame with new content of the --exec client.
	void exec_frames(uint64_t frames, const picture_source &source);
	// On exit: takes it unless it is taken after frames; then says so if
	// those frames never came.
	void at_exit(const picture_source &source, uint64_t exec_frames);
	// Read-backs asked for and not yet written.
	int in_flight() const { return in_flight_; }

	bool missing() const { return missing_; }
	bool differs() const { return differs_; }

private:
	void save(const result<image> &img, const std::string &from);
	void compare(const image &img);

	std::optional<std::string> path_;
	std::optional<uint32_t> after_frames_;
	std::optional<std::string> reference_;
	int tolerance_ = 0;
	bool taken_ = false;   // after frames: the frame came
	bool missing_ = false; // something asked for was not written
	bool differs_ = false;
	int in_flight_ = 0;
};

} // namespace wlprime
