/* A GNU_PROPERTY_MEMORY_SEAL property note (what `ld -z memory-seal` of
 * binutils 2.44 writes; Debian 12's binutils 2.40 cannot, but keeps a note it
 * finds in an input, with a warning). Linked into a copy of the attack target
 * so that the runtime's report of the property can be checked. */
__asm__(
    ".pushsection .note.gnu.property,\"a\"\n"
    ".p2align 3\n"
    ".long 4\n"   /* n_namesz */
    ".long 8\n"   /* n_descsz: one property, no data */
    ".long 5\n"   /* NT_GNU_PROPERTY_TYPE_0 */
    ".asciz \"GNU\"\n"
    ".long 3\n"   /* GNU_PROPERTY_MEMORY_SEAL */
    ".long 0\n"   /* pr_datasz */
    ".popsection\n");
