// A tiny shared object for the tests to dlopen after
// sealkit_seal_loaded_objects(): it must load, run and stay unsealed.
extern "C" {

__attribute__((visibility("default"))) int sealkit_fixture_counter = 0;

__attribute__((visibility("default"))) int sealkit_fixture_bump(void) { return ++sealkit_fixture_counter; }
}
