/* How sealed the object whose path ends in SUFFIX is, from
 * /proc/self/smaps: prints "LABEL all-sealed N" (every one of its N VMAs has
 * `sl`), "LABEL open K-of-N" (K of them do not) or "LABEL unmapped". */
#pragma once

void object_state(const char* label, const char* suffix);
