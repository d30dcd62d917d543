/* The limit of a sequential line client: answers "1\n" to every line it reads, nothing else.
 * One connection at a time, blocking I/O. usage: line_responder PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *) &a, sizeof a) || listen(s, 128)) { perror("listen"); return 1; }
  printf("listening %s\n", argv[1]);
  fflush(stdout);
  char buf[65536], out[65536];
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0) {
      int k = 0;
      for (ssize_t i = 0; i < n; i++) if (buf[i] == '\n') { out[k++] = '1'; out[k++] = '\n'; }
      if (k && write(c, out, k) != k) break;
    }
    close(c);
  }
}
