// Command avedge is the avedge A/V edge: a STUN/TURN media relay with a
// built-in credential scheme. Run "avedge serve" for a development edge on
// loopback, "avedge creds issue --user NAME" for a credential, and "avedge
// --help" for the rest.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "avedge:", err)
		os.Exit(1)
	}
}
