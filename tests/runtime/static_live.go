// The Go build of static_live.c (CGO_ENABLED=0: statically linked, Go's own start-up): says "ready", runs until its
// stdin closes, prints its first argument and exits with status 7.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	arg := "-"
	if len(os.Args) > 1 {
		arg = os.Args[1]
	}
	fmt.Printf("done %s\n", arg)
	os.Exit(7)
}
