package fix

import (
	"testing"
	"time"
)

// PollUntil checks ok every millisecond until it holds, and fails the
// test after within. Exported from a test file of package fix so that the
// fix_test package's tests use the same one (waitFor, waitForLong).
func PollUntil(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(time.Millisecond)
	}
}
