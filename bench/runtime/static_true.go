// Does nothing, statically linked (CGO_ENABLED=0): bench/runtime/static_run's Go program.
package main

func main() {}
