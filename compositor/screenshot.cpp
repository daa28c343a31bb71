#include "compositor/screenshot.hpp"

#include "render/image_compare.hpp"
#include "render/png.hpp"
#include "render/wlr.hpp"

namespace wlprime {

namespace {

// FILE.png -> FILE.diff.png; another name -> NAME.diff.png.
std::string diff_path(const std::string &path) {
	const std::string ext = ".png";
	if (path.size() > ext.size() &&
	    path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
		return path.substr(0, path.size() - ext.size()) + ".diff.png";
	}
	return path + ".diff.png";
}

} // namespace

screenshot_taker::screenshot_taker(const config &cfg)
    : path_(cfg.screenshot_path), after_frames_(cfg.screenshot_after_frames),
      reference_(cfg.compare_path), tolerance_(cfg.compare_tolerance) {}

void screenshot_taker::take(const picture_source &source) {
	if (!path_) {
		return;
	}
	if (source.output.empty()) {
		save(error{"there is no output"}, "");
		return;
	}
	if (source.read_back) {
		std::string name = source.output;
		auto render = source.render;
		bool asked = source.read_back([this, name, render](result<image> img) {
			in_flight_--;
			if (img) {
				save(img,
				     "output " + name + ", from the display's writeback connector");
				return;
			}
			wlr_log(WLR_ERROR,
			        "screenshot of %s: %s; rendering the scene again instead",
			        name.c_str(), img.err().message.c_str());
			save(render(), "the scene rendered again, not read back from the display");
		});
		if (asked) {
			in_flight_++;
			return;
		}
		wlr_log(
		    WLR_INFO,
		    "screenshot: output %s has no writeback connector: the picture is the scene "
		    "rendered again, not read back from the display",
		    name.c_str());
		save(source.render(), "the scene rendered again, not read back from the display");
		return;
	}
	save(source.render(), "the scene rendered again");
}

void screenshot_taker::exec_frames(uint64_t frames, const picture_source &source) {
	if (!after_frames_ || taken_ || frames < *after_frames_) {
		return;
	}
	taken_ = true;
	wlr_log(WLR_INFO, "screenshot: frame %llu of the --exec client presented",
	        static_cast<unsigned long long>(frames));
	take(source);
}

void screenshot_taker::at_exit(const picture_source &source, uint64_t exec_frames) {
	if (!path_) {
		return;
	}
	if (!after_frames_) {
		take(source);
		return;
	}
	if (!taken_) {
		missing_ = true;
		wlr_log(
		    WLR_ERROR,
		    "screenshot %s: not taken: %llu frames of the --exec client were presented, "
		    "--screenshot-after-frames asked for %u",
		    path_->c_str(), static_cast<unsigned long long>(exec_frames), *after_frames_);
	}
}

void screenshot_taker::save(const result<image> &img, const std::string &from) {
	if (!img) {
		missing_ = true;
		wlr_log(WLR_ERROR, "screenshot %s: %s", path_->c_str(), img.err().message.c_str());
		return;
	}
	if (status s = write_png(*path_, *img); !s) {
		missing_ = true;
		wlr_log(WLR_ERROR, "screenshot: %s", s.err().message.c_str());
		return;
	}
	wlr_log(WLR_INFO, "screenshot: wrote %dx%d to %s (%s)", img->width, img->height,
	        path_->c_str(), from.c_str());
	compare(*img);
}

void screenshot_taker::compare(const image &img) {
	if (!reference_) {
		return;
	}
	result<image> want = read_png(*reference_);
	if (!want) {
		missing_ = true;
		wlr_log(WLR_ERROR, "--compare %s: %s", reference_->c_str(),
		        want.err().message.c_str());
		return;
	}
	image_difference d = compare_images(img, *want, tolerance_);
	if (!d.differs()) {
		wlr_log(WLR_INFO, "--compare %s: the same (tolerance %d, largest difference %d)",
		        reference_->c_str(), tolerance_, d.max_channel);
		return;
	}
	differs_ = true;
	const std::string diff = diff_path(*path_);
	if (!d.same_size) {
		wlr_log(WLR_ERROR,
		        "--compare %s: differs: the screenshot is %dx%d, the reference %dx%d",
		        reference_->c_str(), img.width, img.height, want->width, want->height);
	} else {
		wlr_log(WLR_ERROR,
		        "--compare %s: differs: %llu pixels off by more than %d (largest %d), the "
		        "first at %d,%d: %06x, not %06x; the differences in red: %s",
		        reference_->c_str(), static_cast<unsigned long long>(d.pixels), tolerance_,
		        d.max_channel, d.first_x, d.first_y, d.first_got, d.first_want,
		        diff.c_str());
	}
	if (status s = write_png(diff, difference_image(img, *want, tolerance_)); !s) {
		missing_ = true;
		wlr_log(WLR_ERROR, "--compare: the diff image: %s", s.err().message.c_str());
	}
}

} // namespace wlprime
