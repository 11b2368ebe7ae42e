// A minimal keep-alive HTTP/1.1 server that answers every request with the same response of SIZE
// bytes, written one of three ways, so that the kernel's cost of each way can be measured apart
// from any server's own work (loadtests/pacing-probe.sh):
//
//   writev    head and body in one writev() (what edgecache's transport does for a memory hit)
//   split     head in one write(), then the body in another (two sends per response)
//   sendfile  head in one write(), then the body with sendfile() from a memfd (nginx's way)
//
// Usage: pacing-probe MODE PORT SIZE. Listens on 127.0.0.1:PORT; one thread, epoll, blocking
// writes (a loopback client that keeps reading never blocks them for long). Reads are not parsed:
// each read() is taken as one request, which holds for wrk's one-request-per-read pipelining off.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum mode { WRITEV, SPLIT, SENDFILE };

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int respond(int fd, enum mode m, const char *head, size_t hl, const char *body, size_t size, int file) {
  if (m == WRITEV) {
    struct iovec v[2] = {{(void *)head, hl}, {(void *)body, size}};
    ssize_t w = writev(fd, v, 2);
    if (w < 0) return -1;
    size_t done = (size_t)w; // the rest, if writev stopped short
    if (done < hl) return write_all(fd, head + done, hl - done) || write_all(fd, body, size);
    return write_all(fd, body + (done - hl), size - (done - hl));
  }
  if (write_all(fd, head, hl)) return -1;
  if (m == SPLIT) return write_all(fd, body, size);
  off_t off = 0;
  while ((size_t)off < size) {
    if (sendfile(fd, file, &off, size - (size_t)off) <= 0) return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s writev|split|sendfile PORT SIZE\n", argv[0]);
    return 2;
  }
  enum mode m = !strcmp(argv[1], "writev") ? WRITEV : !strcmp(argv[1], "split") ? SPLIT
      : !strcmp(argv[1], "sendfile") ? SENDFILE : -1;
  int port = atoi(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  if ((int)m < 0 || port <= 0 || size == 0) {
    fprintf(stderr, "pacing-probe: bad arguments\n");
    return 2;
  }
  char *body = malloc(size);
  memset(body, 'x', size);
  int file = memfd_create("body", 0);
  if (file < 0 || write_all(file, body, size)) {
    perror("memfd");
    return 1;
  }
  char head[160];
  size_t hl = (size_t)snprintf(head, sizeof head,
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n", size);

  int one = 1;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) {
    perror("listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[64];
  char buf[8192];
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) {
        int c = accept4(ls, NULL, NULL, 0);
        if (c < 0) continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0 || respond(fd, m, head, hl, body, size, file)) close(fd);
    }
  }
}
