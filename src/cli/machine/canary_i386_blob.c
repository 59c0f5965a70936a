/* The 32-bit canary program (canary_i386.c, built with -m32), embedded byte
 * for byte so that an installed sealkit needs no extra file. CMake passes its
 * path in SEALKIT_CANARY_I386 and rebuilds this file when it changes. */
#ifndef SEALKIT_CANARY_I386
#error "SEALKIT_CANARY_I386 must name the built 32-bit canary"
#endif

__asm__(".pushsection .rodata\n"
        ".balign 16\n"
        ".globl sealkit_canary_i386_begin\n"
        ".hidden sealkit_canary_i386_begin\n"
        "sealkit_canary_i386_begin:\n"
        ".incbin \"" SEALKIT_CANARY_I386 "\"\n"
        ".globl sealkit_canary_i386_end\n"
        ".hidden sealkit_canary_i386_end\n"
        "sealkit_canary_i386_end:\n"
        ".popsection\n");
