package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
)

// TestMain lets tests run dsctl as a real process: the test binary re-executed
// with QUIVER_DSCTL_MAIN=1 behaves as dsctl.
func TestMain(m *testing.M) {
	if os.Getenv("QUIVER_DSCTL_MAIN") == "1" {
		os.Exit(Main(context.Background()))
	}
	os.Exit(m.Run())
}

// dsctlCommand returns a command running dsctl with args in a separate
// process, with the test's environment.
func dsctlCommand(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "QUIVER_DSCTL_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}
