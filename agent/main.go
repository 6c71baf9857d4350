// Command lockstep-agent is the Lockstep sync agent daemon.
package main

import (
	"os"

	"github.com/lockstep-sync/lockstep/agent/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
