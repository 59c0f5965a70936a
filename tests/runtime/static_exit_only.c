/* A static program whose first system call is exit_group(5): it ends within what `sealkit run` takes for its
 * start-up, before there is anything to seal (tests/runtime/static_run_test.cpp). No libc. */
void _start(void) {
  __asm__ volatile("mov $231, %eax\n\tmov $5, %edi\n\tsyscall\n\thlt");
}
