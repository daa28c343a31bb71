// kms_session.cpp: the KMS backend and the seat session: no commit while the
// session is inactive, the whole state set again when it is back (see
// kms_backend_set_active() in kms_backend.hpp).

#include "render/kms_internal.hpp"

namespace wlprime {

void kms_backend_set_active(wlr_backend *b, bool active) {
	if (!backend_is_kms(b)) {
		return;
	}
	kms_backend &backend = *kms_backend::from_wlr(b);
	if (backend.paused == !active) {
		return;
	}
	backend.paused = !active;
	if (!active) {
		backend.refused_commits = 0;
		wlr_log(WLR_INFO, "KMS: session inactive: no commits until it is active again");
		return;
	}
	wlr_log(WLR_INFO,
	        "KMS: session active again (%llu commits were not done meanwhile): "
	        "mode-setting and repainting every lit output",
	        static_cast<unsigned long long>(backend.refused_commits));
	for (auto &kdev : backend.devices) {
		for (kms_output *out : kdev->outputs) {
			if (!out->active && !out->base()->enabled) {
				continue;
			}
			// Another master (a VT, another compositor) may have set its
			// own state meanwhile: the next commit sets the whole state.
			out->active = false;
			wlr_output_update_needs_frame(out->base());
			wlr_output_schedule_frame(out->base());
		}
	}
}


} // namespace wlprime
