/* The ELF object `sealkit selftest` loads in each child to attack the parts of
 * a real shared object: text, rodata, RELRO, data and bss. It is linked with
 * -z relro -z now -z separate-code so that each part lies in its own pages,
 * and every part is at least two pages long so that a shrinking mremap has
 * something to cut. Nothing here is ever called: the object only has to be
 * mapped by the dynamic loader the way any library is. */

/* text: one real function, then 8 KiB of padding in .text. */
__attribute__((used)) int sealkit_target_text(int x) { return x * 3 + 1; }
__asm__(".pushsection .text\n"
        ".globl sealkit_target_text_pad\n"
        "sealkit_target_text_pad:\n"
        ".fill 8192, 1, 0\n"
        ".popsection\n");

/* rodata: a constant table of 12 KiB. */
#define RODATA_WORDS 3072
const unsigned sealkit_target_rodata[RODATA_WORDS] = {[0] = 0x5ea1c0deu, [RODATA_WORDS - 1] = 0xc0de5ea1u};

/* RELRO: pointers the loader must relocate, then never writes again. 1024
 * relocated pointers take 8 KiB of .data.rel.ro. */
#define RELRO_POINTERS 1024
#define P8(i) &sealkit_target_rodata[(i)], &sealkit_target_rodata[(i) + 1], &sealkit_target_rodata[(i) + 2], \
              &sealkit_target_rodata[(i) + 3], &sealkit_target_rodata[(i) + 4], &sealkit_target_rodata[(i) + 5], \
              &sealkit_target_rodata[(i) + 6], &sealkit_target_rodata[(i) + 7]
#define P64(i) P8(i), P8((i) + 8), P8((i) + 16), P8((i) + 24), P8((i) + 32), P8((i) + 40), P8((i) + 48), P8((i) + 56)
#define P512(i) P64(i), P64((i) + 64), P64((i) + 128), P64((i) + 192), P64((i) + 256), P64((i) + 320), \
                P64((i) + 384), P64((i) + 448)
const unsigned *const sealkit_target_relro[RELRO_POINTERS] = {P512(0), P512(512)};

/* data: 16 KiB of initialised, writable data. */
#define DATA_WORDS 4096
unsigned sealkit_target_data[DATA_WORDS] = {[0] = 1u, [DATA_WORDS - 1] = 2u};

/* bss: 64 KiB of zero-initialised data, most of it past the file's last page,
 * where the loader maps anonymous memory. */
unsigned char sealkit_target_bss[64 * 1024];
