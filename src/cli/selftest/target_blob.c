/* The selftest's ELF object (selftest/target/target.c, built as a shared
 * object), embedded byte for byte so that an installed sealkit needs no
 * extra file. CMake passes the object's path in SEALKIT_SELFTEST_TARGET_SO
 * and rebuilds this file when the object changes. */
#ifndef SEALKIT_SELFTEST_TARGET_SO
#error "SEALKIT_SELFTEST_TARGET_SO must name the built selftest target object"
#endif

__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        ".globl sealkit_selftest_target_begin\n"
        ".hidden sealkit_selftest_target_begin\n"
        "sealkit_selftest_target_begin:\n"
        ".incbin \"" SEALKIT_SELFTEST_TARGET_SO "\"\n"
        ".globl sealkit_selftest_target_end\n"
        ".hidden sealkit_selftest_target_end\n"
        "sealkit_selftest_target_end:\n"
        ".popsection\n");
