/* The plugin origin_host loads; PLUGIN_ID tells the copies apart. */
const char* sealkit_origin_plugin_id(void) { return PLUGIN_ID; }
