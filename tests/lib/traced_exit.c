/* A program that ends while a process of its own tree traces it: its child
 * attaches to it (PTRACE_ATTACH, allowed by PR_SET_PTRACER), lets it go on
 * and then sleeps for the seconds argv[1] says without ever waiting for it.
 * The program exits with status 5 and stays a zombie only its tracer may
 * reap: its parent is told it ended (a pidfd of it is readable) but cannot
 * wait for it until the tracer ends. Prints "traced" once attached, or
 * "no ptrace" (exit 6) where the tracer could not attach. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
  const pid_t program = getpid();
  int ready[2];
  if (pipe(ready) != 0) return 2;
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  const pid_t tracer = fork();
  if (tracer < 0) return 2;
  if (tracer == 0) {
    close(ready[0]);
    const char answer = ptrace(PTRACE_ATTACH, program, 0, 0) == 0 ? 't' : 'n';
    if (answer == 't') {
      int status;
      while (waitpid(program, &status, __WALL) < 0 && errno == EINTR) {
      }
      ptrace(PTRACE_CONT, program, 0, 0);
    }
    if (write(ready[1], &answer, 1) != 1) _exit(2);
    if (answer == 't') sleep(seconds);
    _exit(0);
  }
  close(ready[1]);
  char answer = 0;
  ssize_t r;
  do r = read(ready[0], &answer, 1);
  while (r < 0 && errno == EINTR);
  if (answer != 't') {
    puts("no ptrace");
    return 6;
  }
  puts("traced");
  fflush(stdout);
  return 5;
}
