/* An object with a dependency (DT_NEEDED): sealing it must seal that too. */
int sealkit_test_value(void);

int sealkit_test_user_value(void) { return sealkit_test_value() + 100; }
