/* A library that changes the protection of its own data (own_data.h); built
 * twice, as a library own_data_target needs and as one it dlopens. */
#include "own_data.h"

void own_data_lib_report(FILE* out, const char* prefix) { own_data_report(out, prefix); }
