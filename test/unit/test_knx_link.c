/* knx_link against a real knxd test bus on a unix socket (see
 * docs: knxd -e 0.0.1 -E 0.0.2:30 -u SOCK -b dummy:). Each test starts its
 * own knxd in its own temporary directory. */
#include <criterion/criterion.h>

#include <eibclient.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "knx/knx.h"

#define GA(a, b, c) ((uint16_t)((a) << 11 | (b) << 8 | (c)))

enum { MAX_STATES = 16, WAIT_MS = 5000, RECONNECT_WAIT_MS = 10000 };

typedef struct {
  knx_link_state states[MAX_STATES];
  int state_count;
  int group_count;
  uint16_t src, dst;
  knx_service svc;
  knx_payload payload;
  int closed;
  bool destroy_on_group;
  knx_link *link;
} record;

static struct {
  char dir[64];
  char sock[128];
  char log[128];
  char url[160];
  pid_t knxd;
  uv_loop_t loop;
  uv_timer_t tick;
  record rec;
} t;

/* ---- knxd ----------------------------------------------------------------- */

static bool knxd_installed(void)
{
  const char *path = getenv("PATH");
  char dir[512];
  while (path != NULL && *path != '\0') {
    size_t n = strcspn(path, ":");
    if (n > 0 && n < sizeof dir - 8) {
      snprintf(dir, sizeof dir, "%.*s/knxd", (int)n, path);
      if (access(dir, X_OK) == 0)
        return true;
    }
    path += n;
    if (*path == ':')
      path++;
  }
  return false;
}

static void require_knxd(void)
{
  if (!knxd_installed())
    cr_skip_test("knxd is not installed (apt-get install knxd knxd-tools)");
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pid_t spawn(char *const argv[], const char *log)
{
  pid_t pid = fork();
  cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
  if (pid == 0) {
    /* Never outlive the test process, even if it dies on an assertion. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

/* Ready = a group socket can be opened. */
static bool bus_is_ready(void)
{
  EIBConnection *con = EIBSocketURL(t.url);
  if (con == NULL)
    return false;
  bool ok = EIBOpen_GroupSocket(con, 0) == 0;
  EIBClose(con);
  return ok;
}

static void start_knxd(void)
{
  char *argv[] = {"knxd", "-e", "0.0.1", "-E", "0.0.2:30", "-u", t.sock,
                  "-b", "dummy:", NULL};
  t.knxd = spawn(argv, t.log);
  for (int i = 0; i < WAIT_MS / 20; i++) {
    int status;
    cr_assert_eq(waitpid(t.knxd, &status, WNOHANG), 0,
                 "knxd exited at start, see %s", t.log);
    if (bus_is_ready())
      return;
    sleep_ms(20);
  }
  cr_assert_fail("knxd did not become ready");
}

static void stop_knxd(int sig)
{
  if (t.knxd <= 0)
    return;
  kill(t.knxd, sig);
  waitpid(t.knxd, NULL, 0);
  t.knxd = 0;
}

static int run_tool(char *const argv[])
{
  int status;
  pid_t pid = spawn(argv, t.log);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- loop ----------------------------------------------------------------- */

static void on_state(void *user_data, knx_link_state state)
{
  record *r = user_data;
  cr_assert_lt(r->state_count, MAX_STATES);
  r->states[r->state_count++] = state;
}

static void on_group(void *user_data, uint16_t src, uint16_t dst,
                     knx_service svc, const knx_payload *p)
{
  record *r = user_data;
  r->group_count++;
  r->src = src;
  r->dst = dst;
  r->svc = svc;
  r->payload = *p;
  if (r->destroy_on_group)
    knx_link_destroy(r->link, NULL);
}

static void on_closed(void *user_data)
{
  record *r = user_data;
  r->closed++;
}

static const knx_link_callbacks callbacks = {on_state, on_group};

static void on_tick(uv_timer_t *timer)
{
  (void)timer;
}

static void setup(void)
{
  signal(SIGPIPE, SIG_IGN);
  memset(&t.rec, 0, sizeof t.rec);
  snprintf(t.dir, sizeof t.dir, "/tmp/knxlinkXXXXXX");
  cr_assert_not_null(mkdtemp(t.dir));
  snprintf(t.sock, sizeof t.sock, "%s/knx.sock", t.dir);
  snprintf(t.log, sizeof t.log, "%s/knxd.log", t.dir);
  snprintf(t.url, sizeof t.url, "local:%s", t.sock);
  t.knxd = 0;
  cr_assert_eq(uv_loop_init(&t.loop), 0);
  cr_assert_eq(uv_timer_init(&t.loop, &t.tick), 0);
}

static void teardown(void)
{
  stop_knxd(SIGTERM);
  unlink(t.sock);
  unlink(t.log);
  rmdir(t.dir);
}

TestSuite(link, .init = setup, .fini = teardown, .timeout = 60);

/* Runs the loop until done() or the time is up; a ticking timer makes sure
 * uv_run returns regularly to check. */
static bool run_until(bool (*done)(const record *), int timeout_ms)
{
  uv_update_time(&t.loop);
  uint64_t deadline = uv_now(&t.loop) + (uint64_t)timeout_ms;
  uv_timer_start(&t.tick, on_tick, 10, 10);
  while (!done(&t.rec) && uv_now(&t.loop) < deadline)
    uv_run(&t.loop, UV_RUN_ONCE);
  uv_timer_stop(&t.tick);
  return done(&t.rec);
}

static bool never(const record *r)
{
  (void)r;
  return false;
}

static bool last_is_up(const record *r)
{
  return r->state_count > 0 && r->states[r->state_count - 1] == KNX_LINK_UP;
}

static bool last_is_down(const record *r)
{
  return r->state_count > 0 && r->states[r->state_count - 1] == KNX_LINK_DOWN;
}

static bool got_group(const record *r)
{
  return r->group_count > 0;
}

static knx_link *create_link(void)
{
  knx_link *link = NULL;
  cr_assert_eq(knx_link_create(&t.loop, t.url, &callbacks, &t.rec, &link),
               KNX_OK);
  cr_assert_not_null(link);
  t.rec.link = link;
  return link;
}

/* Destroys the link, lets libuv close everything and checks nothing is
 * left on the loop. */
static void finish(knx_link *link)
{
  int closed_before = t.rec.closed;
  knx_link_destroy(link, on_closed);
  cr_assert_eq(t.rec.closed, closed_before, "on_closed before handles closed");
  uv_close((uv_handle_t *)&t.tick, NULL);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  cr_assert_eq(t.rec.closed, closed_before + 1);
  cr_assert_eq(uv_loop_close(&t.loop), 0);
}

static void expect_states(const knx_link_state *want, int count)
{
  cr_assert_eq(t.rec.state_count, count, "%d state changes, want %d",
               t.rec.state_count, count);
  for (int i = 0; i < count; i++)
    cr_assert_eq(t.rec.states[i], want[i], "state change %d", i);
}

/* ---- a second client on the bus ------------------------------------------- */

static EIBConnection *peer_open(void)
{
  EIBConnection *con = EIBSocketURL(t.url);
  cr_assert_not_null(con, "peer connect: %s", strerror(errno));
  cr_assert_eq(EIBOpen_GroupSocket(con, 0), 0);
  return con;
}

static int peer_receive(EIBConnection *con, uint8_t *apdu, int cap,
                        eibaddr_t *dst)
{
  eibaddr_t src;
  for (int waited = 0; waited < WAIT_MS; waited += 20) {
    int complete = EIB_Poll_Complete(con);
    if (complete < 0)
      return -1;
    if (complete == 1)
      return EIBGetGroup_Src(con, cap, apdu, &src, dst);
    struct pollfd pfd = {.fd = EIB_Poll_FD(con), .events = POLLIN};
    poll(&pfd, 1, 20);
  }
  return -1;
}

/* ---- tests ---------------------------------------------------------------- */

Test(link, create_refuses_invalid_arguments)
{
  knx_link *link = (knx_link *)&t;
  cr_assert_eq(knx_link_create(&t.loop, NULL, &callbacks, &t.rec, &link),
               KNX_EINVAL);
  cr_assert_eq(knx_link_create(&t.loop, "", &callbacks, &t.rec, &link),
               KNX_EINVAL);
  cr_assert_eq(knx_link_create(&t.loop, t.url, NULL, &t.rec, &link),
               KNX_EINVAL);
  cr_assert_eq(knx_link_create(NULL, t.url, &callbacks, &t.rec, &link),
               KNX_EINVAL);
  cr_assert_eq(knx_link_create(&t.loop, t.url, &callbacks, &t.rec, NULL),
               KNX_EINVAL);
  cr_assert_eq(link, (knx_link *)&t, "output set on failure");
  uv_close((uv_handle_t *)&t.tick, NULL);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  cr_assert_eq(t.rec.state_count, 0);
  cr_assert_eq(uv_loop_close(&t.loop), 0);
}

Test(link, destroy_of_null_is_a_no_op)
{
  knx_link_destroy(NULL, on_closed);
  cr_assert_eq(t.rec.closed, 0);
  uv_close((uv_handle_t *)&t.tick, NULL);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&t.loop), 0);
}

Test(link, is_up_right_after_create_when_knxd_runs)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_UP);
  expect_states((knx_link_state[]){KNX_LINK_UP}, 1);
  cr_assert_str_eq(knx_link_last_error(link), "");
  finish(link);
}

Test(link, absent_knxd_is_not_an_error)
{
  require_knxd();
  knx_link *link = create_link();
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_DOWN);
  cr_assert_eq(t.rec.state_count, 0, "no change, so no on_state");
  cr_assert_not_null(strstr(knx_link_last_error(link), t.sock),
                     "last error: %s", knx_link_last_error(link));
  cr_assert_not_null(strstr(knx_link_last_error(link), "No such file"),
                     "last error: %s", knx_link_last_error(link));
  finish(link);
}

Test(link, send_while_down_is_enotconn)
{
  require_knxd();
  knx_link *link = create_link();
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, &p),
               KNX_ENOTCONN);
  finish(link);
}

Test(link, receives_short_write_from_knxtool)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  cr_assert_eq(run_tool((char *[]){"knxtool", "groupswrite", t.url, "1/2/3",
                                   "1", NULL}),
               0);
  cr_assert(run_until(got_group, WAIT_MS), "no telegram received");
  cr_assert_eq(t.rec.dst, GA(1, 2, 3));
  cr_assert_eq(t.rec.svc, KNX_GROUP_WRITE);
  cr_assert(t.rec.payload.short_form);
  cr_assert_eq(t.rec.payload.len, 1);
  cr_assert_eq(t.rec.payload.data[0], 1);
  cr_assert_neq(t.rec.src, 0, "source is the sender's individual address");
  finish(link);
}

Test(link, receives_long_write_from_knxtool)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  cr_assert_eq(run_tool((char *[]){"knxtool", "groupwrite", t.url, "9/7/40",
                                   "0C", "1A", NULL}),
               0);
  cr_assert(run_until(got_group, WAIT_MS), "no telegram received");
  cr_assert_eq(t.rec.dst, GA(9, 7, 40));
  cr_assert_eq(t.rec.svc, KNX_GROUP_WRITE);
  cr_assert_not(t.rec.payload.short_form);
  cr_assert_eq(t.rec.payload.len, 2);
  cr_assert_eq(t.rec.payload.data[0], 0x0C);
  cr_assert_eq(t.rec.payload.data[1], 0x1A);
  finish(link);
}

Test(link, receives_read_from_another_client)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  EIBConnection *peer = peer_open();
  cr_assert_eq(EIBSendGroup(peer, GA(9, 7, 40), 2, (const uint8_t[]){0, 0}),
               2);
  cr_assert(run_until(got_group, WAIT_MS), "no telegram received");
  cr_assert_eq(t.rec.svc, KNX_GROUP_READ);
  cr_assert_eq(t.rec.payload.len, 0);
  EIBClose(peer);
  finish(link);
}

Test(link, ignores_other_services)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  EIBConnection *peer = peer_open();
  /* APCI 0xC0 first, then a write as a marker that both went through. */
  cr_assert_eq(EIBSendGroup(peer, GA(1, 1, 1), 3,
                            (const uint8_t[]){0x00, 0xC0, 0x01}),
               3);
  cr_assert_eq(EIBSendGroup(peer, GA(1, 1, 2), 2,
                            (const uint8_t[]){0x00, 0x81}),
               2);
  cr_assert(run_until(got_group, WAIT_MS), "no telegram received");
  run_until(never, 100);
  cr_assert_eq(t.rec.group_count, 1);
  cr_assert_eq(t.rec.dst, GA(1, 1, 2));
  EIBClose(peer);
  finish(link);
}

Test(link, sent_telegram_arrives_at_another_client)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  EIBConnection *peer = peer_open();
  knx_payload p = {.short_form = false, .len = 2, .data = {0x0C, 0x1A}};
  cr_assert_eq(knx_link_send(link, GA(9, 7, 40), KNX_GROUP_WRITE, &p), KNX_OK);
  uint8_t apdu[64];
  eibaddr_t dst = 0;
  int len = peer_receive(peer, apdu, sizeof apdu, &dst);
  cr_assert_eq(len, 4);
  cr_assert_eq(dst, GA(9, 7, 40));
  cr_assert_arr_eq(apdu, ((const uint8_t[]){0x00, 0x80, 0x0C, 0x1A}), 4);
  EIBClose(peer);
  finish(link);
}

Test(link, sent_response_arrives_at_another_client)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  EIBConnection *peer = peer_open();
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_RESPONSE, &p),
               KNX_OK);
  uint8_t apdu[64];
  eibaddr_t dst = 0;
  int len = peer_receive(peer, apdu, sizeof apdu, &dst);
  cr_assert_eq(len, 2);
  cr_assert_eq(dst, GA(1, 2, 3));
  cr_assert_arr_eq(apdu, ((const uint8_t[]){0x00, 0x41}), 2);
  EIBClose(peer);
  finish(link);
}

Test(link, send_refuses_bad_payload)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  knx_payload p = {.short_form = true, .len = 1, .data = {0x40}};
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, &p),
               KNX_EINVAL);
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, NULL),
               KNX_EINVAL);
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_UP);
  finish(link);
}

Test(link, comes_up_when_knxd_starts_later)
{
  require_knxd();
  knx_link *link = create_link();
  run_until(never, 100);
  start_knxd();
  cr_assert(run_until(last_is_up, RECONNECT_WAIT_MS), "link did not come up");
  expect_states((knx_link_state[]){KNX_LINK_UP}, 1);
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_UP);
  finish(link);
}

Test(link, goes_down_when_knxd_stops_and_up_when_it_returns)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  stop_knxd(SIGTERM);
  cr_assert(run_until(last_is_down, WAIT_MS), "link did not go down");
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_DOWN);
  start_knxd();
  cr_assert(run_until(last_is_up, RECONNECT_WAIT_MS), "link did not come back");
  expect_states((knx_link_state[]){KNX_LINK_UP, KNX_LINK_DOWN, KNX_LINK_UP},
                3);
  finish(link);
}

Test(link, failed_send_takes_link_down_and_reconnects)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  /* The loop has not run, so only the send can notice knxd is gone. */
  stop_knxd(SIGKILL);
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, &p), KNX_EIO);
  cr_assert_eq(knx_link_get_state(link), KNX_LINK_DOWN);
  expect_states((knx_link_state[]){KNX_LINK_UP, KNX_LINK_DOWN}, 2);
  cr_assert_not_null(strstr(knx_link_last_error(link), "send"), "%s",
                     knx_link_last_error(link));
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, &p),
               KNX_ENOTCONN);
  start_knxd();
  cr_assert(run_until(last_is_up, RECONNECT_WAIT_MS), "link did not come back");
  finish(link);
}

Test(link, destroy_while_waiting_for_retry)
{
  require_knxd();
  knx_link *link = create_link();
  run_until(never, 100);
  finish(link);
  cr_assert_eq(t.rec.state_count, 0);
}

Test(link, destroy_while_connection_closes)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  stop_knxd(SIGKILL);
  knx_payload p = {.short_form = true, .len = 1, .data = {1}};
  cr_assert_eq(knx_link_send(link, GA(1, 2, 3), KNX_GROUP_WRITE, &p), KNX_EIO);
  finish(link);
}

Test(link, destroy_while_connected_calls_no_state_callback)
{
  require_knxd();
  start_knxd();
  knx_link *link = create_link();
  run_until(never, 50);
  finish(link);
  expect_states((knx_link_state[]){KNX_LINK_UP}, 1);
}

Test(link, destroy_from_inside_on_group_is_safe)
{
  require_knxd();
  start_knxd();
  t.rec.destroy_on_group = true;
  knx_link *link = create_link();
  (void)link;
  EIBConnection *peer = peer_open();
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(EIBSendGroup(peer, GA(1, 2, 3), 2,
                              (const uint8_t[]){0x00, 0x81}),
                 2);
  }
  cr_assert(run_until(got_group, WAIT_MS), "no telegram received");
  uv_close((uv_handle_t *)&t.tick, NULL);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  cr_assert_eq(t.rec.group_count, 1, "callback after destroy");
  expect_states((knx_link_state[]){KNX_LINK_UP}, 1);
  cr_assert_eq(uv_loop_close(&t.loop), 0);
  EIBClose(peer);
}
