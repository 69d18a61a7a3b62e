/* gw_control, the client's side (ocppknxd --rotate-password): one request
 * to the running daemon. Plain blocking sockets: the command line has no
 * event loop. See control.h. */
#include "gateway/control.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_to(const char *path, char *answer, size_t answer_len)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(answer, answer_len, "%s: path too long for a unix socket", path);
    return -1;
  }
  memcpy(sa.sun_path, path, strlen(path));
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    snprintf(answer, answer_len, "%s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads up to '\n' or EOF within the deadline: the length, or -1. */
static ssize_t read_answer(int fd, char *buf, size_t cap, int timeout_ms)
{
  size_t len = 0;
  int64_t deadline = now_ms() + timeout_ms;
  while (len + 1 < cap && !memchr(buf, '\n', len)) {
    int64_t left = deadline - now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0)
      return -1;
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return (ssize_t)len;
}

int gw_control_call(const char *path, const char *command,
                    const char *argument, int timeout_ms, bool *ok,
                    char *answer, size_t answer_len)
{
  if (!path || !command || !argument || !ok || !answer || answer_len == 0)
    return GW_EINVAL;
  *ok = false;
  answer[0] = '\0';
  char line[GW_CONTROL_LINE_MAX];
  int n = snprintf(line, sizeof line, "%s %s\n", command, argument);
  if (n < 0 || (size_t)n >= sizeof line || strchr(argument, '\n'))
    return GW_EINVAL;
  int fd = connect_to(path, answer, answer_len);
  if (fd < 0)
    return GW_EOPEN;
  char buf[GW_CONTROL_LINE_MAX + 8];
  ssize_t got = write(fd, line, (size_t)n) == n
                  ? read_answer(fd, buf, sizeof buf, timeout_ms) : -1;
  close(fd);
  if (got <= 0 || !memchr(buf, '\n', (size_t)got)) {
    snprintf(answer, answer_len, "no answer from the daemon");
    return GW_EIO;
  }
  buf[strcspn(buf, "\n")] = '\0';
  *ok = strncmp(buf, "ok ", 3) == 0;
  const char *text = *ok ? buf + 3
                   : strncmp(buf, "error ", 6) == 0 ? buf + 6 : buf;
  snprintf(answer, answer_len, "%s", text);
  return GW_OK;
}
