// EventLoop on loopback sockets: operations, deadlines, cancellation, stale completions, timers
// and the backlog used when the submission queue is full.
#include "io/event_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace mxray::io {
namespace {

struct Event {
  OpKind op;
  int32_t res;
};

class Recorder : public IoHandler, public TimerHandler {
 public:
  void OnIo(OpKind op, int32_t res, bool more) override { events.push_back({op, res}); }
  void OnTimer(uint64_t cookie) override { fired.push_back(cookie); }
  std::vector<Event> events;
  std::vector<uint64_t> fired;
};

std::unique_ptr<EventLoop> MakeLoop(EventLoopOptions options = {}) {
  auto loop = EventLoop::Create(options);
  EXPECT_TRUE(loop.ok()) << loop.status();
  return *std::move(loop);
}

// Runs the loop until `done` holds; bounded so that a broken loop fails instead of hanging.
template <typename Pred>
void RunUntil(EventLoop& loop, Pred done) {
  for (int i = 0; i < 10000 && !done(); ++i) loop.RunOnce(100'000'000);
  ASSERT_TRUE(done());
}

int Listener(sockaddr_in* addr, int backlog = 16) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(addr), sizeof(*addr)), 0);
  EXPECT_EQ(listen(fd, backlog), 0);
  socklen_t len = sizeof(*addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len);
  return fd;
}

int TcpSocket() { return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

TEST(EventLoopTest, ConnectSendRecvClose) {
  auto loop = MakeLoop();
  sockaddr_in addr;
  int lfd = Listener(&addr);
  Recorder r;
  SlotId slot = loop->Register(&r);
  int fd = TcpSocket();
  loop->Connect(slot, fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), 1'000'000'000);
  RunUntil(*loop, [&] { return !r.events.empty(); });
  ASSERT_EQ(r.events[0].op, OpKind::kConnect);
  ASSERT_EQ(r.events[0].res, 0);
  int peer = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(peer, 0);

  const char hello[] = "EHLO a.test\r\n";
  loop->Send(slot, fd, hello, sizeof(hello) - 1);
  RunUntil(*loop, [&] { return r.events.size() == 2; });
  EXPECT_EQ(r.events[1].op, OpKind::kSend);
  EXPECT_EQ(r.events[1].res, static_cast<int>(sizeof(hello) - 1));
  char got[64] = {};
  ASSERT_EQ(read(peer, got, sizeof(got)), static_cast<ssize_t>(sizeof(hello) - 1));
  EXPECT_STREQ(got, hello);

  char buf[64];
  loop->Recv(slot, fd, buf, sizeof(buf));
  ASSERT_EQ(write(peer, "220 ok\r\n", 8), 8);
  RunUntil(*loop, [&] { return r.events.size() == 3; });
  EXPECT_EQ(r.events[2].op, OpKind::kRecv);
  ASSERT_EQ(r.events[2].res, 8);
  EXPECT_EQ(std::string(buf, 8), "220 ok\r\n");

  loop->Recv(slot, fd, buf, sizeof(buf));
  close(peer);  // the peer closing shows up as a zero-length read
  RunUntil(*loop, [&] { return r.events.size() == 4; });
  EXPECT_EQ(r.events[3].res, 0);

  loop->Close(slot, fd);
  RunUntil(*loop, [&] { return r.events.size() == 5; });
  EXPECT_EQ(r.events[4].op, OpKind::kClose);
  EXPECT_EQ(r.events[4].res, 0);
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // the descriptor is really gone
  loop->Release(slot);
  EXPECT_FALSE(loop->HasWork());
  close(lfd);
}

TEST(EventLoopTest, ConnectToClosedPortIsRefused) {
  auto loop = MakeLoop();
  sockaddr_in addr;
  int lfd = Listener(&addr);
  close(lfd);  // nothing listens on that port any more
  Recorder r;
  SlotId slot = loop->Register(&r);
  int fd = TcpSocket();
  loop->Connect(slot, fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), 1'000'000'000);
  RunUntil(*loop, [&] { return !r.events.empty(); });
  EXPECT_EQ(r.events[0].res, -ECONNREFUSED);
  RunUntil(*loop, [&] { return loop->InFlight(slot) == 0; });  // the linked timeout drains too
  close(fd);
}

TEST(EventLoopTest, ConnectPastDeadlineTimesOut) {
  auto loop = MakeLoop();
  sockaddr_in addr;
  // A listener whose accept queue is full drops further SYNs: the connect never completes.
  int lfd = Listener(&addr, /*backlog=*/0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int f = TcpSocket();
    connect(f, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(f);
  }
  Recorder r;
  SlotId slot = loop->Register(&r);
  int fd = TcpSocket();
  loop->Connect(slot, fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr), 50'000'000);
  RunUntil(*loop, [&] { return !r.events.empty(); });
  EXPECT_EQ(r.events[0].op, OpKind::kConnect);
  EXPECT_EQ(r.events[0].res, -ETIMEDOUT);
  RunUntil(*loop, [&] { return loop->InFlight(slot) == 0; });
  close(fd);
  for (int f : fillers) close(f);
  close(lfd);
}

TEST(EventLoopTest, CancelledRecvCompletesWithEcanceled) {
  auto loop = MakeLoop();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Recorder r;
  SlotId slot = loop->Register(&r);
  char buf[16];
  loop->Recv(slot, sv[0], buf, sizeof(buf));
  loop->RunOnce(0);  // submitted, nothing to read
  EXPECT_TRUE(r.events.empty());
  loop->Cancel(slot, OpKind::kRecv);
  RunUntil(*loop, [&] { return !r.events.empty(); });
  EXPECT_EQ(r.events[0].op, OpKind::kRecv);
  EXPECT_EQ(r.events[0].res, -ECANCELED);
  RunUntil(*loop, [&] { return loop->InFlight(slot) == 0; });
  EXPECT_EQ(r.events.size(), 1u);  // the cancel request itself is not delivered
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoopTest, ReleasedSlotGetsNoCompletionAndIsReusedOnlyWhenDrained) {
  auto loop = MakeLoop();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Recorder old_owner, new_owner;
  SlotId slot = loop->Register(&old_owner);
  char buf[16];
  loop->Recv(slot, sv[0], buf, sizeof(buf));
  loop->RunOnce(0);
  loop->Release(slot);
  SlotId other = loop->Register(&new_owner);
  EXPECT_NE(other.index, slot.index);  // still has an operation in flight
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  RunUntil(*loop, [&] { return loop->stats().stale_completions == 1; });
  EXPECT_TRUE(old_owner.events.empty());
  EXPECT_TRUE(new_owner.events.empty());
  loop->Release(other);
  SlotId reused = loop->Register(&new_owner);
  SlotId reused2 = loop->Register(&new_owner);
  EXPECT_TRUE(reused.index == slot.index || reused2.index == slot.index);
  EXPECT_NE(reused.index == slot.index ? reused.generation : reused2.generation, slot.generation);
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoopTest, DrainedCallbackRunsOnlyOnceTheLastOperationCompleted) {
  auto loop = MakeLoop();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Recorder r;
  SlotId slot = loop->Register(&r);
  char buf[16];
  loop->Recv(slot, sv[0], buf, sizeof(buf));
  loop->RunOnce(0);
  bool drained = false;
  loop->Cancel(slot, OpKind::kRecv);
  loop->Release(slot, [&] { drained = true; });
  EXPECT_FALSE(drained);
  RunUntil(*loop, [&] { return drained; });
  EXPECT_EQ(loop->InFlight(slot), 0u);
  EXPECT_TRUE(r.events.empty());
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  auto loop = MakeLoop();
  Recorder r;
  uint64_t now = EventLoop::MonotonicNs();
  loop->AddTimer(now + 3'000'000, &r, 3);
  loop->AddTimer(now + 1'000'000, &r, 1);
  TimerId cancelled = loop->AddTimer(now + 2'000'000, &r, 99);
  loop->AddTimer(now + 2'000'000, &r, 2);
  loop->CancelTimer(cancelled);
  EXPECT_FALSE(cancelled.valid());
  EXPECT_EQ(loop->timers_pending(), 3u);
  RunUntil(*loop, [&] { return r.fired.size() == 3; });
  EXPECT_THAT(r.fired, testing::ElementsAre(1, 2, 3));
  EXPECT_FALSE(loop->HasWork());
}

TEST(EventLoopTest, TimerHeapStaysBoundedUnderCancelChurn) {
  auto loop = MakeLoop();
  Recorder r;
  uint64_t far = EventLoop::MonotonicNs() + 3'600'000'000'000;
  for (int i = 0; i < 100000; ++i) {
    TimerId id = loop->AddTimer(far, &r, i);
    loop->CancelTimer(id);
  }
  // Cancelled entries are compacted away instead of piling up until their far deadline.
  EXPECT_LT(loop->timer_heap_size(), 20000u);
  TimerId live = loop->AddTimer(EventLoop::MonotonicNs(), &r, 7);
  RunUntil(*loop, [&] { return r.fired.size() == 1; });
  EXPECT_THAT(r.fired, testing::ElementsAre(7));
  EXPECT_FALSE(live.valid() && loop->timers_pending() > 0);
}

TEST(EventLoopTest, FullSubmissionQueueBacklogsAndCompletesEverything) {
  EventLoopOptions options;
  options.sq_entries = 4;
  options.cq_entries = 8;
  auto loop = MakeLoop(options);
  constexpr int kPairs = 64;
  std::vector<std::array<int, 2>> pairs(kPairs);
  std::vector<Recorder> recorders(kPairs);
  std::vector<SlotId> slots;
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[i].data()), 0);
    ASSERT_EQ(write(pairs[i][1], "y", 1), 1);
    slots.push_back(loop->Register(&recorders[i]));
    loop->PollAdd(slots.back(), pairs[i][0], POLLIN);
  }
  EXPECT_GT(loop->stats().backlogged, 0u);
  auto all_done = [&] {
    for (auto& r : recorders) {
      if (r.events.empty()) return false;
    }
    return true;
  };
  RunUntil(*loop, all_done);
  for (auto& r : recorders) {
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].op, OpKind::kPoll);
    EXPECT_TRUE(r.events[0].res & POLLIN);
  }
  for (auto& p : pairs) {
    close(p[0]);
    close(p[1]);
  }
}

TEST(EventLoopTest, MultishotPollStaysArmedUntilRemoved) {
  auto loop = MakeLoop();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
  Recorder r;
  SlotId slot = loop->Register(&r);
  loop->PollAdd(slot, sv[0], POLLIN, /*multishot=*/true);
  loop->RunOnce(0);
  char c;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(write(sv[1], "z", 1), 1);
    RunUntil(*loop, [&] { return r.events.size() == static_cast<size_t>(i + 1); });
    ASSERT_EQ(read(sv[0], &c, 1), 1);
  }
  loop->PollRemove(slot);
  RunUntil(*loop, [&] { return loop->InFlight(slot) == 0; });
  EXPECT_FALSE(loop->HasWork());
  close(sv[0]);
  close(sv[1]);
}

TEST(EventLoopTest, DeferredWorkRunsAfterTheBatch) {
  auto loop = MakeLoop();
  std::vector<int> order;
  loop->Defer([&] {
    order.push_back(1);
    loop->Defer([&] { order.push_back(2); });
  });
  loop->RunOnce(0);
  EXPECT_THAT(order, testing::ElementsAre(1));
  loop->RunOnce(0);
  EXPECT_THAT(order, testing::ElementsAre(1, 2));
}

}  // namespace
}  // namespace mxray::io
