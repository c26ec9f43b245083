// Command avedge is the avedge A/V edge: a STUN/TURN media relay with a
// built-in credential scheme. Run "avedge serve" for a development edge on
// loopback, "avedge creds issue --user NAME" for a credential, and "avedge
// --help" for the rest.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "avedge:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is the exit status err asks for: 0 for nil, 1 by default, or
// the code the error names for itself (probe: 2 for a usage error).
func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return 1
}
