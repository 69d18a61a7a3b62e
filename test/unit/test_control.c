/* gw_control: the daemon's control socket and its client; and the new
 * passwords of a rotation. */
#include "gateway/control.h"
#include "gateway/rotate.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char path[96];
static uv_loop_t loop;
static gw_control *ctl;
static char got_id[128];
static int requests;

static void setup(void)
{
  snprintf(dir, sizeof dir, "/tmp/gw-control-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/%s", dir, GW_CONTROL_SOCKET);
  cr_assert_eq(uv_loop_init(&loop), 0);
  ctl = NULL;
  requests = 0;
  got_id[0] = '\0';
}

static void teardown(void)
{
  gw_control_stop(ctl);
  uv_run(&loop, UV_RUN_DEFAULT);
  cr_expect_eq(uv_loop_close(&loop), 0, "a handle was left open");
  unlink(path);
  rmdir(dir);
}

TestSuite(control, .init = setup, .fini = teardown, .timeout = 20);

static void on_rotate(void *ud, const char *id, gw_control_request *req)
{
  cr_assert_str_eq(ud, "app");
  snprintf(got_id, sizeof got_id, "%s", id);
  requests++;
  gw_control_answer(req, strcmp(id, "CP1") == 0, "answer for the test");
}

static const gw_control_ops ops = {.rotate_password = on_rotate};

static void start(void)
{
  char err[256] = "";
  cr_assert_eq(gw_control_start(&loop, path, &ops, "app", &ctl, err, sizeof err),
               GW_OK, "%s", err);
}

static int connect_raw(void)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

/* Sends text and runs the loop until the daemon side closes; returns what
 * came back. */
static char *exchange(const char *text)
{
  static char buf[512];
  int fd = connect_raw();
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  size_t len = 0;
  for (int i = 0; i < 2000; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, MSG_DONTWAIT);
    if (n == 0)
      break;
    if (n > 0)
      len += (size_t)n;
    usleep(1000);
  }
  close(fd);
  buf[len] = '\0';
  return buf;
}

Test(control, rotate_request_reaches_the_ops_and_the_answer_comes_back)
{
  start();
  cr_expect_str_eq(exchange("rotate-password CP1\n"), "ok answer for the test\n");
  cr_expect_str_eq(got_id, "CP1");
  cr_expect_str_eq(exchange("rotate-password CP2\r\n"),
                   "error answer for the test\n");
  cr_expect_str_eq(got_id, "CP2");
}

Test(control, unknown_or_incomplete_commands_are_refused)
{
  start();
  cr_expect_str_eq(exchange("reboot-everything\n"), "error unknown command\n");
  cr_expect_str_eq(exchange("rotate-password \n"), "error unknown command\n");
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  cr_expect_str_eq(exchange(big), "error request too long\n");
  cr_expect_eq(requests, 0);
}

Test(control, socket_is_private_to_the_daemons_user)
{
  start();
  struct stat st;
  cr_assert_eq(lstat(path, &st), 0);
  cr_expect(S_ISSOCK(st.st_mode));
  cr_expect_eq(st.st_mode & 0777, 0600);
}

Test(control, stale_socket_is_replaced_and_stop_removes_it)
{
  start();
  gw_control_stop(ctl);
  ctl = NULL;
  uv_run(&loop, UV_RUN_DEFAULT);
  struct stat st;
  cr_expect_neq(lstat(path, &st), 0, "removed on stop");
  /* a socket file left by a killed daemon */
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  close(fd);
  start();
  cr_expect_str_eq(exchange("rotate-password CP1\n"), "ok answer for the test\n");
}

Test(control, a_file_that_is_not_a_socket_is_not_removed)
{
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fclose(f);
  char err[256] = "";
  cr_expect_eq(gw_control_start(&loop, path, &ops, "app", &ctl, err, sizeof err),
               GW_EOPEN);
  cr_expect_null(ctl);
  cr_expect_neq(strstr(err, "is not a socket"), NULL, "%s", err);
  struct stat st;
  cr_expect_eq(lstat(path, &st), 0);
}

Test(control, client_round_trip_with_the_running_daemon)
{
  start();
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    bool ok = false;
    char answer[256];
    int rc = gw_control_call(path, "rotate-password", "CP1", 5000, &ok, answer,
                             sizeof answer);
    _exit(rc == GW_OK && ok && strcmp(answer, "answer for the test") == 0 ? 0 : 1);
  }
  int status = 0;
  for (int i = 0; i < 5000 && waitpid(pid, &status, WNOHANG) == 0; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  cr_expect_eq(requests, 1);
}

Test(control, client_without_a_daemon_says_so)
{
  bool ok = true;
  char answer[256];
  cr_expect_eq(gw_control_call(path, "rotate-password", "CP1", 100, &ok, answer,
                               sizeof answer), GW_EOPEN);
  cr_expect_not(ok);
  cr_expect_neq(strstr(answer, "No such file or directory"), NULL, "%s", answer);
  cr_expect_eq(gw_control_call(path, "rotate-password", "CP\n1", 100, &ok,
                               answer, sizeof answer), GW_EINVAL);
  cr_expect_eq(gw_control_call(NULL, "x", "y", 100, &ok, answer, sizeof answer),
               GW_EINVAL);
}

Test(control, new_passwords_are_40_hex_characters_and_differ)
{
  char a[41], b[41];
  cr_assert_eq(gw_rotate_make_password(a), GW_OK);
  cr_assert_eq(gw_rotate_make_password(b), GW_OK);
  cr_expect_eq(strlen(a), 40);
  cr_expect_eq(strspn(a, "0123456789abcdef"), 40);
  cr_expect_str_neq(a, b);
}
