// headless_present.hpp: the present event of a headless output, sent again
// once its commit is done, so that wp_presentation feedback is answered.
//
// wlroots 0.15.1's headless backend sends the output's present event from
// inside its commit (wlr_output_commit calls impl->commit, which sends it,
// before it bumps commit_seq and emits the commit event). A presentation
// feedback that the scene sampled for that commit learns its commit only at
// the commit event, after the present, and then ignores every later present
// (another commit_seq): the client never hears presented, only discarded when
// the output goes away. wlroots 0.16 defers the headless present to an idle
// callback; this does the same for 0.15.1: after each commit that carried a
// buffer, an idle callback sends a present event with that commit's
// commit_seq, presented, and what the headless backend itself sends (no
// time: wlr_output_send_present reads the backend's presentation clock,
// CLOCK_MONOTONIC; refresh 0, seq 0, flags 0).
//
// Lifetime: one per headless output, owned by the server's list, destroyed
// with its wlr_output (or with the server).

#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "compositor/listener.hpp"
#include "render/wlr.hpp"

namespace wlprime {

class headless_present {
public:
	// output: a headless output (borrowed). on_destroy is called from the
	// output's destroy handler and must free this.
	headless_present(wlr_output *output, std::function<void(headless_present *)> on_destroy);
	~headless_present();

	headless_present(const headless_present &) = delete;
	headless_present &operator=(const headless_present &) = delete;

private:
	static void send(void *data) noexcept; // the idle callback

	wlr_output *output_;
	wl_event_source *idle_ = nullptr; // pending idle callback, owned
	std::vector<uint32_t> commits_;   // commit_seqs not presented yet
	std::function<void(headless_present *)> on_destroy_;
	listener<wlr_output_event_commit *> commit_;
	listener<void> destroy_;
};

} // namespace wlprime
