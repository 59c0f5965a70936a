/* A library whose file asks for a writable and executable segment (an
 * "awx" section: ld makes it a PT_LOAD with RWE), which sealkit must leave
 * unsealed rather than seal writable and executable for good. */
__asm__(".section .sealkit_wx,\"awx\",@progbits\n"
        ".p2align 12\n"
        ".globl sealkit_wx_bytes\n"
        "sealkit_wx_bytes:\n"
        ".byte 1\n"
        ".zero 8191\n"
        ".previous\n");
extern unsigned char sealkit_wx_bytes[];

int sealkit_wx_value(void) { return sealkit_wx_bytes[0]; }
void* sealkit_wx_addr(void) { return sealkit_wx_bytes; }
