/* own_data_target REPORT DLOPEN_LIB [--wait]: the program, a library it needs
 * and a library it dlopens each change the protection of their own data
 * (own_data.h); the lines go to REPORT. Then "ready" on stdout and, with
 * --wait, it waits for stdin to close. */
#include <dlfcn.h>
#include <unistd.h>

#include "own_data.h"

void own_data_lib_report(FILE* out, const char* prefix);

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  FILE* out = fopen(argv[1], "w");
  if (!out) return 3;
  own_data_report(out, "main");
  own_data_lib_report(out, "needed");
  void* h = dlopen(argv[2], RTLD_NOW);
  void (*dl_report)(FILE*, const char*) = h ? (void (*)(FILE*, const char*))dlsym(h, "own_data_lib_report") : NULL;
  if (dl_report) dl_report(out, "dlopened");
  else fprintf(out, "dlopened_error %s\n", dlerror());
  fclose(out);
  printf("ready\n");
  fflush(stdout);
  if (argc > 3 && strcmp(argv[3], "--wait") == 0) {
    char buf[16];
    while (read(0, buf, sizeof buf) > 0) {
    }
  }
  return 0;
}
