// session_unit_test.cpp: the pure parts of compositor/session.cpp and the
// --no-session option: what wlprime says when there is no seat session. The
// session itself is tested for real in the guest (session-test).

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "compositor/options.hpp"
#include "compositor/session.hpp"

namespace wlprime {
namespace {

using ::testing::HasSubstr;

TEST(SessionOptions, NoSession) {
	const char *none[] = {"--headless", "64x64"};
	EXPECT_TRUE(parse_options(none).cfg.seat_session);
	const char *args[] = {"--no-session", "--drm-device", "/dev/dri/card0"};
	parsed_options p = parse_options(args);
	ASSERT_EQ(p.what, parsed_options::action::run) << p.message;
	EXPECT_FALSE(p.cfg.seat_session);
	EXPECT_NE(usage_text("wlprime").find("--no-session"), std::string::npos);
}

// A unix socket at a temporary path: bound only (connect is refused), or
// listening.
class SeatdSocket : public ::testing::Test {
protected:
	void SetUp() override {
		char dir[] = "/tmp/wlprime-session-test.XXXXXX";
		ASSERT_NE(mkdtemp(dir), nullptr);
		dir_ = dir;
		path_ = dir_ + "/seatd.sock";
		setenv("SEATD_SOCK", path_.c_str(), 1);
		unsetenv("LIBSEAT_BACKEND");
	}
	void TearDown() override {
		if (fd_ >= 0) {
			close(fd_);
		}
		unlink(path_.c_str());
		rmdir(dir_.c_str());
		unsetenv("SEATD_SOCK");
	}
	void make_socket(bool listening) {
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ASSERT_GE(fd_, 0);
		sockaddr_un addr = {};
		addr.sun_family = AF_UNIX;
		std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
		ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
		if (listening) {
			ASSERT_EQ(listen(fd_, 1), 0);
		}
	}
	std::string dir_, path_;
	int fd_ = -1;
};

TEST_F(SeatdSocket, MissingNamesTheSocketAndTheError) {
	std::string why = describe_session_failure(ENOENT);
	EXPECT_THAT(why, HasSubstr("libseat could not open a seat (No such file or directory)"));
	EXPECT_THAT(why, HasSubstr("seatd: not running (no " + path_ + ")"));
	EXPECT_THAT(why, HasSubstr("logind: "));
	EXPECT_THAT(why, HasSubstr(geteuid() == 0 ? "builtin seatd: failed too"
	                                          : "builtin seatd: needs root"));
}

TEST_F(SeatdSocket, RefusedSaysSo) {
	make_socket(false);
	std::string why = describe_session_failure(0);
	EXPECT_THAT(why, HasSubstr("seatd: " + path_ + " refuses this user (Connection refused)"));
	EXPECT_THAT(why, HasSubstr("seatd's group"));
}

TEST_F(SeatdSocket, ReachablePointsAtLibseatLines) {
	make_socket(true);
	EXPECT_THAT(describe_session_failure(0),
	            HasSubstr("seatd: " + path_ + " is reachable but gave no seat"));
}

TEST_F(SeatdSocket, ForcedBackendIsNamed) {
	setenv("LIBSEAT_BACKEND", "seatd", 1);
	EXPECT_THAT(describe_session_failure(0),
	            HasSubstr("LIBSEAT_BACKEND=seatd allows that backend only"));
	unsetenv("LIBSEAT_BACKEND");
}

TEST(SessionAdvice, NamesWhatToDo) {
	std::string advice = session_advice();
	EXPECT_THAT(advice, HasSubstr("systemd-logind"));
	EXPECT_THAT(advice, HasSubstr("seatd"));
	EXPECT_THAT(advice, HasSubstr("video group"));
	EXPECT_THAT(advice, HasSubstr("--no-session"));
}

} // namespace
} // namespace wlprime
