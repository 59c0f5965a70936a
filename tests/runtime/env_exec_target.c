/* A program that starts itself again, in one of the ways that hand the child
 * an environment of the program's own choosing, run by env_exec_test.cpp
 * under `sealkit run`:
 *
 *   env_exec_target report LIB       dlopen LIB (none when ""), then print, for each file
 *                                    mapped, "object PATH sealed|unsealed"
 *                                    (every VMA of it has "sl" in VmFlags)
 *   env_exec_target WAY LIB [PROG]   start "PROG report LIB" by WAY (PROG: this
 *                                    program unless given)
 *
 * WAY: clearenv-execv, execle, execl-unset, posix_spawn, posix_spawnp,
 * fexecve, execveat, system, popen, vfork-big (vfork, then execve with a
 * fresh envp of 2000 variables: too large for the wrapper's stack buffer).
 * The report ends with "environment N", the number of variables the child got. The child's report is the test's stdout;
 * the exit status is the child's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct object {
  char path[PATH_MAX];
  int sealed;
};

static int report(const char *lib) {
  if (lib != NULL && lib[0] != '\0' && dlopen(lib, RTLD_NOW) == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
    return 3;
  }
  FILE *f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return 4;
  static struct object objects[256];
  size_t n = 0;
  struct object *cur = NULL;
  char line[PATH_MAX + 256];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    char perms[8];
    int off = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) == 3 && off > 0) {
      cur = NULL;
      char *path = line + off;
      path[strcspn(path, "\n")] = '\0';
      if (path[0] != '/') continue;
      for (size_t i = 0; i < n; ++i) {
        if (strcmp(objects[i].path, path) == 0) cur = &objects[i];
      }
      if (cur == NULL && n < sizeof objects / sizeof objects[0]) {
        cur = &objects[n++];
        snprintf(cur->path, sizeof cur->path, "%s", path);
        cur->sealed = 1;
      }
    } else if (cur != NULL && strncmp(line, "VmFlags:", 8) == 0) {
      if (strstr(line, " sl") == NULL) cur->sealed = 0;
    }
  }
  fclose(f);
  for (size_t i = 0; i < n; ++i) printf("object %s %s\n", objects[i].path, objects[i].sealed ? "sealed" : "unsealed");
  size_t vars = 0;
  while (environ != NULL && environ[vars] != NULL) ++vars;
  printf("environment %zu\n", vars);
  return 0;
}

static int wait_for(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) return 5;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *way = argv[1];
  const char *lib = argc > 2 ? argv[2] : NULL;
  if (strcmp(way, "report") == 0) return report(lib);

  char self[PATH_MAX];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return 6;
  self[len] = '\0';
  if (argc > 3) snprintf(self, sizeof self, "%s", argv[3]);
  char *child[] = {self, "report", (char *)lib, NULL};
  char *empty[] = {NULL};
  char *fresh[] = {"FRESH=1", NULL};
  fflush(stdout);

  if (strcmp(way, "clearenv-execv") == 0) {
    clearenv();
    execv(self, child);
  } else if (strcmp(way, "execle") == 0) {
    execle(self, self, "report", lib, (char *)NULL, fresh);
  } else if (strcmp(way, "execl-unset") == 0) {
    unsetenv("LD_AUDIT");
    unsetenv("LD_PRELOAD");
    execl(self, self, "report", lib, (char *)NULL);
  } else if (strcmp(way, "posix_spawn") == 0 || strcmp(way, "posix_spawnp") == 0) {
    pid_t pid;
    const int err = way[11] == 'p' ? posix_spawnp(&pid, self, NULL, NULL, child, empty)
                                   : posix_spawn(&pid, self, NULL, NULL, child, empty);
    if (err != 0) return 7;
    return wait_for(pid);
  } else if (strcmp(way, "fexecve") == 0) {
    const int fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 8;
    fexecve(fd, child, empty);
  } else if (strcmp(way, "execveat") == 0) {
    execveat(AT_FDCWD, self, child, empty, 0);
  } else if (strcmp(way, "vfork-big") == 0) {
    enum { kVars = 2000 };
    static char text[kVars][16];
    static char *big[kVars + 1];
    for (int i = 0; i < kVars; ++i) {
      snprintf(text[i], sizeof text[i], "V%d=%d", i, i);
      big[i] = text[i];
    }
    const pid_t pid = vfork();
    if (pid == 0) {
      execve(self, child, big);
      _exit(127);
    }
    if (pid < 0) return 13;
    return wait_for(pid);
  } else if (strcmp(way, "system") == 0 || strcmp(way, "popen") == 0) {
    unsetenv("LD_PRELOAD");
    char command[2 * PATH_MAX + 32];
    snprintf(command, sizeof command, "exec '%s' report '%s'", self, lib != NULL ? lib : "");
    if (way[0] == 's') {
      const int status = system(command);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 9;
    }
    FILE *p = popen(command, "r");
    if (p == NULL) return 10;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) fwrite(buf, 1, got, stdout);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 11;
  } else {
    return 2;
  }
  perror(way);
  return 12;
}
