/* Does nothing, statically linked (glibc -static, -static-pie, musl-gcc -static): what `sealkit run` costs a static
 * program per exec (bench/runtime/static_run). */
int main(void) { return 0; }
